"""Image quality notes: too small, blurred, near-blank, duplicate (the same picture, colour included)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from extractor.local.colors import rgb_to_lab
from extractor.models import ImageNote

MIN_SIDE = 200
BLUR_VARIANCE = 100.0  # variance of the Laplacian on a 256 px grey image, over textured pixels
BLANK_STD = 4.0
DUPLICATE_BITS = 4
# The colour half of "the same picture": the photo's mean CIELAB colour over a 16 x 16 grid. Another colour
# variant of a garment shot on the same model and pose has the same grey-level shape (its dHash matches),
# so only colour tells them apart; it may differ in a small part (the liner of a pair of shorts), which a
# fine grid keeps visible. Measured on the fixture photos: a resized, re-encoded copy stays within
# 4.5 (CIE76) in every cell, two colour variants differ by 8 or more in some cell.
COLOR_GRID = 16
DUPLICATE_DELTA_E = 6.0


@dataclass(frozen=True)
class PhotoPrint:
    """What makes two photos the same picture: the grey-level dHash (shape) and a coarse colour grid."""

    image: int  # index into the product's images
    shape: int
    colors: np.ndarray  # (COLOR_GRID, COLOR_GRID, 3) CIELAB

    def same_picture(self, other: PhotoPrint) -> bool:
        if bin(self.shape ^ other.shape).count("1") > DUPLICATE_BITS:
            return False
        return float(np.linalg.norm(self.colors - other.colors, axis=-1).max()) <= DUPLICATE_DELTA_E


def dhash(image: Image.Image, size: int = 8) -> int:
    grey = image.convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    px = np.asarray(grey, dtype=np.int16)
    bits = (px[:, 1:] > px[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


def photo_print(index: int, image: Image.Image) -> PhotoPrint:
    grid = image.convert("RGB").resize((COLOR_GRID, COLOR_GRID), Image.Resampling.BOX)
    return PhotoPrint(index, dhash(image), rgb_to_lab(np.asarray(grid, dtype=np.uint8)))


def sharpness(image: Image.Image) -> float:
    grey = image.convert("L")
    grey.thumbnail((256, 256), Image.Resampling.BILINEAR)
    arr = np.asarray(grey, dtype=np.float32)
    lap = np.asarray(grey.filter(ImageFilter.Kernel((3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=128)),
                     dtype=np.float32) - 128
    # Studio photos are mostly flat background: measure where there is something (edges or texture).
    busy = np.abs(arr - np.median(arr)) > 10
    region = lap[busy] if busy.sum() > 200 else lap.ravel()
    return float(region.var())


def image_notes(index: int, image: Image.Image, original_size: tuple[int, int],
                seen: list[PhotoPrint]) -> list[ImageNote]:
    """Notes on one photo of a product; `seen` holds the prints of its photos read so far (this one's is
    added)."""
    notes: list[ImageNote] = []
    w, h = original_size
    if min(w, h) < MIN_SIDE:
        notes.append(ImageNote(image=index, issue="too_small", detail=f"{w}x{h} px, under {MIN_SIDE} px"))
    grey = np.asarray(image.convert("L").resize((64, 64)), dtype=np.float32)
    if grey.std() < BLANK_STD:
        notes.append(ImageNote(image=index, issue="near_blank", detail=f"pixel std {grey.std():.1f}"))
    else:
        sharp = sharpness(image)
        if sharp < BLUR_VARIANCE:
            notes.append(ImageNote(image=index, issue="blurred", detail=f"laplacian variance {sharp:.1f}"))
    current = photo_print(index, image)
    original = next((other for other in seen if current.same_picture(other)), None)
    if original is not None:
        notes.append(ImageNote(image=index, issue="duplicate", detail=f"same as image {original.image}"))
    seen.append(current)
    return notes
