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
