"""The taxonomy's category embeddings, precomputed and shipped as package data.

Embedding the 10,595 category descriptions with MiniLM takes about a minute on two cores, so it happens once,
at build time (`scripts/build_category_embeddings.py`), never in a request. The shipped file holds int8
vectors with one float32 scale per row (a quarter of float32's size; the ranking it gives is measured by the
build script) and the key it was built for: taxonomy version, a digest of the descriptions and the model
name, the row count and the dimension. A taxonomy or description rule that no longer matches the key is
detected on load, and the caller falls back to building into its cache.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import IO

import numpy as np

from taxonomy import Taxonomy

log = logging.getLogger(__name__)

SHIPPED_NAME = "category_embeddings.npz"
FORMAT = "int8-row-scale/1"
INT8_MAX = 127


@dataclass(frozen=True)
class EmbeddingKey:
    """What a category embedding matrix was computed from; two matrices with equal keys are the same."""

    taxonomy_version: str
    digest: str  # of the descriptions, in row order, and the model name
    model: str
    count: int
    dim: int


def describe(taxonomy: Taxonomy, cid: str) -> str:
    """The text embedded for a category. The leaf name first: it is what a listing names; the path only
    disambiguates. Changing this rule changes the digest, so shipped and cached matrices are rebuilt."""
    cat = taxonomy.category(cid)
    return f"{cat.name}. {cat.full_name}"


def category_rows(taxonomy: Taxonomy) -> list[str]:
    """Category ids in matrix row order."""
    return sorted(taxonomy.categories)


def descriptions(taxonomy: Taxonomy) -> list[str]:
    return [describe(taxonomy, cid) for cid in category_rows(taxonomy)]


def key_for(taxonomy: Taxonomy, names: list[str], model: str, dim: int) -> EmbeddingKey:
    digest = hashlib.sha1(("\n".join(names) + model).encode()).hexdigest()[:12]
    return EmbeddingKey(taxonomy.version, digest, model, len(names), dim)


def cache_file_name(key: EmbeddingKey) -> str:
    """The per-machine cache's file name (a float32 .npy) for a matrix the shipped file does not hold."""
    return f"category-embeddings-{key.taxonomy_version}-{key.digest}.npy"


def shipped_path() -> Path:
    return Path(str(resources.files("extractor") / "data" / SHIPPED_NAME))


def encode(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 codes and a float32 scale per row (symmetric, round to nearest). A row's largest component maps
    to +-127, so each row keeps its own precision whatever the spread of the others."""
    matrix = np.asarray(matrix, dtype=np.float32)
    scales = np.abs(matrix).max(axis=1) / INT8_MAX
    scales[scales == 0] = 1.0
    codes = np.clip(np.rint(matrix / scales[:, None]), -INT8_MAX, INT8_MAX).astype(np.int8)
    return codes, scales.astype(np.float32)


def decode(codes: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return codes.astype(np.float32) * scales[:, None].astype(np.float32)


def save(path: Path, matrix: np.ndarray, key: EmbeddingKey) -> None:
    """Write atomically (a reader never sees half a file); compressed, as the repository and wheel carry it."""
    if matrix.shape != (key.count, key.dim):
        raise ValueError(f"matrix shape {matrix.shape} does not match the key's ({key.count}, {key.dim})")
    codes, scales = encode(matrix)
    meta = json.dumps({"format": FORMAT, **asdict(key)}, sort_keys=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write_npz(tmp, codes=codes, scales=scales, meta=np.array(meta))
    os.replace(tmp, path)


def write_npz(path: Path | IO[bytes], **arrays: np.ndarray) -> None:
    """np.savez_compressed with pinned entry dates, so the same arrays give a byte-identical file (numpy's own
    stamps the current time, and a committed file would change on every rebuild)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def read_key(path: Path) -> EmbeddingKey | None:
    """The key a shipped file was built for, or None when it is missing or unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return _key(data)
    except (OSError, ValueError, KeyError):
        return None


def load(path: Path, key: EmbeddingKey) -> np.ndarray | None:
    """The float32 matrix when the file at `path` was built for `key`, else None with a log line that says
    why and how to rebuild it."""
    if not path.exists():
        log.warning("no shipped category embeddings at %s; run scripts/build_category_embeddings.py", path)
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            found = _key(data)
            if found != key:
                log.warning("shipped category embeddings %s were built for %s, this taxonomy needs %s; "
                            "rebuild them with scripts/build_category_embeddings.py", path, found, key)
                return None
            matrix = decode(data["codes"], data["scales"])
    except (OSError, ValueError, KeyError) as exc:
        log.warning("shipped category embeddings %s unreadable (%s)", path, exc)
        return None
    if matrix.shape != (key.count, key.dim):
        log.warning("shipped category embeddings %s have shape %s, expected (%d, %d)", path, matrix.shape,
                    key.count, key.dim)
        return None
    return matrix


def _key(data) -> EmbeddingKey | None:
    meta = json.loads(str(data["meta"]))
    if meta.pop("format", None) != FORMAT:
        return None
    return EmbeddingKey(**meta)
