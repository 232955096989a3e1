"""Per-store heads: light classifiers fitted on a store's merchant-labelled products (`catalog train`).

Features are what the local extractor computes anyway: the MiniLM vector of the category query and the
mean EfficientNet-Lite0 feature of the product's photos. On them, a multinomial logistic regression
predicts the category and one-vs-rest logistic regressions predict attribute values. A colour head, a
multinomial logistic regression on the colour features of one photo (`colors.read_colors`), learns the
store's colour names from its variant photos: which colour a merchant calls "Red", which part of the
garment the name refers to. The heads are saved as plain arrays (`heads.npz` + `meta.json`, no pickle) in
a versioned folder under the store's models dir: `<out_dir>/v<N>/`; `load_heads(out_dir)` opens the
newest version. A store's heads are used only for that store.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from extractor.datasets.magento import is_held_out
from extractor.embeddings import DIM as TEXT_DIM
from extractor.local.colors import COLOR_FEATURES, ColorGuess, ColorReading, Region
from extractor.local.imagenet import FEATURE_DIM
from extractor.local.text import ValueHit
from extractor.models import ProductInput

FORMAT = 2  # 2: a colour head; format 1 folders load without one
FEATURES = TEXT_DIM + FEATURE_DIM + 1  # text vector, image feature, has-image flag
CATEGORY_WEIGHT = 0.5  # store head probability -> added to the retrieval score of that category
VALUE_THRESHOLD = 0.5
MIN_EXAMPLES = 3  # a class (category or value) needs this many positive examples to be learned
_VERSION_DIR = re.compile(r"^v(\d+)$")


def feature_vector(text_vec: np.ndarray | None, img_feat: np.ndarray | None) -> np.ndarray:
    out = np.zeros(FEATURES, dtype=np.float32)
    if text_vec is not None:
        out[:TEXT_DIM] = text_vec
    if img_feat is not None:
        out[TEXT_DIM:TEXT_DIM + FEATURE_DIM] = img_feat
        out[-1] = 1.0
    return out


@dataclass(frozen=True)
class ColorPhoto:
    """One photo of one colour of a product (a variant's photo), with where the garment sits in it."""

    image: str | bytes  # a local path or the file's bytes
    value: str  # taxonomy colour value handle, e.g. "color__red"
    region: Region = "full"


@dataclass
class StoreLabels:
    """A product's merchant labels: taxonomy category id, taxonomy value handles per attribute, and the
    photos whose colour the merchant named."""

    category: str | None = None
    values: dict[str, list[str]] = field(default_factory=dict)  # attribute handle -> value handles
    color_photos: list[ColorPhoto] = field(default_factory=list)


def _as_labels(label: StoreLabels | dict[str, Any]) -> StoreLabels:
    if isinstance(label, StoreLabels):
        return label
    photos = [p if isinstance(p, ColorPhoto) else ColorPhoto(**p) for p in label.get("color_photos") or []]
    return StoreLabels(category=label.get("category"), values=dict(label.get("values") or {}), color_photos=photos)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


def _softmax_proba(classes: list[str], w: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """(N, C) probabilities of a multinomial logistic regression, sklearn's binary form included."""
    if not classes:
        return np.zeros((len(x), 0), dtype=np.float32)
    if len(classes) == 1:
        return np.ones((len(x), 1), dtype=np.float32)
    logits = x @ w.T + b
    if len(classes) == 2 and w.shape[0] == 1:  # sklearn's binary form
        p = _sigmoid(logits[:, 0])
        return np.stack([1 - p, p], 1)
    logits -= logits.max(1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(1, keepdims=True)


class ColorHead:
    """A store's colour names from one photo's colour features."""

    def __init__(self, classes: list[str], w: np.ndarray, b: np.ndarray) -> None:
        self.classes = classes  # taxonomy colour value handles
        self.w, self.b = w.astype(np.float32), b.astype(np.float32)

    def proba(self, x: np.ndarray) -> np.ndarray:
        return _softmax_proba(self.classes, self.w, self.b, x)

    def guesses(self, reading: ColorReading, taxonomy: Any) -> list[ColorGuess]:
        """The head's colour (its probability as the share) in place of the rules' main colour (both read the
        same pixels; the head in the store's words), then the rules' other colours."""
        proba = self.proba(reading.features[None])[0]
        best = int(proba.argmax())
        handle = self.classes[best]
        try:
            name = taxonomy.value(handle).name
        except KeyError:
            return reading.guesses
        return [ColorGuess(name, handle, round(float(proba[best]), 3)),
                *(g for g in reading.guesses[1:] if g.handle != handle)]


class StoreHeads:
    """Linear heads as arrays. `category_scores` and `value_hits` are what `LocalExtractor` calls."""

    def __init__(self, categories: list[str], cat_w: np.ndarray, cat_b: np.ndarray,
                 values: list[tuple[str, str]], val_w: np.ndarray, val_b: np.ndarray,
                 meta: dict[str, Any] | None = None, color_head: ColorHead | None = None) -> None:
        self.categories = categories
        self.cat_w, self.cat_b = cat_w.astype(np.float32), cat_b.astype(np.float32)
        self.values = values  # (attribute handle, value handle) per row of val_w
        self.val_w, self.val_b = val_w.astype(np.float32), val_b.astype(np.float32)
        self.color_head = color_head
        self.meta = dict(meta or {})

    # ------------------------------------------------------------ prediction
    def category_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, C) category probabilities for (N, FEATURES) features."""
        return _softmax_proba(self.categories, self.cat_w, self.cat_b, x)

    def color_guesses(self, reading: ColorReading, taxonomy: Any) -> list[ColorGuess]:
        """A photo's colours in this store's names when it has a colour head, else the rules' names."""
        return self.color_head.guesses(reading, taxonomy) if self.color_head else reading.guesses

    def value_proba(self, x: np.ndarray) -> np.ndarray:
        if not self.values:
            return np.zeros((len(x), 0), dtype=np.float32)
        return _sigmoid(x @ self.val_w.T + self.val_b)

    def category_scores(self, text_vec: np.ndarray | None, img_feat: np.ndarray | None) -> dict[str, float]:
        if text_vec is None and img_feat is None:
            return {}
        proba = self.category_proba(feature_vector(text_vec, img_feat)[None])[0]
        return {c: CATEGORY_WEIGHT * float(p) for c, p in zip(self.categories, proba, strict=True) if p >= 0.05}

    def value_hits(self, taxonomy: Any, text_vec: np.ndarray | None, img_feat: np.ndarray | None) -> list[ValueHit]:
        if text_vec is None and img_feat is None:
            return []
        proba = self.value_proba(feature_vector(text_vec, img_feat)[None])[0]
        source = "image" if img_feat is not None else "text"
        hits: list[ValueHit] = []
        for (attr, handle), p in zip(self.values, proba, strict=True):
            if p < VALUE_THRESHOLD:
                continue
            try:
                value = taxonomy.value(handle)
            except KeyError:
                continue
            hits.append(ValueHit(attr, value.handle, value.id, value.name, round(float(p) * 0.9, 4), source))
        return hits

    # ------------------------------------------------------------ persistence
    def save(self, out_dir: Path) -> Path:
        """A new version folder `out_dir/v<N>` (N = newest + 1), written atomically."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        version = max(_versions(out_dir), default=0) + 1
        tmp = out_dir / f".v{version}.{os.getpid()}.tmp"
        tmp.mkdir()
        head = self.color_head or ColorHead([], np.zeros((0, COLOR_FEATURES)), np.zeros(0))
        np.savez(tmp / "heads.npz", cat_w=self.cat_w, cat_b=self.cat_b, val_w=self.val_w, val_b=self.val_b,
                 col_w=head.w, col_b=head.b)
        meta = {**self.meta, "format": FORMAT, "version": version, "categories": self.categories,
                "values": [list(v) for v in self.values], "features": FEATURES,
                "colors": head.classes, "color_features": COLOR_FEATURES,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
        final = out_dir / f"v{version}"
        os.replace(tmp, final)
        self.meta = meta
        return final


def _versions(out_dir: Path) -> list[int]:
    if not out_dir.is_dir():
        return []
    return [int(m.group(1)) for p in out_dir.iterdir() if p.is_dir() and (m := _VERSION_DIR.match(p.name))]


def latest_version_dir(out_dir: Path) -> Path | None:
    """The newest `v<N>` folder under a store's models dir, None before its first save. A save renames a
    complete folder into place, so what this returns is always whole."""
    versions = _versions(Path(out_dir))
    return Path(out_dir) / f"v{max(versions)}" if versions else None


def load_heads(path: Path) -> StoreHeads:
    """Heads from a version folder (`.../v3`) or the newest version under a store's models dir."""
    path = Path(path)
    if not (path / "meta.json").exists():
        latest = latest_version_dir(path)
        if latest is None:
            raise FileNotFoundError(f"no trained heads under {path}")
        path = latest
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    if meta.get("format") not in (1, FORMAT) or meta.get("features") != FEATURES:
        raise ValueError(f"heads at {path} are format {meta.get('format')}; retrain them")
    arrays = np.load(path / "heads.npz")
    color_head = None
    if meta.get("colors"):
        if meta.get("color_features") != COLOR_FEATURES:
            raise ValueError(f"the colour head at {path} reads other colour features; retrain it")
        color_head = ColorHead(list(meta["colors"]), arrays["col_w"], arrays["col_b"])
    return StoreHeads(list(meta["categories"]), arrays["cat_w"], arrays["cat_b"],
                      [tuple(v) for v in meta["values"]], arrays["val_w"], arrays["val_b"], meta, color_head)


# ---------------------------------------------------------------- training
def _fit_multinomial(x: np.ndarray, y: Sequence[str | None], c: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes with at least MIN_EXAMPLES rows (rows of rarer or no class do not train) and the weights
    of a multinomial logistic regression over them, in the layout `_softmax_proba` reads."""
    from sklearn.linear_model import LogisticRegression

    counts: dict[str, int] = {}
    for label in y:
        if label:
            counts[label] = counts.get(label, 0) + 1
    classes = sorted(k for k, n in counts.items() if n >= MIN_EXAMPLES)
    if len(classes) < 2:
        return [], np.zeros((0, x.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.float32)
    rows = [i for i, label in enumerate(y) if label in classes]
    model = LogisticRegression(C=c, max_iter=2000)
    model.fit(x[rows], [y[i] for i in rows])
    if model.coef_.shape[0] == 1:  # binary: sklearn's positive class is classes_[1]
        return [str(k) for k in model.classes_], model.coef_, model.intercept_
    order = [list(model.classes_).index(k) for k in classes]
    return classes, model.coef_[order], model.intercept_[order]


def fit_color_head(color_features: np.ndarray, handles: Sequence[str], c: float = 4.0) -> ColorHead | None:
    """A colour head on (M, COLOR_FEATURES) photo features and each photo's colour value handle; None when
    fewer than two colours have MIN_EXAMPLES photos."""
    if len(color_features) != len(handles):
        raise ValueError(f"{len(color_features)} colour feature rows but {len(handles)} colour photos")
    classes, w, b = _fit_multinomial(np.asarray(color_features, dtype=np.float32).reshape(-1, COLOR_FEATURES),
                                     list(handles), c)
    return ColorHead(classes, w, b) if classes else None


def train_heads(features: np.ndarray, labels: Sequence[StoreLabels | dict[str, Any]], c: float = 4.0,
                color_features: np.ndarray | None = None) -> StoreHeads:
    """Fit the heads on (N, FEATURES) features (see `feature_vector`) and per-product labels.
    `color_features` has one row (`colors.read_colors(...).features`) per colour photo of the labels, in
    order; without it no colour head is fitted."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float32)
    labs = [_as_labels(lab) for lab in labels]
    if len(x) != len(labs):
        raise ValueError(f"{len(x)} feature rows but {len(labs)} labels")
    categories, cat_w, cat_b = _fit_multinomial(x, [lab.category for lab in labs], c)
    color_head = None
    if color_features is not None:
        color_head = fit_color_head(color_features, [photo.value for lab in labs for photo in lab.color_photos], c)
    # Values: one-vs-rest over products that have any value for that attribute.
    values: list[tuple[str, str]] = []
    ws: list[np.ndarray] = []
    bs: list[float] = []
    attributes = sorted({a for lab in labs for a in lab.values})
    for attr in attributes:
        labelled = [i for i, lab in enumerate(labs) if lab.values.get(attr)]
        for handle in sorted({v for i in labelled for v in labs[i].values[attr]}):
            y = np.array([handle in labs[i].values[attr] for i in labelled])
            if y.sum() < MIN_EXAMPLES or (~y).sum() < MIN_EXAMPLES:
                continue
            model = LogisticRegression(C=c, max_iter=2000)
            model.fit(x[labelled], y)
            values.append((attr, handle))
            ws.append(model.coef_[0])
            bs.append(float(model.intercept_[0]))
    val_w = np.stack(ws) if ws else np.zeros((0, FEATURES), dtype=np.float32)
    val_b = np.array(bs, dtype=np.float32)
    return StoreHeads(categories, cat_w, cat_b, values, val_w, val_b,
                      {"trained_on": len(labs), "category_examples": sum(lab.category in categories for lab in labs),
                       "color_examples": 0 if color_features is None else len(color_features)},
                      color_head)


def product_features(products: Sequence[ProductInput], extractor: Any = None, batch_size: int = 32) -> np.ndarray:
    """(N, FEATURES): the category-query text vector and the mean image feature of each product."""
    from extractor.local.extractor import LocalExtractor
    from extractor.local.text import category_query

    extractor = extractor or LocalExtractor(safety=False)
    from extractor.embeddings import get_text_embedder

    embedder = get_text_embedder()
    rows: list[np.ndarray] = []
    for start in range(0, len(products), batch_size):
        chunk = list(products[start:start + batch_size])
        queries = [category_query(p) for p in chunk]
        vecs = embedder.embed([q or " " for q in queries])
        feats = extractor.image_features(chunk)
        for q, v, f in zip(queries, vecs, feats, strict=True):
            rows.append(feature_vector(v if q.strip() else None, f))
    return np.stack(rows) if rows else np.zeros((0, FEATURES), dtype=np.float32)


def read_color_photos(labels: Sequence[StoreLabels]) -> tuple[list[StoreLabels], list[ColorReading]]:
    """The labels with only their readable colour photos, and the colour reading of each kept photo (in
    order), each photo decoded as the local extractor decodes a product's photo."""
    from extractor.local.colors import read_colors
    from extractor.local.extractor import decode_photo

    kept: list[StoreLabels] = []
    readings: list[ColorReading] = []
    for lab in labels:
        photos: list[ColorPhoto] = []
        for photo in lab.color_photos:
            try:
                image, _ = decode_photo(photo.image)
            except Exception:  # an unreadable photo teaches nothing; the extractor reports it on its own
                continue
            photos.append(photo)
            readings.append(read_colors(image, photo.region))
        kept.append(StoreLabels(lab.category, lab.values, photos))
    return kept, readings


def color_feature_rows(readings: Sequence[ColorReading]) -> np.ndarray:
    if not readings:
        return np.zeros((0, COLOR_FEATURES), dtype=np.float32)
    return np.stack([r.features for r in readings]).astype(np.float32)


def _split(labs: list[StoreLabels], color_x: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The colour feature rows of the held-out products' photos and of the others'."""
    photo_test = np.array([t for lab, t in zip(labs, test, strict=True) for _ in lab.color_photos], dtype=bool)
    return color_x[photo_test], color_x[~photo_test]


def _scores(heads: StoreHeads, x: np.ndarray, labs: list[StoreLabels], color_x: np.ndarray) -> dict[str, Any]:
    out: dict[str, Any] = {"products": len(labs)}
    gold_colors = [photo.value for lab in labs for photo in lab.color_photos]
    out["color_photos"] = len(gold_colors)
    out["color_accuracy"] = None
    if heads.color_head is not None and gold_colors:
        pred = heads.color_head.proba(color_x).argmax(1)
        hits = sum(heads.color_head.classes[int(k)] == want for k, want in zip(pred, gold_colors, strict=True))
        out["color_accuracy"] = round(hits / len(gold_colors), 4)
    if heads.categories and len(x):
        pred = heads.category_proba(x).argmax(1)
        known = [i for i, lab in enumerate(labs) if lab.category]
        correct = sum(heads.categories[int(pred[i])] == labs[i].category for i in known)
        out["category_accuracy"] = round(correct / len(known), 4) if known else None
    else:
        out["category_accuracy"] = None
    proba = heads.value_proba(x) if len(x) else np.zeros((0, len(heads.values)))
    per_attr: dict[str, dict[str, int]] = {}
    for j, (attr, handle) in enumerate(heads.values):
        acc = per_attr.setdefault(attr, {"tp": 0, "fp": 0, "fn": 0})
        for i, lab in enumerate(labs):
            if not lab.values.get(attr):
                continue
            predicted, gold = proba[i, j] >= VALUE_THRESHOLD, handle in lab.values[attr]
            acc["tp"] += int(predicted and gold)
            acc["fp"] += int(predicted and not gold)
            acc["fn"] += int(gold and not predicted)
    attrs: dict[str, Any] = {}
    for attr, acc in sorted(per_attr.items()):
        p = acc["tp"] / (acc["tp"] + acc["fp"]) if acc["tp"] + acc["fp"] else None
        r = acc["tp"] / (acc["tp"] + acc["fn"]) if acc["tp"] + acc["fn"] else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        attrs[attr] = {"precision": None if p is None else round(p, 4), "recall": None if r is None else round(r, 4),
                       "f1": None if f is None else round(f, 4)}
    out["attributes"] = attrs
    return out


def train_store_heads(products: Sequence[ProductInput], labels: Sequence[StoreLabels | dict[str, Any]],
                      out_dir: Path, extractor: Any = None, held_out_percent: int = 20) -> dict[str, Any]:
    """Fit on the store's labelled products, score on a product-level held-out split, then refit on all
    and save a new version under out_dir. Returns the report (held-out scores, version, path)."""
    if len(products) != len(labels):
        raise ValueError(f"{len(products)} products but {len(labels)} labels")
    labs, readings = read_color_photos([_as_labels(lab) for lab in labels])
    color_x = color_feature_rows(readings)
    x = product_features(products, extractor)
    test = np.array([is_held_out(p.product_id or str(i), held_out_percent) for i, p in enumerate(products)],
                    dtype=bool)
    report: dict[str, Any] = {"products": len(products), "train": int((~test).sum()), "held_out": int(test.sum()),
                              "color_photos": len(color_x)}
    if test.any() and (~test).any():
        color_test, color_train = _split(labs, color_x, test)
        heads = train_heads(x[~test], [lab for lab, t in zip(labs, test, strict=True) if not t],
                            color_features=color_train)
        report["held_out_scores"] = _scores(heads, x[test], [lab for lab, t in zip(labs, test, strict=True) if t],
                                            color_test)
    else:
        report["held_out_scores"] = None
    final = train_heads(x, labs, color_features=color_x)
    final.meta["held_out_scores"] = report["held_out_scores"]
    path = final.save(Path(out_dir))
    report.update({"version": final.meta["version"], "path": str(path), "categories": len(final.categories),
                   "values": len(final.values),
                   "colors": len(final.color_head.classes) if final.color_head else 0})
    return report
