"""Safe image loading: every image any extractor or endpoint reads goes through here.

Bad input must give a clear error, never a crash or a memory blow-up: a size cap on the bytes, a pixel
cap checked from the header before decoding (decompression bombs), an allow-list of formats, and
normalisation of CMYK / 16-bit / palette / alpha images to 8-bit RGB on white.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 40_000_000  # ~ 7000 x 5700; a 20,000 x 20,000 bomb is refused from its header
ALLOWED_FORMATS = frozenset({"JPEG", "PNG", "WEBP"})
# The indexer fetches http(s) photos into its cache before extraction (indexer/photos); a URL that reaches
# an extractor is one that could not be fetched.
REMOTE_UNREAD = "remote image not available offline"


class ImageError(ValueError):
    """An image that cannot be used, with the reason in the message."""


def read_image_bytes(source: str | Path, *, max_bytes: int = MAX_BYTES) -> bytes:
    """Bytes of a local image file. URLs are not fetched here (no network at extraction time)."""
    text = str(source)
    if text.startswith(("http://", "https://")):
        raise ImageError(f"{REMOTE_UNREAD}: {text}")
    path = Path(text)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImageError(f"cannot read image {text}: {exc.strerror or exc}") from exc
    if size > max_bytes:
        raise ImageError(f"image {path.name} is {size} bytes, over the {max_bytes} byte limit")
    return path.read_bytes()


def decode_image(data: bytes, *, max_bytes: int = MAX_BYTES, max_pixels: int = MAX_PIXELS,
                 draft_size: tuple[int, int] | None = None) -> Image.Image:
    """Decode to 8-bit RGB. `draft_size` lets JPEG decode at a reduced scale (much faster)."""
    if not data:
        raise ImageError("empty image")
    if len(data) > max_bytes:
        raise ImageError(f"image is {len(data)} bytes, over the {max_bytes} byte limit")
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise ImageError("not an image (unrecognised format)") from exc
    except Exception as exc:  # PIL raises a zoo of errors on hostile headers
        raise ImageError(f"unreadable image: {exc}") from exc
    if image.format not in ALLOWED_FORMATS:
        raise ImageError(f"unsupported image format {image.format}; use JPEG, PNG or WebP")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageError(f"image is {width}x{height} pixels, over the {max_pixels} pixel limit")
    try:
        if draft_size and image.format == "JPEG":
            image.draft("RGB", draft_size)
        image.load()
        image = ImageOps.exif_transpose(image)
    except Image.DecompressionBombError as exc:
        raise ImageError(f"image refused as a decompression bomb: {exc}") from exc
    except Exception as exc:
        raise ImageError(f"corrupt or truncated image: {exc}") from exc
    return to_rgb(image)


def to_rgb(image: Image.Image) -> Image.Image:
    """8-bit RGB; transparent pixels become white, like a studio background."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def load_image(source: str | Path | bytes, *, max_pixels: int = MAX_PIXELS,
               draft_size: tuple[int, int] | None = None) -> Image.Image:
    """A local image file (by path) or an image's bytes, decoded to 8-bit RGB (see :func:`decode_image`)."""
    data = source if isinstance(source, bytes) else read_image_bytes(source)
    return decode_image(data, max_pixels=max_pixels, draft_size=draft_size)


def downscale(image: Image.Image, max_side: int) -> Image.Image:
    if max(image.size) <= max_side:
        return image
    copy = image.copy()
    copy.thumbnail((max_side, max_side), Image.Resampling.BILINEAR)
    return copy
