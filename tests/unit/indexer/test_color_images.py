"""A document knows the photo of each colour its product comes in, so a colour search can show it."""

from __future__ import annotations

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer.conversions import build_document
from indexer.models import Product, Variant
from taxonomy import Taxonomy


def _value(taxonomy: Taxonomy, name: str, image: int | None) -> ExtractedValue:
    found = taxonomy.match_value("color", name)[0]
    return ExtractedValue(value=found.value_handle, value_id=found.value_id, name=found.name, confidence=0.9,
                          source="image", image=image)


def _extraction(taxonomy: Taxonomy, values: list[ExtractedValue]) -> Extraction:
    category = taxonomy.category(sorted(taxonomy.categories)[100])
    return Extraction(
        category=CategoryGuess(id=category.id, name=category.name, full_name=category.full_name, confidence=0.9),
        attributes=[ExtractedAttribute(handle="color", name="Color", values=values)],
        extractor="local", extractor_version="7", taxonomy_version=taxonomy.version)


def test_the_merchant_s_variant_photos_then_the_photos_colours_were_read_from():
    taxonomy = Taxonomy.load()
    product = Product(store="s", product_id="tee", images=["/main.jpg", "/red.jpg", "/blue.jpg"], variants=[
        Variant(sku="r", options={"color": "Red"}, image="/red.jpg"),
        Variant(sku="b", options={"color": "Blue"}, image="/blue.jpg"),
    ])
    assert build_document(product, None, taxonomy).color_images == {"color__red": (1, "/red.jpg"),
                                                                    "color__blue": (2, "/blue.jpg")}
    bare = Product(store="s", product_id="tee", images=["/a.jpg", "/b.jpg"])
    read = _extraction(taxonomy, [_value(taxonomy, "Green", 1), _value(taxonomy, "Black", None),
                                  _value(taxonomy, "Yellow", 7)])  # 7: no such image
    assert build_document(bare, read, taxonomy).color_images == {"color__green": (1, "/b.jpg")}
