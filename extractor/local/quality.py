"""Image quality notes: too small, blurred, near-blank, duplicate (perceptual hash)."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageFilter

from extractor.models import ImageNote

MIN_SIDE = 200
BLUR_VARIANCE = 100.0  # variance of the Laplacian on a 256 px grey image, over textured pixels
BLANK_STD = 4.0
DUPLICATE_BITS = 4


def dhash(image: Image.Image, size: int = 8) -> int:
    grey = image.convert("L").resize((size + 1, size), Image.Resampling.BILINEAR)
    px = np.asarray(grey, dtype=np.int16)
    bits = (px[:, 1:] > px[:, :-1]).flatten()
    return int("".join("1" if b else "0" for b in bits), 2)


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
                seen_hashes: list[int]) -> list[ImageNote]:
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
    digest = dhash(image)
    for j, other in enumerate(seen_hashes):
        if bin(digest ^ other).count("1") <= DUPLICATE_BITS:
            notes.append(ImageNote(image=index, issue="duplicate", detail=f"same as image {j}"))
            break
    seen_hashes.append(digest)
    return notes
