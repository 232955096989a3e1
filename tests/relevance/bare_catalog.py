"""A bare catalog made from the bundled fixture, and colour + kind queries judged from the merchant's data.

The bare catalog is what a store that gives only titles and photos uploads: a Shopify product CSV with
Handle, Title, Image Src and Variant Image, one row per colour variant, each row that variant's photo under
a meaningless file name (`p0001.jpg`). No option names or values, attributes, categories, descriptions or
colour words anywhere: every colour must be read from the pixels.

The judgments come from the merchant's own data of the fixture (as the Magento importer reads it), one
rule for every query: a product is relevant (2) when the merchant files it under the query's kind and sells
it in the query's colour; everything else is 0. Usage (prints the queries and their judgments):

    python -m tests.relevance.bare_catalog
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from extractor.datasets.splits import is_held_out
from indexer.importers import fixture_path, read_products
from indexer.models import Product

COLUMNS = ("Handle", "Title", "Image Src", "Variant Image")
RELEVANT = 2
MIN_RELEVANT = 2  # a query needs this many relevant products (one is a lookup, not a ranking)


@dataclass(frozen=True)
class MerchantTruth:
    """What the merchant says about one product: its handle in the bare catalog, its title, the photo of
    each colour it sells, and its own category path and style words."""

    handle: str
    title: str
    photos: tuple[tuple[str, str | None], ...]  # (photo path, merchant colour or None)
    category: str
    styles: frozenset[str]

    @property
    def colors(self) -> frozenset[str]:
        return frozenset(c for _, c in self.photos if c)

    @property
    def leaf(self) -> str:
        return self.category.rsplit("/", 1)[-1]


def _style(*styles: str) -> Callable[[MerchantTruth], bool]:
    return lambda p: p.leaf == "Bras & Tanks" and bool(p.styles & set(styles))


# Query word -> rule over the merchant's category (and its style words where one category holds two kinds).
KINDS: dict[str, Callable[[MerchantTruth], bool]] = {
    "tee": lambda p: p.leaf == "Tees",
    "hoodie": lambda p: p.leaf == "Hoodies & Sweatshirts",
    "jacket": lambda p: p.leaf == "Jackets",
    "shorts": lambda p: p.leaf == "Shorts",
    "pants": lambda p: p.leaf == "Pants",
    "tank": lambda p: p.leaf == "Tanks" or _style("Tank")(p),
    "bra": _style("Bra"),
}


def merchant_truth(product: Product) -> MerchantTruth:
    """One photo per colour the merchant sells (the first variant photo of each colour); a product without
    colour variants keeps its own photos, with no colour."""
    photos: dict[str, tuple[str, str | None]] = {}
    for variant in product.variants:
        color = variant.options.get("color")
        if variant.image and color and color not in photos:
            photos[color] = (variant.image, color)
    found = tuple(photos.values()) or tuple((image, None) for image in product.images)
    return MerchantTruth(handle=product.product_id.lower(), title=product.title, photos=found,
                         category=product.merchant_category or "",
                         styles=frozenset(product.attributes.get("style_general", [])))


def fixture_truth() -> list[MerchantTruth]:
    return [merchant_truth(p) for p in read_products("bare", fixture_path())]


def write_bare_csv(products: Iterable[MerchantTruth], folder: Path) -> Path:
    """products.csv and its photos (`p0001.jpg`, ...) in `folder`; the CSV's path."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    n = 0
    for product in products:
        for i, (photo, color) in enumerate(product.photos):
            n += 1
            name = f"p{n:04d}{Path(photo).suffix.lower()}"
            shutil.copyfile(photo, folder / name)
            # A colour variant's row names its photo as the Variant Image; a product without variants only
            # lists its photos.
            rows.append({"Handle": product.handle, "Title": product.title if i == 0 else "",
                         "Image Src": name, "Variant Image": name if color else ""})
    path = folder / "products.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def colour_kind_queries(products: list[MerchantTruth]) -> list[dict]:
    """Every "<colour> <kind>" query with at least MIN_RELEVANT relevant products, judged by the rule."""
    colors = sorted({c for p in products for c in p.colors})
    queries = []
    for kind, is_kind in KINDS.items():
        for color in colors:
            judged = {p.handle: RELEVANT for p in products if is_kind(p) and color in p.colors}
            if len(judged) >= MIN_RELEVANT:
                query = f"{color.lower()} {kind}"
                queries.append({"query": query, "judgments": judged,
                                "half": "held-out" if is_held_out(query) else "development"})
    return queries


if __name__ == "__main__":
    found = colour_kind_queries(fixture_truth())
    for item in found:
        print(f"{item['query']:<16} {item['half']:<12} {' '.join(sorted(item['judgments']))}")
    print(f"{len(found)} queries")
