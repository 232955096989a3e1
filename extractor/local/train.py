"""Per-store heads: light classifiers fitted on a store's merchant-labelled products (`catalog train`).

Features are what the local extractor computes anyway: the MiniLM vector of the category query and the
mean EfficientNet-Lite0 feature of the product's photos. On them, a multinomial logistic regression
predicts the category and one-vs-rest logistic regressions predict attribute values. The heads are saved
as plain arrays (`heads.npz` + `meta.json`, no pickle) in a versioned folder under the store's models dir:
`<out_dir>/v<N>/`; `load_heads(out_dir)` opens the newest version. A store's heads are used only for
that store.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from extractor.embeddings import DIM as TEXT_DIM
from extractor.local.imagenet import FEATURE_DIM
from extractor.local.text import ValueHit
from extractor.models import ProductInput

FORMAT = 1
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


@dataclass
class StoreLabels:
    """A product's merchant labels: taxonomy category id and taxonomy value handles per attribute."""

    category: str | None = None
    values: dict[str, list[str]] = field(default_factory=dict)  # attribute handle -> value handles


def _as_labels(label: StoreLabels | dict[str, Any]) -> StoreLabels:
    if isinstance(label, StoreLabels):
        return label
    return StoreLabels(category=label.get("category"), values=dict(label.get("values") or {}))


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))


class StoreHeads:
    """Linear heads as arrays. `category_scores` and `value_hits` are what `LocalExtractor` calls."""

    def __init__(self, categories: list[str], cat_w: np.ndarray, cat_b: np.ndarray,
                 values: list[tuple[str, str]], val_w: np.ndarray, val_b: np.ndarray,
                 meta: dict[str, Any] | None = None) -> None:
        self.categories = categories
        self.cat_w, self.cat_b = cat_w.astype(np.float32), cat_b.astype(np.float32)
        self.values = values  # (attribute handle, value handle) per row of val_w
        self.val_w, self.val_b = val_w.astype(np.float32), val_b.astype(np.float32)
        self.meta = dict(meta or {})

    # ------------------------------------------------------------ prediction
    def category_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, C) category probabilities for (N, FEATURES) features."""
        if not self.categories:
            return np.zeros((len(x), 0), dtype=np.float32)
        if len(self.categories) == 1:
            return np.ones((len(x), 1), dtype=np.float32)
        logits = x @ self.cat_w.T + self.cat_b
        if len(self.categories) == 2 and self.cat_w.shape[0] == 1:  # sklearn's binary form
            p = _sigmoid(logits[:, 0])
            return np.stack([1 - p, p], 1)
        logits -= logits.max(1, keepdims=True)
        e = np.exp(logits)
        return e / e.sum(1, keepdims=True)

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
        np.savez(tmp / "heads.npz", cat_w=self.cat_w, cat_b=self.cat_b, val_w=self.val_w, val_b=self.val_b)
        meta = {**self.meta, "format": FORMAT, "version": version, "categories": self.categories,
                "values": [list(v) for v in self.values], "features": FEATURES,
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
    if meta.get("format") != FORMAT or meta.get("features") != FEATURES:
        raise ValueError(f"heads at {path} are format {meta.get('format')}; retrain them")
    arrays = np.load(path / "heads.npz")
    return StoreHeads(list(meta["categories"]), arrays["cat_w"], arrays["cat_b"],
                      [tuple(v) for v in meta["values"]], arrays["val_w"], arrays["val_b"], meta)


# ---------------------------------------------------------------- training
def train_heads(features: np.ndarray, labels: Sequence[StoreLabels | dict[str, Any]], c: float = 4.0) -> StoreHeads:
    """Fit the heads on (N, FEATURES) features (see `feature_vector`) and per-product labels."""
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(features, dtype=np.float32)
    labs = [_as_labels(lab) for lab in labels]
    if len(x) != len(labs):
        raise ValueError(f"{len(x)} feature rows but {len(labs)} labels")
    # Category: classes with enough examples; products of rarer categories do not train this head.
    counts: dict[str, int] = {}
    for lab in labs:
        if lab.category:
            counts[lab.category] = counts.get(lab.category, 0) + 1
    categories = sorted(c_ for c_, n in counts.items() if n >= MIN_EXAMPLES)
    rows = [i for i, lab in enumerate(labs) if lab.category in categories]
    cat_w = np.zeros((0, FEATURES), dtype=np.float32)
    cat_b = np.zeros(0, dtype=np.float32)
    if len(categories) >= 2:
        y = [labs[i].category for i in rows]
        model = LogisticRegression(C=c, max_iter=2000)
        model.fit(x[rows], y)
        order = [list(model.classes_).index(cat) for cat in categories] if model.coef_.shape[0] > 1 else None
        cat_w = model.coef_ if order is None else model.coef_[order]
        cat_b = model.intercept_ if order is None else model.intercept_[order]
        if order is None:  # binary: sklearn's positive class is classes_[1]
            categories = [str(model.classes_[0]), str(model.classes_[1])]
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
                      {"trained_on": len(labs), "category_examples": len(rows)})


def is_held_out(product_id: str, percent: int = 20) -> bool:
    return int(hashlib.sha1(product_id.encode()).hexdigest(), 16) % 100 < percent


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


def _scores(heads: StoreHeads, x: np.ndarray, labs: list[StoreLabels]) -> dict[str, Any]:
    out: dict[str, Any] = {"products": len(labs)}
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
    labs = [_as_labels(lab) for lab in labels]
    x = product_features(products, extractor)
    test = np.array([is_held_out(p.product_id or str(i), held_out_percent) for i, p in enumerate(products)],
                    dtype=bool)
    report: dict[str, Any] = {"products": len(products), "train": int((~test).sum()), "held_out": int(test.sum())}
    if test.any() and (~test).any():
        heads = train_heads(x[~test], [lab for lab, t in zip(labs, test, strict=True) if not t])
        report["held_out_scores"] = _scores(heads, x[test], [lab for lab, t in zip(labs, test, strict=True) if t])
    else:
        report["held_out_scores"] = None
    final = train_heads(x, labs)
    final.meta["held_out_scores"] = report["held_out_scores"]
    path = final.save(Path(out_dir))
    report.update({"version": final.meta["version"], "path": str(path), "categories": len(final.categories),
                   "values": len(final.values)})
    return report
