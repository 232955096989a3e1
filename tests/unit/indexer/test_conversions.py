"""Store products to extractor inputs: which images are variant photos, and what each shows."""

from indexer.conversions import extraction_input
from indexer.models import Product, Variant


def test_each_variant_photo_is_passed_once_with_the_options_its_variants_share():
    product = Product(store="s", product_id="tee", images=["/main.jpg", "/red.jpg", "/blue.jpg"], variants=[
        Variant(sku="r-s", options={"color": "Red", "size": "S"}, image="/red.jpg"),
        Variant(sku="r-m", options={"color": "Red", "size": "M"}, image="/red.jpg"),
        Variant(sku="b-s", options={"color": "Blue", "size": "S"}, image="/blue.jpg"),
        Variant(sku="b-m", options={"color": "Blue", "size": "M"}),
    ])
    photos = extraction_input(product).variant_photos
    assert [(p.image, p.options) for p in photos] == [(1, {"color": "Red"}), (2, {"color": "Blue", "size": "S"})]


def test_a_product_without_variant_photos_has_none():
    product = Product(store="s", product_id="mug", images=["/mug.jpg"], variants=[Variant(sku="m")])
    assert extraction_input(product).variant_photos == []
