"""The shipped category embeddings: built for the bundled taxonomy, loaded without running the text model, and
rebuilt into the cache (never silently reused) when the taxonomy or the description rule changes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from extractor.embeddings import DIM, MODEL_NAME
from extractor.local import category_embeddings as ce
from extractor.local.category import CategoryIndex
from taxonomy import Taxonomy


class CountingEmbedder:
    """Stands in for MiniLM: counts what it is asked to embed."""

    name, dim = MODEL_NAME, DIM

    def __init__(self) -> None:
        self.calls: list[int] = []

    def embed(self, texts, batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        rng = np.random.default_rng(len(texts))
        vectors = rng.normal(size=(len(texts), DIM)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


@pytest.fixture
def embedder(monkeypatch) -> CountingEmbedder:
    fake = CountingEmbedder()
    monkeypatch.setattr("extractor.embeddings.get_text_embedder", lambda: fake)
    return fake


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


def test_the_shipped_file_is_built_for_the_bundled_taxonomy(taxonomy):
    names = ce.descriptions(taxonomy)
    key = ce.read_key(ce.shipped_path())
    assert key == ce.key_for(taxonomy, names, MODEL_NAME, DIM)
    assert key.count == len(taxonomy.categories) == 10_595 and key.dim == 384
    assert key.taxonomy_version == taxonomy.version


def test_the_shipped_file_loads_without_the_text_model(taxonomy, embedder, tmp_path):
    index = CategoryIndex(taxonomy, cache_dir=tmp_path)
    assert embedder.calls == []  # nothing embedded: not one category
    assert index.matrix.shape == (10_595, 384) and index.matrix.dtype == np.float32
    assert not list(tmp_path.iterdir())  # and nothing written to the cache
    norms = np.linalg.norm(index.matrix, axis=1)
    assert np.allclose(norms, 1.0, atol=0.01)  # the int8 rows decode to MiniLM's unit vectors


def test_a_changed_description_rule_is_detected_and_built_into_the_cache(taxonomy, embedder, tmp_path, monkeypatch,
                                                                         caplog):
    monkeypatch.setattr(ce, "describe", lambda tax, cid: tax.category(cid).full_name)
    with caplog.at_level(logging.WARNING, logger="extractor.local"):
        index = CategoryIndex(taxonomy, cache_dir=tmp_path)
    assert embedder.calls == [10_595]
    assert "rebuild them with scripts/build_category_embeddings.py" in caplog.text
    cached = list(tmp_path.glob("category-embeddings-*.npy"))
    assert len(cached) == 1 and np.load(cached[0]).shape == (10_595, 384)
    CategoryIndex(taxonomy, cache_dir=tmp_path)  # the next start reads the cache
    assert embedder.calls == [10_595]
    assert index.matrix.shape == (10_595, 384)


def test_save_and_load_round_trip_within_int8_precision(taxonomy, tmp_path):
    rng = np.random.default_rng(0)
    matrix = rng.normal(size=(50, 8)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    key = ce.EmbeddingKey("v1", "abc", MODEL_NAME, 50, 8)
    path = tmp_path / "e.npz"
    ce.save(path, matrix, key)
    first = path.read_bytes()
    ce.save(path, matrix, key)
    assert path.read_bytes() == first  # byte-identical: a rebuild of the same matrix changes nothing in git
    loaded = ce.load(path, key)
    assert loaded is not None and np.abs(loaded - matrix).max() <= np.abs(matrix).max() / 127
    assert ce.load(path, ce.EmbeddingKey("v2", "abc", MODEL_NAME, 50, 8)) is None  # another taxonomy version
    assert ce.load(tmp_path / "missing.npz", key) is None
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    assert ce.load(tmp_path / "bad.npz", key) is None
    with pytest.raises(ValueError):
        ce.save(path, matrix[:10], key)
