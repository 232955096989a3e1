"""The merchant-side product model: what it refuses and what its content hash covers."""

import pytest
from pydantic import ValidationError

from indexer.models import Product, Variant


def test_a_variant_image_must_be_one_of_the_product_s_images():
    with pytest.raises(ValidationError, match="not one of the product's images"):
        Product(store="s", product_id="p", images=["/a.jpg"], variants=[Variant(sku="p-1", image="/elsewhere.jpg")])


def test_an_unset_variant_image_keeps_the_content_hash_of_catalogs_hashed_before_it_existed():
    # The hash this product had before variants had an image field: upgrading re-extracts nothing.
    product = Product(store="s", product_id="p", variants=[Variant(sku="a", options={"color": "Red"})])
    assert product.content_hash() == "742caae453c155951987edd0fe0192eda8f23aa01d4432c8ce0e67f854d4c5a6"
    photographed = Product(store="s", product_id="p", images=["/a.jpg"],
                           variants=[Variant(sku="a", options={"color": "Red"}, image="/a.jpg")])
    assert photographed.content_hash() != product.model_copy(update={"images": ["/a.jpg"]}).content_hash()
