"""Dominant product colours from pixels only (never from file names or URLs).

The product is separated from a plain studio background (pixels far from the border colour), skin is
masked out (apparel is photographed on models), the remaining pixels are clustered with a small k-means
in Lab, and each cluster centre is named with HSV rules that map onto taxonomy `color__*` values.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Literal

import numpy as np
from PIL import Image

Region = Literal["top", "bottom", "full"]
WORK_SIDE = 96


@dataclass(frozen=True)
class ColorGuess:
    name: str  # taxonomy value name, e.g. "Black"
    handle: str  # taxonomy value handle, e.g. "color__black"
    share: float  # fraction of product pixels


def _rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float32) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
                 dtype=np.float32)
    xyz = c @ m.T / np.array([0.9505, 1.0, 1.089], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


def _skin_mask(rgb: np.ndarray, wide: bool = False) -> np.ndarray:
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 128
    cb = (b - y) * 0.564 + 128
    mx = np.maximum(np.maximum(r, g), b)
    mn = np.minimum(np.minimum(r, g), b)
    sat = (mx - mn) / np.maximum(mx, 1)
    if wide:  # shadowed and darker skin too; only used to demote whole clusters
        return (cr > 133) & (cr < 180) & (cb > 70) & (cb < 130) & (y > 25) & (sat < 0.8) & (r > g) & (g >= b)
    return (cr > 136) & (cr < 173) & (cb > 77) & (cb < 127) & (y > 60) & (sat < 0.6) & (r > g) & (g > b)


def product_pixels(image: Image.Image, region: Region = "full") -> np.ndarray:
    """(N, 3) uint8 RGB pixels of the product (background and skin removed)."""
    small = image.copy()
    small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small.convert("RGB"), dtype=np.uint8)
    h, w, _ = rgb.shape
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    bg = np.median(border, axis=0)
    lab = _rgb_to_lab(rgb)
    dist = np.linalg.norm(lab - _rgb_to_lab(bg[None, :].astype(np.uint8))[0], axis=-1)
    fg = dist > 12.0
    ys, xs = np.nonzero(fg)
    if len(ys) < 0.01 * h * w:  # nothing stands out: a product the colour of its background
        return rgb.reshape(-1, 3)
    if region != "full":
        y0, y1 = ys.min(), ys.max() + 1
        span = y1 - y0
        lo, hi = (0.18, 0.62) if region == "top" else (0.45, 0.88)
        band = np.zeros_like(fg)
        band[int(y0 + lo * span):int(y0 + hi * span)] = True
        if (fg & band).sum() > 0.2 * fg.sum():
            fg = fg & band
    keep = fg & ~_skin_mask(rgb)
    if keep.sum() < 0.3 * fg.sum():  # mostly skin-toned: the product itself is (beige, brown, orange...)
        keep = fg
    return rgb[keep]


def _kmeans(points: np.ndarray, k: int, iters: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    k = min(k, len(points))
    centres = points[rng.choice(len(points), size=k, replace=False)].copy()
    labels = np.zeros(len(points), dtype=np.int64)
    for _ in range(iters):
        d = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)
        labels = d.argmin(1)
        for j in range(k):
            sel = points[labels == j]
            if len(sel):
                centres[j] = sel.mean(0)
    return centres, np.bincount(labels, minlength=k)


def name_color(rgb: tuple[float, float, float]) -> str:
    """Name an sRGB colour with the taxonomy's basic colour names."""
    h, s, v = colorsys.rgb_to_hsv(*(c / 255.0 for c in rgb))
    hue = h * 360
    if v < 0.2 or (v < 0.3 and s < 0.45):
        return "Black"
    if s < 0.14 or (s < 0.2 and v < 0.5):
        if v > 0.82:
            return "White"
        return "Gray"
    if hue < 14 or hue >= 340:
        if v < 0.45 and s < 0.6:
            return "Brown"
        return "Pink" if (s < 0.4 and v > 0.8) else "Red"
    if hue < 42:
        if hue > 20 and s < 0.3 and v > 0.65:
            return "Beige"
        if v < 0.55:
            return "Brown"
        return "Orange"
    if hue < 68:
        if hue < 50 and s < 0.3 and v > 0.65:
            return "Beige"
        if v < 0.45:
            return "Brown"
        return "Yellow"
    if hue < 170:
        return "Green"
    if hue < 250:
        if v < 0.32 and hue > 200:
            return "Navy"
        return "Blue"
    if hue < 295:
        return "Purple"
    return "Pink" if v > 0.6 else "Purple"


def dominant_colors(image: Image.Image, region: Region = "full", k: int = 4,
                    min_share: float = 0.15) -> list[ColorGuess]:
    """Colour names of the product, largest first, merged by name, each covering >= min_share."""
    pixels = product_pixels(image, region)
    if len(pixels) == 0:
        return []
    if len(pixels) > 4000:
        pixels = pixels[np.random.default_rng(0).choice(len(pixels), 4000, replace=False)]
    lab = _rgb_to_lab(pixels)
    centres, counts = _kmeans(lab, k)
    labels = ((lab[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    skin = _skin_mask(pixels[None], wide=True)[0]
    shares: dict[str, float] = {}
    for j in range(len(centres)):
        in_cluster = labels == j
        sel = pixels[in_cluster]
        if not len(sel):
            continue
        name = name_color(tuple(float(x) for x in np.median(sel, axis=0)))
        weight = 0.25 if skin[in_cluster].mean() > 0.6 else 1.0  # a cluster of skin tones: the model
        shares[name] = shares.get(name, 0.0) + weight * len(sel) / len(pixels)
    total = sum(shares.values()) or 1.0
    shares = {n: v / total for n, v in shares.items()}
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    out = [ColorGuess(n, "color__" + n.lower(), round(s, 3)) for n, s in ranked if s >= min_share]
    return out or [ColorGuess(ranked[0][0], "color__" + ranked[0][0].lower(), round(ranked[0][1], 3))]
