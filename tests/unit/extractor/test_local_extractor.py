"""Behaviour of the local CPU extractor on good and hostile input (models load from wheels, offline)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from extractor.local import LocalExtractor
from extractor.local.colors import dominant_colors, name_color
from extractor.local.quality import PhotoPrint, image_notes
from extractor.models import ProductInput


def _jpeg(image: Image.Image, **kw: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "JPEG", **kw)
    return buf.getvalue()


def _shirt(color: tuple[int, int, int], size: int = 400) -> Image.Image:
    image = Image.new("RGB", (size, int(size * 1.2)), (250, 250, 250))
    draw = ImageDraw.Draw(image)
    draw.polygon([(80, 80), (320, 80), (380, 160), (320, 180), (320, 440), (80, 440), (80, 180), (20, 160)],
                 fill=color)
    return image


@pytest.fixture(scope="module")
def extractor() -> LocalExtractor:
    return LocalExtractor()


def test_colors_from_pixels() -> None:
    assert dominant_colors(_shirt((200, 20, 20)))[0].name == "Red"
    assert dominant_colors(_shirt((20, 20, 20)))[0].name == "Black"
    assert dominant_colors(_shirt((30, 60, 200)))[0].name == "Blue"
    assert name_color((245, 245, 245)) == "White"
    assert name_color((128, 128, 128)) == "Gray"


def _waist_down(shorts: tuple[int, int, int]) -> Image.Image:
    """A bottom shot from the waist down: the figure is cut by the top edge, short shorts, long bare legs
    in a skin tone that sits just outside the skin rules (shaded skin), shoes at the bottom."""
    image = Image.new("RGB", (300, 400), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle([90, 0, 210, 110], fill=shorts)
    draw.rectangle([95, 110, 145, 360], fill=(150, 100, 85))
    draw.rectangle([155, 110, 205, 360], fill=(150, 100, 85))
    draw.rectangle([85, 360, 215, 390], fill=(240, 240, 240))
    return image


def test_a_figure_cut_at_the_waist_finds_the_shorts_at_the_top() -> None:
    # Full-figure bands would look at the knees here; the cut tells the shot starts at the waist.
    assert dominant_colors(_waist_down((30, 60, 200)), "shorts")[0].name == "Blue"
    assert dominant_colors(_waist_down((20, 140, 60)), "bottom")[0].name == "Green"

def test_quality_notes() -> None:
    small = _shirt((200, 20, 20), size=120)
    issues = {n.issue for n in image_notes(0, small, small.size, [])}
    assert "too_small" in issues
    blank = Image.new("RGB", (400, 400), (255, 255, 255))
    assert {n.issue for n in image_notes(0, blank, blank.size, [])} == {"near_blank"}
    checks = (np.indices((400, 400)).sum(0) // 40 % 2 * 200 + 20).astype(np.uint8)
    textured = Image.fromarray(np.stack([checks] * 3, -1))
    blurred = textured.filter(ImageFilter.GaussianBlur(12))
    assert "blurred" in {n.issue for n in image_notes(0, blurred, blurred.size, [])}
    assert "blurred" not in {n.issue for n in image_notes(0, textured, textured.size, [])}
    hashes: list[PhotoPrint] = []
    image_notes(0, textured, textured.size, hashes)
    assert "duplicate" in {n.issue for n in image_notes(1, textured.copy(), textured.size, hashes)}


def test_text_category_attributes_and_drop(extractor: LocalExtractor) -> None:
    [ex] = extractor.extract([ProductInput(
        title="Men's black cotton hoodie", description="<p>A warm <b>hooded</b> sweatshirt.</p>",
        images=[_jpeg(_shirt((20, 20, 20)))], attributes={"material": ["Wool"], "gender": ["Men"]})])
    assert ex.category is not None and "Hoodies" in ex.category.full_name
    assert 0 <= ex.category.confidence <= 1 and ex.alternatives
    attrs = {a.handle: a for a in ex.attributes}
    assert {v.value for v in attrs["color"].values} >= {"color__black"}
    # merchant wins on conflict: the text says cotton, the merchant says wool
    assert [v.value for v in attrs["fabric"].values] == ["fabric__wool"]
    assert attrs["fabric"].values[0].source == "merchant"
    allowed = set(extractor.taxonomy.category(ex.category.id).attribute_handles)
    assert {a.handle for a in ex.attributes} <= allowed
    assert ex.dropped_values > 0  # e.g. footwear-material__cotton does not belong to hoodies
    assert ex.description == "A warm hooded sweatshirt."
    assert ex.errors == []


def test_a_one_colour_garment_is_solid_and_a_colour_blocked_one_is_not(extractor: LocalExtractor) -> None:
    blocked = _shirt((30, 60, 200))
    ImageDraw.Draw(blocked).rectangle([80, 80, 200, 440], fill=(230, 200, 20))
    solid, two_tone = extractor.extract([ProductInput(title="Men's hoodie", images=[_jpeg(image)])
                                         for image in (_shirt((30, 60, 200)), blocked)])
    patterns = [{v.value: v.source for a in ex.attributes if a.handle == "pattern" for v in a.values}
                for ex in (solid, two_tone)]
    assert patterns == [{"pattern__solid": "image"}, {}]


def _bad_images() -> dict[str, bytes]:
    good = _jpeg(_shirt((30, 60, 200)))
    cmyk = io.BytesIO()
    _shirt((30, 60, 200)).convert("CMYK").save(cmyk, "JPEG")
    sixteen = io.BytesIO()
    Image.fromarray((np.linspace(0, 65535, 300 * 300).reshape(300, 300)).astype(np.uint16)).save(sixteen, "PNG")
    alpha = io.BytesIO()
    rgba = _shirt((30, 160, 40)).convert("RGBA")
    rgba.putalpha(200)
    rgba.save(alpha, "PNG")
    bomb = io.BytesIO()
    Image.new("1", (20_000, 20_000)).save(bomb, "PNG")
    return {"truncated": good[: len(good) // 2], "not_image": b"%PDF-1.4 hello", "empty": b"",
            "bomb": bomb.getvalue(), "cmyk": cmyk.getvalue(), "sixteen_bit": sixteen.getvalue(),
            "alpha": alpha.getvalue()}


def test_bad_input_never_fails_the_batch(extractor: LocalExtractor) -> None:
    bad = _bad_images()
    products = [ProductInput(product_id=k, title="Blue t-shirt", images=[v]) for k, v in bad.items()]
    products += [ProductInput(product_id="no_images", title="Blue t-shirt"),
                 ProductInput(product_id="empty_title", title="", images=[_jpeg(_shirt((30, 60, 200)))]),
                 ProductInput(product_id="nothing"),
                 ProductInput(product_id="missing_file", title="Tee", images=["/nonexistent/x.jpg"])]
    out = extractor.extract(products)
    assert len(out) == len(products)
    by_id = {p.product_id: ex for p, ex in zip(products, out, strict=True)}
    for key in ("truncated", "not_image", "empty", "bomb", "missing_file"):
        ex = by_id[key]
        assert ex.errors and ex.errors[0].startswith("image 0"), key
        assert any(n.issue == "unreadable" for n in ex.image_notes)
        assert ex.category is not None  # partial: the title still categorises
    assert "pixel limit" in by_id["bomb"].errors[0] or "bomb" in by_id["bomb"].errors[0]
    for key in ("cmyk", "sixteen_bit", "alpha", "no_images"):
        assert by_id[key].errors == [], (key, by_id[key].errors)
        assert by_id[key].category is not None
    assert "empty title" in by_id["empty_title"].errors
    # no text: the category comes from the image alone, or is left out (a synthetic drawing may not map)
    assert by_id["nothing"].category is None and by_id["nothing"].errors


def test_text_safety_flag(extractor: LocalExtractor) -> None:
    [ex] = extractor.extract([ProductInput(title="Tactical rifle scope and ammunition box")])
    assert ex.safety.flagged and "weapons" in ex.safety.reasons
    [ok] = extractor.extract([ProductInput(title="Cotton t-shirt", images=[_jpeg(_shirt((200, 20, 20)))])])
    assert not ok.safety.flagged


def test_batch_matches_single(extractor: LocalExtractor) -> None:
    products = [ProductInput(title=t, images=[_jpeg(_shirt(c))]) for t, c in
                [("Red tee", (200, 20, 20)), ("Leather backpack", (90, 60, 30)), ("Yoga pants", (20, 20, 20))]]
    batch = extractor.extract(products)
    single = [extractor.extract([p])[0] for p in products]
    assert [b.category.id for b in batch] == [s.category.id for s in single]


def test_colour_reading_features_cover_every_name_the_rules_give() -> None:
    from extractor.local.colors import COLOR_FEATURES, FEATURE_NAMES, _palette, read_colors

    assert set(_palette()[1]) | {"Pink"} <= set(FEATURE_NAMES)
    reading = read_colors(_shirt((30, 60, 200)))
    assert reading.features.shape == (COLOR_FEATURES,)
    histogram, shares = reading.features[:-len(FEATURE_NAMES)], reading.features[-len(FEATURE_NAMES):]
    assert histogram.sum() == pytest.approx(1.0) and shares.sum() == pytest.approx(1.0)
    assert FEATURE_NAMES[int(shares.argmax())] == "Blue" == reading.guesses[0].name
    assert dominant_colors(_shirt((30, 60, 200))) == reading.guesses
