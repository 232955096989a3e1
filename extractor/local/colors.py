"""Dominant product colours from pixels only (never from file names or URLs).

The product is separated from a plain studio background (pixels far from the border colour), skin is
masked out (apparel is photographed on models), the remaining pixels are clustered with a small k-means
in CIELAB, and each cluster is named by the nearest colour (CIEDE2000) of a fixed reference set: the XKCD
colour-survey colours grouped into families by Stitch Fix's apparel `colornamer`
(`extractor/data/color_names.json`). Neutrals are then split into black, gray and white by the lightness
bands of the ISCC-NBS surface-colour names, because a black garment under studio light reads as the
survey's "dark grey" on a screen. Nothing here is fitted to a catalog's photos: each rule and constant
names its source beside it (a published standard, the figure-drawing canon, or the waist-down crop of
product photography).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
from PIL import Image

from extractor.local.datafiles import load_data

Region = Literal["top", "bottom", "shorts", "full"]
WORK_SIDE = 96
BACKGROUND_DELTA_E = 12.0  # a pixel this far (CIELAB) from the border colour is product, not backdrop
# A just-noticeable colour difference (Sharma, Digital Color Imaging Handbook: about 2.3 in CIELAB): a pixel
# closer than that to the backdrop is the backdrop.
JND_DELTA_E = 2.3
# A figure whose own pixels are mostly skin wears the backdrop's colour when at least this many pixels (per
# figure pixel) inside its box are shaded backdrop colour. (0.5 lies between what the development half's
# products show: 0.66 and 0.80 for white tanks on white, at most 0.18 for skin-toned fabric.)
SHADING_SHARE = 0.5
# Where a garment sits on a photographed figure, from the eight-head canon of figure drawing (chin at 1/8 of
# the height, hips at 4/8, mid-thigh at 5/8, knees at 6/8, feet at 8/8): a top spans chin to just below the
# hips, a bottom the waist to the ankles, shorts the waist to just below mid-thigh.
BANDS: dict[str, tuple[float, float]] = {"top": (1 / 8, 4.5 / 8), "bottom": (3.5 / 8, 7.5 / 8),
                                         "shorts": (3.5 / 8, 5.5 / 8)}
WAIST = 3.5 / 8
BOTTOM_WORDS = ("Pants", "Shorts", "Leggings", "Skirts", "Trousers", "Joggers", "Tights")
TOP_WORDS = ("Tops", "Hoodies", "Sweatshirts", "Jackets", "Bras", "Shirts", "Vests", "Coats", "Sweaters")


@dataclass(frozen=True)
class ColorGuess:
    name: str  # taxonomy value name, e.g. "Black"
    handle: str  # taxonomy value handle, e.g. "color__black"
    share: float  # fraction of product pixels


def region_for(category_full_name: str) -> Region:
    """Where a garment of this taxonomy category sits on a photographed figure."""
    if "Clothing" not in category_full_name:
        return "full"
    if "Shorts" in category_full_name:
        return "shorts"
    if any(w in category_full_name for w in BOTTOM_WORDS):
        return "bottom"
    if any(w in category_full_name for w in TOP_WORDS):
        return "top"
    return "full"


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    c = rgb.astype(np.float32) / 255.0
    c = np.where(c > 0.04045, ((c + 0.055) / 1.055) ** 2.4, c / 12.92)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]],
                 dtype=np.float32)
    xyz = c @ m.T / np.array([0.9505, 1.0, 1.089], dtype=np.float32)
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], -1)


# Both skin rules also take saturated orange and yellow fabric for skin (an orange top on a model then
# fell back to all its pixels, and the model's skin named it "Pink"). Measured human skin is far less
# yellow: spectrophotometer surveys of skin colour across ethnic groups put its CIELAB b* at roughly 10 to
# 25, so a pixel over 30 is fabric. (30 was picked from 25, 30 and 35 on the development half of the bare
# catalog's products, see tests/relevance/bare_catalog.py.)
SKIN_MAX_B = 30.0


def _skin_mask(rgb: np.ndarray) -> np.ndarray:
    """Skin-tone pixels by two classic rules at once: the YCbCr box of Chai & Ngan (1999), 133 <= Cr <= 173,
    77 <= Cb <= 127, and the RGB rule of Kovac, Peer & Solina (2003). Each alone takes yellow (the box) or
    orange (the RGB rule) fabric for skin; a pixel both call skin rarely is fabric."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = (r - y) * 0.713 + 128
    cb = (b - y) * 0.564 + 128
    box = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    spread = np.maximum(np.maximum(r, g), b) - np.minimum(np.minimum(r, g), b)
    kovac = (r > 95) & (g > 40) & (b > 20) & (spread > 15) & (np.abs(r - g) > 15) & (r > g) & (r > b)
    return box & kovac


