"""The photo counts for the category: a title that names no product kind does not beat a photo that plainly
shows one (real fixture photos, the real models)."""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.local import LocalExtractor
from extractor.local.category import KIND_SCORE_STRONG, KIND_SCORE_WEAK, kind_strength, vertical_mass
from extractor.models import ProductInput

PHOTOS = Path(__file__).resolve().parents[3] / "indexer" / "data" / "fixture" / "images"
# Titles that say nothing about the product, or name another kind of thing ("kit", "mount", "pack").
SAYS_NOTHING = ["Beaumont Summit Kit", "The Classic", "Pro Mount", "Essential Pack", "Beaumont"]
GARMENTS = ["m/j/mj01-orange_main.jpg", "m/h/mh01-gray_main.jpg", "m/s/ms03-green_main.jpg",
            "m/p/mp01-black_main.jpg", "w/s/wsh02-gray_main.jpg", "w/j/wj05-brown_main.jpg",
            "w/t/wt02-green_main.jpg"]
BAGS = ["m/b/mb01-blue-0.jpg", "m/b/mb03-black-0.jpg"]


@pytest.fixture(scope="module")
def extractor() -> LocalExtractor:
    return LocalExtractor(safety=False)


def _verticals(extractor: LocalExtractor, photos: list[str], titles: list[str]) -> list[str]:
    products = [ProductInput(title=t, images=[str(PHOTOS / p)]) for p in photos for t in titles]
    return [e.category.id.split("-", 1)[0] if e.category else "" for e in extractor.extract(products)]


def test_kind_strength_reads_the_best_category_name_match() -> None:
    assert kind_strength(0.0) == 0.0
    assert kind_strength(KIND_SCORE_WEAK) == 0.0
    assert 0.0 < kind_strength((KIND_SCORE_WEAK + KIND_SCORE_STRONG) / 2) < 1.0
    assert kind_strength(KIND_SCORE_STRONG) == kind_strength(40.0) == 1.0


def test_vertical_mass() -> None:
    evidence = {"aa-1-13-8": 0.4, "aa-1-12": 0.2, "lb-1": 0.1}
    assert vertical_mass(evidence, "aa") == pytest.approx(0.6)
    assert vertical_mass(evidence, None) == 0.0


def test_jacket_photo_beats_a_title_that_names_a_mounting_kit(extractor: LocalExtractor) -> None:
    # The case: it answered "Baby & Toddler > Baby Safety > ... > Mounting Kits".
    product = ProductInput(title="Beaumont Summit Kit", images=[str(PHOTOS / "m/j/mj01-orange_main.jpg")])
    category = extractor.extract([product])[0].category
    assert category is not None
    assert category.full_name.startswith("Apparel & Accessories > Clothing"), category.full_name


def test_garment_and_bag_photos_keep_their_vertical_under_titles_that_say_nothing(extractor: LocalExtractor) -> None:
    garments = _verticals(extractor, GARMENTS, SAYS_NOTHING)
    bags = _verticals(extractor, BAGS, SAYS_NOTHING)
    # Before the photo counted: 14 of these 35 garment listings and 6 of the 10 bag listings kept their vertical.
    assert garments.count("aa") >= 0.9 * len(garments), garments
    assert bags == ["lb"] * len(bags), bags


def test_a_title_that_names_its_kind_still_decides(extractor: LocalExtractor) -> None:
    # The same jacket photo with a title naming another garment: the title's kind wins within Apparel,
    # and a descriptive title of a non-garment is not overruled by a photo the models misread.
    cases = [("Inez Full Zip Jacket", "m/j/mj01-orange_main.jpg", "Coats & Jackets"),
             ("Joust Duffle Bag", "m/b/mb01-blue-0.jpg", "Duffel Bags"),
             ("Sprite Foam Roller", "l/u/luma-foam-roller.jpg", "Foam Rollers")]
    products = [ProductInput(title=t, images=[str(PHOTOS / p)]) for t, p, _ in cases]
    for (_, _, want), extraction in zip(cases, extractor.extract(products), strict=True):
        assert extraction.category is not None and want in extraction.category.full_name, extraction.category
