from indexer.conversions import variant_color_photos
from indexer.models import Product, Variant
from indexer.training import merchant_labels
from taxonomy import Taxonomy


def test_merchant_labels_keep_taxonomy_values_and_given_category_only():
    product = Product(store="s", product_id="p", title="Tee", merchant_category="Men/Tops/Tees",
                      merchant_category_id="aa-1-13-8", attributes={"activity": ["Zzyzx league"]},
                      variants=[Variant(sku="p-1", options={"color": "Grey", "size": "XL"})])
    labels = merchant_labels(product, Taxonomy.load())
    assert labels["category"] == "aa-1-13-8"
    assert labels["values"]["color"] == ["color__gray"]
    assert labels["values"]["target-gender"] == ["target-gender__male"]
    assert "activity" not in labels["values"]  # a store-specific value is no taxonomy label


def test_unknown_merchant_category_id_is_not_a_label():
    product = Product(store="s", product_id="p", title="x", merchant_category_id="zz-99")
    assert merchant_labels(product, Taxonomy.load())["category"] is None


def test_variant_photos_with_a_named_colour_are_colour_labels():
    product = Product(store="s", product_id="p", title="Hoodie", images=["/a.jpg", "/b.jpg", "/c.jpg"], variants=[
        Variant(sku="p-1", options={"Color": "Grey", "size": "S"}, image="/a.jpg"),
        Variant(sku="p-2", options={"Color": "Grey", "size": "M"}, image="/a.jpg"),  # one label per photo
        Variant(sku="p-3", options={"Color": "Zzyzx", "size": "S"}, image="/b.jpg"),  # no taxonomy colour
        Variant(sku="p-4", options={"Color": "Black", "size": "S"}),  # no photo
    ])
    taxonomy = Taxonomy.load()
    assert variant_color_photos(product, taxonomy) == [("/a.jpg", "color__gray")]
    placed = merchant_labels(product, taxonomy, extracted_category="aa-1-13-13")  # Hoodies: a top
    assert placed["color_photos"] == [{"image": "/a.jpg", "value": "color__gray", "region": "top"}]
    assert merchant_labels(product, taxonomy)["color_photos"][0]["region"] == "full"
