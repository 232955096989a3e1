"""Product photos drawn for tests: a shirt of one colour on a studio-white backdrop."""

from __future__ import annotations

import io

from PIL import Image, ImageDraw


def shirt_jpeg(rgb: tuple[int, int, int], jitter: int = 0) -> bytes:
    """A JPEG of a shirt in `rgb`, each channel shifted by `jitter` (photos of one colour never match)."""
    image = Image.new("RGB", (240, 300), (250, 250, 250))
    color = tuple(max(0, min(255, c + jitter)) for c in rgb)
    ImageDraw.Draw(image).polygon([(50, 50), (190, 50), (230, 100), (190, 110), (190, 270), (50, 270), (50, 110),
                                   (10, 100)], fill=color)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=92)
    return buf.getvalue()
