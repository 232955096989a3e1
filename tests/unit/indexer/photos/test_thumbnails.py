"""Thumbnails of product photos: small, aspect kept, made once per version of the file, never half-written."""

from __future__ import annotations

import os
from io import BytesIO

import pytest
from PIL import Image

from extractor.images import ImageError
from indexer.importers import fixture_path
from indexer.photos.thumbnails import make_thumbnail, thumbnail, thumbnail_path

PHOTO = fixture_path() / "images" / "m" / "h" / "mh07-gray_main.jpg"


def test_a_thumbnail_keeps_the_aspect_and_never_enlarges():
    wide = BytesIO()
    Image.new("RGB", (1200, 600), (200, 30, 30)).save(wide, "PNG")
    assert Image.open(BytesIO(make_thumbnail(wide.getvalue()))).size == (480, 240)
    small = BytesIO()
    Image.new("RGB", (100, 80), (0, 0, 0)).save(small, "JPEG")
    assert Image.open(BytesIO(make_thumbnail(small.getvalue()))).size == (100, 80)


def test_bad_input_is_an_image_error():
    with pytest.raises(ImageError):
        make_thumbnail(b"not an image")
    with pytest.raises(ImageError):
        make_thumbnail(PHOTO.read_bytes()[:400])  # truncated


def test_made_once_per_version_of_the_file(tmp_path):
    source = tmp_path / "photo.jpg"
    source.write_bytes(PHOTO.read_bytes())
    first = thumbnail(tmp_path, source, source.stat())
    made = first.stat().st_mtime_ns
    assert thumbnail(tmp_path, source, source.stat()) == first and first.stat().st_mtime_ns == made
    os.utime(source, ns=(made + 10**9, made + 10**9))  # the merchant replaced the photo
    assert thumbnail_path(tmp_path, source, source.stat()) != first
    assert not list(tmp_path.rglob("*.tmp"))
