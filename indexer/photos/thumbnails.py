"""Small copies of product photos for result cards, made once and kept in CATALOG_HOME/thumbnails.

A result card is at most a few hundred CSS pixels wide, and the photos are the merchant's originals (a Luma
photo is about 250 KB). Each thumbnail is keyed by the source file's path, size and modification time, so a
replaced photo gets a new one and an unchanged one is never made twice. It is written to a temporary file
and renamed, so a crash never leaves half a file to be served.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from PIL import Image

from extractor.images import decode_image

THUMBNAIL_SIDE = 480  # covers a 240 CSS-pixel card on a 2x screen
QUALITY = 80  # WebP quality: 480 px photos of about 20-30 KB


def thumbnail_path(home: Path, source: Path, stat: os.stat_result, side: int = THUMBNAIL_SIDE) -> Path:
    key = hashlib.sha256(f"{source}\0{stat.st_size}\0{stat.st_mtime_ns}\0{side}".encode()).hexdigest()
    return Path(home) / "thumbnails" / key[:2] / f"{key}.webp"


def make_thumbnail(data: bytes, side: int = THUMBNAIL_SIDE) -> bytes:
    """A WebP no larger than side x side, aspect kept (never enlarged). Raises ImageError on bad input."""
    image = decode_image(data, draft_size=(side, side))
    image.thumbnail((side, side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "WEBP", quality=QUALITY, method=4)
    return out.getvalue()


def thumbnail(home: Path, source: Path, stat: os.stat_result, side: int = THUMBNAIL_SIDE) -> Path:
    """The thumbnail of `source` (a readable image file), made now if it is not there yet."""
    path = thumbnail_path(home, source, stat, side)
    if path.exists():
        return path
    data = make_thumbnail(source.read_bytes(), side)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two requests for one photo may make it at once: each writes its own file, the last rename wins.
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(data)
    os.replace(tmp.name, path)
    return path
