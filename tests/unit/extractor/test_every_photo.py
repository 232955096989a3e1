"""Every photo of a product is read: duplicates are the same picture (colour included), each photo gives the
product a colour, variant photos give their variant's colour, and the merchant's named colour wins."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from extractor.local import LocalExtractor
from extractor.local.colors import ColorGuess, ColorReading
from extractor.local.extractor import MAX_IMAGES, decode_photo
from extractor.local.product_colors import PhotoColors, color_hits, variant_colors
from extractor.local.quality import image_notes
from extractor.models import ProductInput, VariantPhoto
from indexer.importers import fixture_path
from taxonomy import Taxonomy

HOODIE = fixture_path() / "images" / "m" / "h"  # MH01 Chaz Kangeroo Hoodie: Black, Gray, Orange
PHOTOS = [str(HOODIE / f"mh01-{color}_main.jpg") for color in ("black", "gray", "orange")]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def extractor() -> LocalExtractor:
    return LocalExtractor()


def _jpeg(image: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def _duplicate(first: str | bytes, second: str | bytes) -> bool:
    seen: list = []
    for index, source in enumerate((first, second)):
        image, original = decode_photo(source)
        notes = image_notes(index, image, original, seen)
    return any(n.issue == "duplicate" for n in notes)


def test_another_colour_of_the_same_garment_is_not_a_duplicate() -> None:
    assert not _duplicate(PHOTOS[0], PHOTOS[2])
    # The same model and pose: the grey-level shape alone would call them one picture.
    assert not _duplicate(str(fixture_path() / "images/w/s/wsh10-black_main.jpg"),
                          str(fixture_path() / "images/w/s/wsh10-orange_main.jpg"))


def test_a_resized_re_encoded_copy_is_a_duplicate() -> None:
    original = Image.open(PHOTOS[2]).convert("RGB")
    copy = original.resize((original.width * 3 // 5, original.height * 3 // 5), Image.Resampling.BILINEAR)
    assert _duplicate(PHOTOS[2], _jpeg(copy, quality=70))


def _photo(image: int, *colors: tuple[str, float]) -> PhotoColors:
    guesses = tuple(ColorGuess(name, f"color__{name.lower()}", share) for name, share in colors)
    return PhotoColors(image, ColorReading(list(guesses), np.zeros(1, dtype=np.float32)), guesses)


def _colors(hits) -> dict[str, tuple[float, str]]:
    return {h.name: (h.confidence, h.source) for h in hits if h.attribute == "color"}


def test_each_photo_gives_its_main_colour_not_its_trim(taxonomy: Taxonomy) -> None:
    hits = color_hits(taxonomy, [_photo(0, ("Red", 0.8), ("White", 0.2)), _photo(1, ("Blue", 0.9)),
                                 _photo(2, ("Red", 0.6), ("Black", 0.4))], {})
    found = _colors(hits)
    assert set(found) == {"Red", "Blue"}
    assert found["Red"] == (round(0.5 + 0.45 * 0.8, 4), "image")  # its best photo
    assert not any(h.attribute == "pattern" for h in hits)  # two photos have a second colour


def test_solid_when_every_photo_is_one_colour(taxonomy: Taxonomy) -> None:
    hits = color_hits(taxonomy, [_photo(0, ("Red", 0.9)), _photo(1, ("Blue", 0.7))], {})
    assert [(h.value, h.confidence) for h in hits if h.attribute == "pattern"] == [
        ("pattern__solid", round(0.5 + 0.45 * 0.7, 4))]


def test_a_colour_every_variant_photo_shows_is_the_garment_s_not_the_variant_s(taxonomy: Taxonomy) -> None:
    # Gray sleeves on every variant; the body colour tells the variants apart.
    photos = [_photo(0, ("Gray", 0.55), ("Black", 0.45)), _photo(1, ("Gray", 1.0)),
              _photo(2, ("Gray", 0.5), ("Orange", 0.5))]
    assert set(_colors(color_hits(taxonomy, photos, {}, frozenset({0, 1, 2})))) == {"Black", "Gray", "Orange"}
    # Photos not known to be variants (views of one variant) keep their main colour.
    assert set(_colors(color_hits(taxonomy, photos, {}))) == {"Gray"}


def test_the_merchant_s_colour_names_its_variant_photo(taxonomy: Taxonomy) -> None:
    product = ProductInput(images=PHOTOS, variant_photos=[
        VariantPhoto(image=2, options={"size": "M", "color": "Rust"}), VariantPhoto(image=1, options={"size": "M"})])
    named = variant_colors(taxonomy, product)
    assert list(named) == [2] and named[2].source == "merchant" and named[2].attribute == "color"
    hits = color_hits(taxonomy, [_photo(1, ("Gray", 1.0)), _photo(2, ("Orange", 0.9))], named)
    assert _colors(hits) == {named[2].name: (named[2].confidence, "merchant"), "Gray": (0.95, "image")}


def test_a_variant_photo_must_be_one_of_the_images() -> None:
    with pytest.raises(ValueError, match="not one of the 1 images"):
        ProductInput(images=["/a.jpg"], variant_photos=[VariantPhoto(image=1)])


def test_every_variant_photo_of_a_bare_product_gives_its_colour(extractor: LocalExtractor) -> None:
    [ex] = extractor.extract([ProductInput(title="Chaz Kangeroo Hoodie", images=PHOTOS, variant_photos=[
        VariantPhoto(image=i) for i in range(3)])])
    colors = next(a for a in ex.attributes if a.handle == "color").values
    assert {v.name for v in colors} == {"Black", "Gray", "Orange"}
    assert {v.source for v in colors} == {"image"}
    assert not any(n.issue == "duplicate" for n in ex.image_notes)


def test_the_merchant_s_variant_colour_wins(extractor: LocalExtractor) -> None:
    [ex] = extractor.extract([ProductInput(title="Chaz Kangeroo Hoodie", images=PHOTOS, variant_photos=[
        VariantPhoto(image=2, options={"color": "Red"})])])
    colors = next(a for a in ex.attributes if a.handle == "color").values
    assert [(v.name, v.source) for v in colors] == [("Red", "merchant")]


def _shirt(color: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (400, 480), (250, 250, 250))
    ImageDraw.Draw(image).polygon([(80, 80), (320, 80), (380, 160), (320, 180), (320, 440), (80, 440),
                                   (80, 180), (20, 160)], fill=color)
    return _jpeg(image)


def test_a_dozen_photos_are_all_read(extractor: LocalExtractor) -> None:
    assert MAX_IMAGES >= 12
    palette = [(200, 20, 20), (20, 20, 20), (20, 140, 60), (240, 220, 30), (120, 40, 160), (240, 120, 20),
               (200, 20, 20), (20, 20, 20), (20, 140, 60), (240, 220, 30), (120, 40, 160), (30, 60, 200)]
    # Shirts of one colour differ only in a stripe, so none is a duplicate; the twelfth is the only blue one.
    photos = []
    for i, color in enumerate(palette):
        image = Image.open(io.BytesIO(_shirt(color)))
        ImageDraw.Draw(image).rectangle([90 + 18 * i, 400, 104 + 18 * i, 430], fill=(250, 250, 250))
        photos.append(_jpeg(image))
    [ex] = extractor.extract([ProductInput(title="T-shirt", images=photos)])
    assert not any(n.issue == "duplicate" for n in ex.image_notes)
    colors = {v.name for a in ex.attributes if a.handle == "color" for v in a.values}
    assert "Blue" in colors and len(colors) >= 6
    assert any(v.value == "pattern__solid" for a in ex.attributes for v in a.values)


def test_a_lit_and_shaded_white_garment_is_white(taxonomy: Taxonomy) -> None:
    assert set(_colors(color_hits(taxonomy, [_photo(0, ("Gray", 0.6), ("White", 0.4))], {}))) == {"White"}
    assert set(_colors(color_hits(taxonomy, [_photo(0, ("Gray", 0.8), ("White", 0.2))], {}))) == {"Gray"}


def test_each_colour_says_which_photo_shows_it(taxonomy: Taxonomy) -> None:
    product = ProductInput(images=PHOTOS, variant_photos=[VariantPhoto(image=2, options={"color": "Rust"})])
    named = variant_colors(taxonomy, product)
    hits = color_hits(taxonomy, [_photo(0, ("Black", 0.9)), _photo(1, ("Gray", 1.0)), _photo(2, ("Orange", 0.9))],
                      named)
    assert {h.name: h.image for h in hits if h.attribute == "color"} == {"Black": 0, "Gray": 1, named[2].name: 2}
