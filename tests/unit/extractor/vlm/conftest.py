"""Fixtures for the VLM backends: the taxonomy, JPEG files made with PIL, and the OpenAI stub server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from taxonomy import Taxonomy
from tests.stubs.openai_stub import OpenAIStub

HOODIE = "aa-1-13-13"  # Apparel & Accessories > Clothing > Clothing Tops > Hoodies


@pytest.fixture(scope="session")
def tax() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture
def make_jpeg(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str = "photo.jpg", size: tuple[int, int] = (1600, 1200),
             color: tuple[int, int, int] = (20, 20, 20)) -> Path:
        path = tmp_path / name
        Image.new("RGB", size, color).save(path, format="JPEG")
        return path

    return make


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server