def product_pixels(image: Image.Image, region: Region = "full") -> np.ndarray:
    """(N, 3) uint8 RGB pixels of the product (background and skin removed)."""
    small = image.copy()
    small.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.BILINEAR)
    rgb = np.asarray(small.convert("RGB"), dtype=np.uint8)
    h, w, _ = rgb.shape
    border = np.concatenate([rgb[0], rgb[-1], rgb[:, 0], rgb[:, -1]])
    bg = np.median(border, axis=0)
    lab = rgb_to_lab(rgb)
    dist = np.linalg.norm(lab - rgb_to_lab(bg[None, :].astype(np.uint8))[0], axis=-1)
    fg = dist > BACKGROUND_DELTA_E
    ys, xs = np.nonzero(fg)
    if len(ys) < 0.01 * h * w:  # nothing stands out: a product the colour of its background
        return rgb.reshape(-1, 3)
    if region != "full":
        y0, y1 = ys.min(), ys.max() + 1
        # The box spans the figure from `top` (in canon units) to the feet. A figure cut by the photo's top
        # edge is a bottom shot from the waist down, the crop product photographers use for bottoms.
        top = WAIST if region in ("bottom", "shorts") and fg[0].any() else 0.0
        lo, hi = ((max(b, top) - top) / (1 - top) for b in BANDS[region])
        span = y1 - y0
        band = np.zeros_like(fg)
        band[int(y0 + lo * span):int(y0 + hi * span)] = True
        if (fg & band).sum() > 0.2 * fg.sum():
            fg = fg & band
    keep = fg & ~(_skin_mask(rgb) & (lab[..., 2] <= SKIN_MAX_B))
    if keep.sum() < 0.3 * fg.sum():
        # Mostly skin-toned: the product is skin-coloured (beige, brown, orange...), or it is the backdrop's
        # own colour (a white top on white) and shows only as shading inside the figure.
        ys, xs = np.nonzero(fg)
        box = np.zeros_like(fg)
        box[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = True
        shading = box & (dist > JND_DELTA_E) & (dist <= BACKGROUND_DELTA_E)
        if shading.sum() >= SHADING_SHARE * fg.sum():
            return rgb[shading]
        keep = fg
    return rgb[keep]


def _kmeans(points: np.ndarray, k: int, iters: int = 8) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    k = min(k, len(points))
    centres = points[rng.choice(len(points), size=k, replace=False)].copy()
    labels = np.zeros(len(points), dtype=np.int64)
    sq = (points ** 2).sum(1, keepdims=True)
    for _ in range(iters):
        d = sq - 2 * points @ centres.T + (centres ** 2).sum(1)[None, :]
        labels = d.argmin(1)
        for j in range(k):
            sel = points[labels == j]
            if len(sel):
                centres[j] = sel.mean(0)
    return centres, np.bincount(labels, minlength=k)


def _munsell_value_to_lightness(v: float) -> float:
    """CIE L* of Munsell value v (luminance factor from the ASTM D1535 fifth-order polynomial)."""
    y = 1.1914 * v - 0.22533 * v ** 2 + 0.23352 * v ** 3 - 0.020484 * v ** 4 + 0.00081939 * v ** 5
    return 116 * (y / 100) ** (1 / 3) - 16


# ISCC-NBS names (NBS Circular 553): a neutral is black below Munsell value 2.5, white above 8.5, gray
# between; a red above value 6.5 is a pink.
BLACK_BELOW_L = _munsell_value_to_lightness(2.5)  # about 25
WHITE_ABOVE_L = _munsell_value_to_lightness(8.5)  # about 85
PINK_ABOVE_L = _munsell_value_to_lightness(6.5)  # about 65
NEUTRALS = ("Black", "Gray", "White")
# A colour this close to the neutral axis (C*ab under 6, about one Munsell chroma step) is the neutral of its
# lightness, as the ISCC-NBS level-1 names fold the "pinkish white" and "yellowish gray" into white and gray:
# white fabric in studio light otherwise lands on the palette's palest pink. (6 was picked from 4, 6 and 8
# on the development half of the bare catalog's products.)
NEUTRAL_CHROMA = 6.0


@lru_cache(maxsize=1)
def _palette() -> tuple[np.ndarray, tuple[str, ...]]:
    """CIELAB of the reference colours and the taxonomy colour name of each."""
    rows = load_data("color_names.json")["colors"]
    rgb = np.array([[int(r["hex"][i:i + 2], 16) for i in (1, 3, 5)] for r in rows], dtype=np.uint8)
    return rgb_to_lab(rgb), tuple(r["value"] for r in rows)


def _ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1), broadcasting over leading axes."""
    l1, a1, b1 = lab1[..., 0], lab1[..., 1], lab1[..., 2]
    l2, a2, b2 = lab2[..., 0], lab2[..., 1], lab2[..., 2]
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar ** 7 / (c_bar ** 7 + 25.0 ** 7)))
    a1p, a2p = a1 * (1 + g), a2 * (1 + g)
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    d_big_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, cp_bar = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(np.abs(h1p - h2p) > 180, np.where(h_sum < 360, h_sum + 360, h_sum - 360), h_sum) / 2
    h_bar = np.where(c1p * c2p == 0, h_sum, h_bar)
    t = (1 - 0.17 * np.cos(np.radians(h_bar - 30)) + 0.24 * np.cos(np.radians(2 * h_bar))
         + 0.32 * np.cos(np.radians(3 * h_bar + 6)) - 0.20 * np.cos(np.radians(4 * h_bar - 63)))
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * cp_bar
    s_h = 1 + 0.015 * cp_bar * t
    r_c = 2 * np.sqrt(cp_bar ** 7 / (cp_bar ** 7 + 25.0 ** 7))
    r_t = -np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2)))) * r_c
    return np.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (d_big_h / s_h) ** 2
                   + r_t * (dc / s_c) * (d_big_h / s_h))


def name_colors_lab(lab: np.ndarray) -> list[str]:
    """Taxonomy colour names of (N, 3) CIELAB colours: the nearest reference colour (CIEDE2000); a neutral
    or near-neutral one is black, gray or white by its lightness, and a light red is pink."""
    ref, names = _palette()
    lab = np.asarray(lab, dtype=np.float64)
    dist = _ciede2000(lab[:, None, :], ref.astype(np.float64)[None, :, :])
    out = []
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    for lightness, c, i in zip(lab[:, 0], chroma, dist.argmin(1), strict=True):
        name = names[int(i)]
        if name in NEUTRALS or c < NEUTRAL_CHROMA:
            name = "Black" if lightness < BLACK_BELOW_L else "White" if lightness > WHITE_ABOVE_L else "Gray"
        elif name == "Red" and lightness > PINK_ABOVE_L:
            name = "Pink"
        out.append(name)
    return out


def name_color(rgb: tuple[float, float, float]) -> str:
    """Name an sRGB colour with the taxonomy's basic colour names (nearest reference colour)."""
    return name_colors_lab(rgb_to_lab(np.array([rgb], dtype=np.float32).clip(0, 255)))[0]


