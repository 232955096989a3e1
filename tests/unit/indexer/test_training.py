from extractor.models import ProductInput
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


def test_catalog_train_learns_colours_from_variant_photos_and_the_store_s_extractor_uses_them(tmp_path):
    """A store whose merchant has no Pink: its light-red tees are "Red". After `catalog train` the store's
    extractor says Red for a pink photo, where the rules alone say Pink."""
    from extractor.local import LocalExtractor
    from indexer.runtime import extractor_for_store
    from indexer.settings import Settings
    from indexer.store import CatalogStore
    from indexer.training import train_store
    from tests.photos import shirt_jpeg

    colours = [((250, 150, 150), "Red"), ((200, 25, 30), "Red"), ((30, 60, 200), "Blue"), ((20, 20, 20), "Black")]
    products = []
    for i in range(12):
        paths = []
        for j, (rgb, _) in enumerate(colours):
            path = tmp_path / f"tee-{i}-{j}.jpg"
            path.write_bytes(shirt_jpeg(rgb, (i % 5) * 3 - 6))
            paths.append(str(path))
        products.append(Product(store="shop", product_id=f"tee-{i}", title=f"Trail tee {i}", images=paths,
                                variants=[Variant(sku=f"tee-{i}-{j}", options={"color": name}, image=paths[j])
                                          for j, (_, name) in enumerate(colours)]))
    settings = Settings(CATALOG_HOME=tmp_path / "home", DATABASE_URL=None, CELERY_BROKER_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    try:
        catalog.upsert_products(products)
        base = LocalExtractor(safety=False)
        report = train_store(catalog, "shop", settings.catalog_home, Taxonomy.load(), extractor=base)
    finally:
        catalog.close()
    assert report["color_photos"] == 48 and report["colors"] == 3
    assert report["held_out_scores"]["color_accuracy"] == 1.0

    pink = tmp_path / "pink.jpg"
    pink.write_bytes(shirt_jpeg((250, 150, 150)))
    listing = ProductInput(title="Trail tee", images=[str(pink)])

    def first_colour(extractor) -> str:
        [ex] = extractor.extract([listing])
        return next(a.values[0].value for a in ex.attributes if a.handle == "color")

    assert first_colour(base) == "color__pink"
    assert first_colour(extractor_for_store(settings, base, "shop")) == "color__red"