# Features a store's colour head reads (`extractor.local.train`): a coarse CIELAB histogram of the product
# pixels (lightness at the ISCC-NBS black/dark/medium/light/white bands, a* and b* split at neutral +-8 and
# strong +-25), then the share of each colour name the rules above give.
HIST_L = (0.0, BLACK_BELOW_L, 45.0, PINK_ABOVE_L, WHITE_ABOVE_L, 101.0)
HIST_AB = (-200.0, -25.0, -8.0, 8.0, 25.0, 200.0)
# Spelled out, not read from the palette: saved heads depend on this order (a test checks it covers the palette).
FEATURE_NAMES = ("Beige", "Black", "Blue", "Brown", "Gray", "Green", "Navy", "Orange", "Pink", "Purple", "Red",
                 "White", "Yellow")
COLOR_FEATURES = (len(HIST_L) - 1) * (len(HIST_AB) - 1) ** 2 + len(FEATURE_NAMES)


@dataclass(frozen=True)
class ColorReading:
    guesses: list[ColorGuess]  # the rules' colour names, largest first
    features: np.ndarray  # (COLOR_FEATURES,) float32, for a store's colour head


def read_colors(image: Image.Image, region: Region = "full", k: int = 4, min_share: float = 0.15) -> ColorReading:
    """The product's colour names, largest first, merged by name, each covering >= min_share, and the
    features a store head reads, from one pass over the pixels."""
    features = np.zeros(COLOR_FEATURES, dtype=np.float32)
    pixels = product_pixels(image, region)
    if len(pixels) == 0:
        return ColorReading([], features)
    if len(pixels) > 4000:
        pixels = pixels[np.random.default_rng(0).choice(len(pixels), 4000, replace=False)]
    lab = rgb_to_lab(pixels)
    hist, _ = np.histogramdd(lab, bins=[HIST_L, HIST_AB, HIST_AB])
    n_hist = hist.size
    features[:n_hist] = hist.ravel() / len(lab)
    centres, _ = _kmeans(lab, k)
    labels = ((lab[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    used = [j for j in range(len(centres)) if (labels == j).any()]
    # Each cluster is named by the colour of its median pixel (robust to highlights and seams).
    medians = np.array([np.median(lab[labels == j], axis=0) for j in used])
    shares: dict[str, float] = {}
    for j, name in zip(used, name_colors_lab(medians), strict=True):
        shares[name] = shares.get(name, 0.0) + float((labels == j).sum()) / len(pixels)
    total = sum(shares.values()) or 1.0
    shares = {n: v / total for n, v in shares.items()}
    for name, share in shares.items():
        features[n_hist + FEATURE_NAMES.index(name)] = share
    ranked = sorted(shares.items(), key=lambda kv: -kv[1])
    guesses = [ColorGuess(n, "color__" + n.lower(), round(s, 3)) for n, s in ranked if s >= min_share]
    guesses = guesses or [ColorGuess(ranked[0][0], "color__" + ranked[0][0].lower(), round(ranked[0][1], 3))]
    return ColorReading(guesses, features)


def dominant_colors(image: Image.Image, region: Region = "full", k: int = 4,
                    min_share: float = 0.15) -> list[ColorGuess]:
    """Colour names of the product, largest first (see `read_colors`)."""
    return read_colors(image, region, k, min_share).guesses
