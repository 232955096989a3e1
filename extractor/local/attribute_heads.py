"""Attribute-level heads: one classifier per attribute a store's merchant labels, answering with calibrated
abstention (`catalog train` fits them; the local extractor asks them for a store's listings).

- A single-valued attribute (a product has one pattern) gets one multinomial logistic regression over the
  values the store uses; at prediction its softmax is restricted to the values the predicted category
  allows (an attribute the category does not have gets no answer).
- A multi-valued attribute (a product has several materials) gets one-vs-rest logistic regressions, one per
  value, each with its own threshold.
- Features (`Layout`): the MiniLM vector of title + opening of the description, the mean and the max of the
  EfficientNet-Lite0 features over all of the product's photos, and the predicted category (its lineage,
  multi-hot). Standardised on the training rows; the heads are fitted on the training rows' principal
  components (L2 keeps the solution in their span) and saved as plain weights over the standardised row.
- Abstention: a head answers when its probability clears a threshold chosen on out-of-fold predictions of
  the store's own products (folds by product id, never by photo) for a target precision (default 0.80), per
  kind of listing text (with a description, a title only, none); it reports that precision with each
  answer. A head that cannot reach the target on its held-out folds never answers.
- Labels are value handles per product; rejected suggestions are negatives: for a single-valued head a term
  -log(1 - p(value)), for a one-vs-rest head a negative example of that value.

Fitting is a deterministic L-BFGS (scipy's, float64, exact gradients) from zero weights, BLAS on one thread;
nothing is random but the learning curve's subsampling, which takes a seed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from extractor.local.features import FEATURE_DIM, TEXT_DIM, TEXT_KINDS, VIEWS, HeadInput, TextKind, View

TARGET_PRECISION = 0.80
MIN_ANSWERS = 5  # a threshold is chosen only where at least this many held-out answers clear it
MIN_EXAMPLES = 3  # a value needs this many labelled products (and a one-vs-rest value as many without it)
MIN_LABELLED = 10  # products with a value of the attribute (or a rejection) before it gets a head
MULTI_SHARE = 0.10  # an attribute is multi-valued when this share of its labelled products has 2+ values
FOLDS = 5  # out-of-fold predictions for the thresholds (and the outer folds of the held-out report)
COMPONENTS = 256  # principal components of the training rows the heads are fitted on
# Inverse L2 strength (sklearn's C: sum of log-losses + |w|^2 / 2C). Set on the fixture catalog's cross-
# validation, where 0.3 to 10 gave held-out micro-F1 within 0.01 of each other (0.1: 0.03 lower).
C_SINGLE = 1.0
C_MULTI = 1.0
# Views a head trains on (each product weighs 1 in all together) and the view its thresholds are chosen on
# for each kind of listing text.
TRAIN_VIEWS: tuple[View, ...] = ("catalog", "listing", "title", "photos")
CALIBRATION_VIEW: dict[TextKind, View] = {"description": "listing", "title": "title", "none": "photos"}
# Block weights after standardisation: each block's share of the squared norm of a row, whatever its width.
BLOCK_WEIGHT = {"text": 1.0, "image_mean": 1.0, "image_max": 1.0, "category": 1.0}

Kind = Literal["single", "multi"]


def fold_of(product_id: str, folds: int = FOLDS, salt: str = "") -> int:
    """A product's fold: a hash of its id (the same product is always in the same fold)."""
    return int(hashlib.sha1(f"{salt}{product_id}".encode()).hexdigest(), 16) % folds


# ---------------------------------------------------------------------------------------------- features
def lineage(taxonomy: Any, category_id: str | None) -> list[str]:
    if not category_id or taxonomy is None or category_id not in taxonomy.categories:
        return []
    return [c.id for c in taxonomy.ancestors(category_id)] + [category_id]


class Layout:
    """The feature row of a HeadInput: [text | has text | image mean | image max | has image | category
    lineage], standardised with the training rows' centre and scale (a missing block is the centre: zero)."""

    def __init__(self, vocabulary: Sequence[str], center: np.ndarray | None = None,
                 scale: np.ndarray | None = None) -> None:
        self.vocabulary = list(vocabulary)
        self._column = {cid: i for i, cid in enumerate(self.vocabulary)}
        self.dim = TEXT_DIM + 1 + 2 * FEATURE_DIM + 1 + len(self.vocabulary)
        self.center = np.zeros(self.dim, np.float32) if center is None else center.astype(np.float32)
        self.scale = np.ones(self.dim, np.float32) if scale is None else scale.astype(np.float32)

    @property
    def blocks(self) -> dict[str, slice]:
        t, f = TEXT_DIM, FEATURE_DIM
        return {"text": slice(0, t + 1), "image_mean": slice(t + 1, t + 1 + f),
                "image_max": slice(t + 1 + f, t + 2 + 2 * f), "category": slice(t + 2 + 2 * f, self.dim)}

    def raw(self, item: HeadInput, taxonomy: Any) -> np.ndarray:
        row = np.full(self.dim, np.nan, dtype=np.float32)
        t, f = TEXT_DIM, FEATURE_DIM
        row[t] = 0.0
        if item.text is not None:
            row[:t], row[t] = item.text, 1.0
        row[t + 1 + 2 * f] = 0.0
        if item.image_mean is not None:
            row[t + 1:t + 1 + f] = item.image_mean
            row[t + 1 + f:t + 1 + 2 * f] = item.image_max
            row[t + 1 + 2 * f] = 1.0
        cat = row[t + 2 + 2 * f:]
        cat[:] = 0.0
        for cid in lineage(taxonomy, item.category):
            if cid in self._column:
                cat[self._column[cid]] = 1.0
        return row

    def fit(self, raw: np.ndarray) -> Layout:
        """Centre and scale from training rows (NaN: a missing block, left out), with the block weights."""
        raw = np.where(np.isnan(raw).all(0), 0.0, raw) if len(raw) else raw  # a block no row has: centre 0
        center = np.nan_to_num(np.nanmean(raw, 0)) if len(raw) else np.zeros(self.dim)
        spread = np.nan_to_num(np.sqrt(np.nanmean((raw - center) ** 2, 0)), nan=1.0) if len(raw) \
            else np.ones(self.dim)
        scale = np.maximum(spread, 1e-3)
        # Each block's expected squared norm becomes its weight: a 2,560-wide image block does not drown
        # the 384-wide text or the few category columns.
        for name, cols in self.blocks.items():
            width = max(1, cols.stop - cols.start)
            scale[cols] *= np.sqrt(width) / np.sqrt(BLOCK_WEIGHT[name])
        self.center, self.scale = center.astype(np.float32), scale.astype(np.float32)
        return self

    def transform(self, raw: np.ndarray) -> np.ndarray:
        return np.nan_to_num((raw - self.center) / self.scale).astype(np.float32)

    def rows(self, items: Sequence[HeadInput], taxonomy: Any) -> np.ndarray:
        if not items:
            return np.zeros((0, self.dim), np.float32)
        return self.transform(np.stack([self.raw(item, taxonomy) for item in items]))


def vocabulary(items: Sequence[HeadInput], taxonomy: Any) -> list[str]:
    return sorted({cid for item in items for cid in lineage(taxonomy, item.category)})


def basis(x: np.ndarray, components: int = COMPONENTS) -> np.ndarray:
    """(k, D) orthonormal rows spanning the leading principal directions of the (already centred) rows."""
    if not len(x):
        return np.zeros((0, x.shape[1]), np.float32)
    x = x.astype(np.float64)
    if len(x) < x.shape[1]:  # the rows' Gram matrix is the smaller eigenproblem
        values, vectors = np.linalg.eigh(x @ x.T)
        order = np.argsort(-values, kind="stable")
        values, vectors = np.clip(values[order], 0, None), vectors[:, order]
        keep = int(min(components, (values > values[0] * 1e-10).sum() if values[0] > 0 else 0))
        vt = (vectors[:, :keep].T @ x) / np.sqrt(values[:keep])[:, None]
    else:
        _, s, vt = np.linalg.svd(x, full_matrices=False)
        keep = int(min(components, (s > s[0] * 1e-5).sum() if len(s) and s[0] > 0 else 0))
        vt = vt[:keep]
    return vt.astype(np.float32)


# ---------------------------------------------------------------------------------------------- fitting
def one_blas_thread():
    """BLAS on one thread while fitting: the problems are small, and OpenBLAS threads spinning against the
    server's other work (or each other) made a fit 30x slower on 2 busy cores."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        import contextlib

        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def _minimize(objective: Callable[[np.ndarray], tuple[float, np.ndarray]], size: int, max_iter: int = 400
              ) -> np.ndarray:
    """L-BFGS from zero (scipy's, with the exact gradient): deterministic for the same inputs."""
    from scipy.optimize import minimize

    result = minimize(objective, np.zeros(size), jac=True, method="L-BFGS-B",
                      options={"maxiter": max_iter, "gtol": 1e-6, "ftol": 1e-10})
    return result.x


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))


def fit_softmax(x: np.ndarray, targets: np.ndarray, negatives: np.ndarray | None = None,
                weights: np.ndarray | None = None, c: float = C_SINGLE) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression: minimise sum_i w_i [-sum_c T_ic log p_ic - sum_c Neg_ic log(1 - p_ic)]
    + |W|^2 / 2c (the intercept is not penalised). `targets` (N, C) rows sum to 1 for labelled rows (0 for a
    row with negatives only); `negatives` (N, C) marks values rejected for that row."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, d = x.shape
    k = targets.shape[1]
    t = np.asarray(targets, dtype=np.float64)
    mass = t.sum(1, keepdims=True)
    neg = np.zeros((n, k)) if negatives is None else np.asarray(negatives, dtype=np.float64)
    any_neg = bool(neg.any())
    wt = (np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64))[:, None]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k * d].reshape(k, d), theta[k * d:]
        logp = _log_softmax(x @ w.T + b)
        p = np.exp(logp)
        loss = -(wt * t * logp).sum()
        g = wt * (mass * p - t)
        if any_neg:
            q = np.clip(p, 0, 1 - 1e-12)
            loss -= (wt * neg * np.log1p(-q)).sum()
            r = neg * q / (1 - q)
            g += wt * (r - p * r.sum(1, keepdims=True))
        loss += (w * w).sum() / (2 * c)
        grad_w = g.T @ x + w / c
        return float(loss), np.concatenate([grad_w.ravel(), g.sum(0)])

    theta = _minimize(objective, k * d + k)
    return theta[:k * d].reshape(k, d).astype(np.float32), theta[k * d:].astype(np.float32)


def fit_sigmoid(x: np.ndarray, y: np.ndarray, mask: np.ndarray, weights: np.ndarray | None = None,
                c: float = C_MULTI) -> tuple[np.ndarray, np.ndarray]:
    """One-vs-rest logistic regressions fitted together: column c learns y[:, c] on the rows mask[:, c]."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    n, d = x.shape
    k = y.shape[1]
    yt = np.asarray(y, dtype=np.float64)
    m = np.asarray(mask, dtype=np.float64)
    if weights is not None:
        m = m * np.asarray(weights, dtype=np.float64)[:, None]

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k * d].reshape(k, d), theta[k * d:]
        z = x @ w.T + b
        loss = (m * (np.logaddexp(0.0, z) - yt * z)).sum() + (w * w).sum() / (2 * c)
        g = m * (_sigmoid(z) - yt)
        return float(loss), np.concatenate([(g.T @ x + w / c).ravel(), g.sum(0)])

    theta = _minimize(objective, k * d + k)
    return theta[:k * d].reshape(k, d).astype(np.float32), theta[k * d:].astype(np.float32)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def choose_threshold(scores: Sequence[float], correct: Sequence[bool], target: float) -> tuple[float, float | None]:
    """The lowest threshold whose answers (score >= threshold, at least MIN_ANSWERS of them) reach `target`
    precision, as estimated with one success and one failure added ((tp + 1) / (n + 2): a handful of lucky
    answers is no proof); and that precision. (inf, None) when no threshold reaches it: the head abstains."""
    if not len(scores):
        return float("inf"), None
    s = np.asarray(scores, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    order = np.argsort(-s, kind="stable")
    s, ok = s[order], ok[order]
    tp = np.cumsum(ok)
    n = np.arange(1, len(s) + 1)
    precision = (tp + 1) / (n + 2)
    # Only cut between distinct scores: every answer at the threshold's score is given.
    last = np.r_[s[1:] != s[:-1], True]
    good = np.nonzero(last & (precision >= target) & (n >= MIN_ANSWERS))[0]
    if not len(good):
        return float("inf"), None
    k = int(good[-1])
    return float(s[k]), round(float(precision[k]), 4)


# ---------------------------------------------------------------------------------------------- heads
def _suffix(handle: str) -> str:
    return handle.split("__", 1)[-1]


def _base(handle: str) -> str:
    word = handle.rsplit("-", 1)[-1]
    return "material" if word == "fabric" else word


@dataclass
class AttributeHead:
    """One attribute's classifier over the standardised row. thresholds/precision: (len(TEXT_KINDS), C)."""

    attribute: str
    kind: Kind
    classes: list[str]
    w: np.ndarray  # (C, D)
    b: np.ndarray  # (C,)
    thresholds: np.ndarray
    precision: np.ndarray  # NaN where the value never answers
    labelled: int = 0
    _placed: dict[str | None, list[tuple[str, str] | None]] = field(default_factory=dict, repr=False)

    def placements(self, taxonomy: Any, category_id: str | None) -> list[tuple[str, str] | None]:
        """Per class, the (attribute, value handle) it answers as under this category, or None where the
        category does not allow it (no category: none): the head's own attribute, else a kin attribute of the
        category (a bag's `bag-case-material` for a `fabric` value) that has the same value. Without a
        taxonomy, or for values outside it (store-specific labels), every class answers as itself."""
        cached = self._placed.get(category_id)
        if cached is not None:
            return cached
        known = taxonomy is not None and category_id is not None and category_id in taxonomy.categories
        allowed = taxonomy.category(category_id).attribute_handles if known else ()
        out: list[tuple[str, str] | None] = []
        for value in self.classes:
            if taxonomy is None or value not in taxonomy.values:  # the merchant's own words: no taxonomy rule
                out.append((self.attribute, value))
            elif self.attribute in allowed:
                out.append((self.attribute, value))
            else:
                kin = [a for a in allowed if _base(a) == _base(self.attribute)
                       and f"{a}__{_suffix(value)}" in taxonomy.values]
                out.append((kin[0], f"{kin[0]}__{_suffix(value)}") if kin else None)
        if len(self._placed) < 4096:
            self._placed[category_id] = out
        return out

    def proba(self, z: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """(N, C) probabilities; a single-valued head's softmax is over the allowed classes only."""
        logits = z @ self.w.T + self.b
        if self.kind == "multi":
            p = _sigmoid(logits)
            return p if allowed is None else np.where(allowed, p, 0.0)
        if allowed is not None:
            logits = np.where(allowed, logits, -np.inf)
        logits = logits - np.max(np.where(np.isfinite(logits), logits, -1e30), 1, keepdims=True)
        e = np.where(np.isfinite(logits), np.exp(logits), 0.0)
        total = e.sum(1, keepdims=True)
        return np.divide(e, total, out=np.zeros_like(e), where=total > 0)

    def answer(self, p: np.ndarray, kind: TextKind) -> list[tuple[int, float, float]]:
        """(class, probability, precision) of what the head answers for one row's probabilities."""
        k = TEXT_KINDS.index(kind)
        thr, prec = self.thresholds[k], self.precision[k]
        if self.kind == "single":
            best = int(np.argmax(p)) if len(p) else -1
            if best < 0 or p[best] <= 0 or p[best] < thr[best]:
                return []
            return [(best, float(p[best]), float(prec[best]))]
        return [(int(c), float(p[c]), float(prec[c])) for c in np.argsort(-p, kind="stable")
                if p[c] > 0 and p[c] >= thr[c]]


@dataclass
class Answer:
    attribute: str  # as placed under the category (may be a kin attribute of the head's)
    value: str
    probability: float
    precision: float
    head: str  # the head's own attribute
    label: str  # the head's own value


class AttributeHeads:
    """A store's attribute heads over one shared Layout (the row is computed once per product)."""

    def __init__(self, layout: Layout, heads: Sequence[AttributeHead], target: float = TARGET_PRECISION) -> None:
        self.layout = layout
        self.heads = list(heads)
        self.target = target

    def row(self, item: HeadInput, taxonomy: Any) -> np.ndarray:
        return self.layout.rows([item], taxonomy)[0]

    def probabilities(self, z: np.ndarray, categories: Sequence[str | None], taxonomy: Any
                      ) -> list[tuple[AttributeHead, np.ndarray, list[list[tuple[str, str] | None]]]]:
        out = []
        for head in self.heads:
            placed = [head.placements(taxonomy, cid) for cid in categories]
            allowed = np.array([[p is not None for p in row] for row in placed], dtype=bool).reshape(
                len(categories), len(head.classes))
            out.append((head, head.proba(z, allowed), placed))
        return out

    def answers(self, item: HeadInput, taxonomy: Any) -> list[Answer]:
        z = self.row(item, taxonomy)[None]
        found: list[Answer] = []
        for head, p, placed in self.probabilities(z, [item.category], taxonomy):
            for c, prob, prec in head.answer(p[0], item.kind):
                where = placed[0][c]
                if where is not None:
                    found.append(Answer(where[0], where[1], round(prob, 4), round(prec, 4), head.attribute,
                                        head.classes[c]))
        return found

    # -------------------------------------------------------------------------------- persistence
    def arrays(self) -> dict[str, np.ndarray]:
        out = {"attr_center": self.layout.center, "attr_scale": self.layout.scale}
        for i, head in enumerate(self.heads):
            out[f"attr{i}_w"], out[f"attr{i}_b"] = head.w, head.b
            out[f"attr{i}_thr"], out[f"attr{i}_prec"] = head.thresholds, head.precision
        return out

    def meta(self) -> dict[str, Any]:
        return {"attribute_vocabulary": self.layout.vocabulary, "target_precision": self.target,
                "attribute_heads": [{"attribute": h.attribute, "kind": h.kind, "classes": h.classes,
                                     "labelled": h.labelled} for h in self.heads]}

    @classmethod
    def load(cls, meta: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> AttributeHeads | None:
        if "attribute_heads" not in meta:
            return None
        layout = Layout(meta["attribute_vocabulary"], arrays["attr_center"], arrays["attr_scale"])
        heads = [AttributeHead(h["attribute"], h["kind"], list(h["classes"]), arrays[f"attr{i}_w"],
                               arrays[f"attr{i}_b"], arrays[f"attr{i}_thr"], arrays[f"attr{i}_prec"],
                               int(h.get("labelled", 0)))
                 for i, h in enumerate(meta["attribute_heads"])]
        return cls(layout, heads, float(meta.get("target_precision", TARGET_PRECISION)))


# ---------------------------------------------------------------------------------------------- training
@dataclass
class TrainingSet:
    """Products (by id) with their HeadInput per view, value labels and rejected values per attribute."""

    ids: list[str]
    inputs: list[dict[View, HeadInput]]
    labels: list[dict[str, list[str]]]
    negatives: list[dict[str, list[str]]]

    def __post_init__(self) -> None:
        if not (len(self.ids) == len(self.inputs) == len(self.labels) == len(self.negatives)):
            raise ValueError("ids, inputs, labels and negatives differ in length")

    def subset(self, rows: Sequence[int]) -> TrainingSet:
        return TrainingSet([self.ids[i] for i in rows], [self.inputs[i] for i in rows],
                           [self.labels[i] for i in rows], [self.negatives[i] for i in rows])

    def attributes(self) -> list[str]:
        return sorted({a for lab in self.labels for a, v in lab.items() if v}
                      | {a for neg in self.negatives for a, v in neg.items() if v})


@dataclass
class Options:
    target: float = TARGET_PRECISION
    folds: int = FOLDS
    components: int = COMPONENTS
    c_single: float = C_SINGLE
    c_multi: float = C_MULTI
    train_views: tuple[View, ...] = TRAIN_VIEWS
    calibrate: bool = True  # False: thresholds stay at "never" (inner fits of the held-out report need none)


@dataclass
class _Design:
    """One attribute's training problem over a TrainingSet."""

    attribute: str
    kind: Kind
    classes: list[str]
    labelled: int
    rows: list[int]  # products that teach it (labelled, or with a rejection of a modelled value)
    judged: list[int]  # products its answers are judged on: these, and those labelled with rarer values


def design(data: TrainingSet, attribute: str) -> _Design | None:
    labelled = [i for i, lab in enumerate(data.labels) if lab.get(attribute)]
    multi = sum(len(set(data.labels[i][attribute])) > 1 for i in labelled)
    kind: Kind = "multi" if labelled and multi / len(labelled) >= MULTI_SHARE else "single"
    counts: dict[str, int] = {}
    for i in labelled:
        for v in set(data.labels[i][attribute]):
            counts[v] = counts.get(v, 0) + 1
    classes = sorted(v for v, n in counts.items() if n >= MIN_EXAMPLES
                     and (kind == "single" or len(labelled) - n >= MIN_EXAMPLES))
    rejected = [i for i, neg in enumerate(data.negatives)
                if not data.labels[i].get(attribute) and set(neg.get(attribute, ())) & set(classes)]
    if (kind == "single" and len(classes) < 2) or not classes or len(labelled) + len(rejected) < MIN_LABELLED:
        return None
    judged = sorted(labelled + rejected)
    if kind == "single":
        labelled = [i for i in labelled if set(data.labels[i][attribute]) & set(classes)]
    return _Design(attribute, kind, classes, len(labelled), sorted(labelled + rejected), judged)


def _targets(data: TrainingSet, d: _Design, rows: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(positives, negatives, mask) over the design's classes for these products. Single: positives rows
    sum to 1. Multi: mask marks the values each row teaches (all values for a labelled row)."""
    index = {v: c for c, v in enumerate(d.classes)}
    pos = np.zeros((len(rows), len(d.classes)))
    neg = np.zeros_like(pos)
    mask = np.zeros_like(pos)
    for r, i in enumerate(rows):
        gold = [index[v] for v in set(data.labels[i].get(d.attribute, ())) if v in index]
        bad = [index[v] for v in set(data.negatives[i].get(d.attribute, ())) if v in index]
        if data.labels[i].get(d.attribute):
            mask[r] = 1.0
            for c in gold:
                pos[r, c] = 1.0 / (len(gold) if d.kind == "single" else 1)
        for c in bad:
            if pos[r, c] == 0:
                neg[r, c] = 1.0
                mask[r, c] = 1.0
    return pos, neg, mask


class _Space:
    """A training set's standardised rows per view, and the principal basis the heads are fitted in."""

    def __init__(self, data: TrainingSet, taxonomy: Any, options: Options) -> None:
        views = [v for v in VIEWS if any(v in item for item in data.inputs)]
        train_items = [item[v] for item in data.inputs for v in options.train_views if v in item]
        layout = Layout(vocabulary(train_items, taxonomy))
        layout.fit(np.stack([layout.raw(it, taxonomy) for it in train_items]) if train_items
                   else np.zeros((0, layout.dim), np.float32))
        self.layout = layout
        self.z = {v: layout.rows([item.get(v) or item["catalog"] for item in data.inputs], taxonomy)
                  for v in views}
        self.categories = {v: [(item.get(v) or item["catalog"]).category for item in data.inputs] for v in views}
        self.kinds = {v: [(item.get(v) or item["catalog"]).kind for item in data.inputs] for v in views}
        stacked = np.concatenate([self.z[v] for v in options.train_views if v in self.z]) if self.z else \
            np.zeros((0, layout.dim), np.float32)
        self.basis = basis(stacked, options.components)


def _fit(data: TrainingSet, space: _Space, d: _Design, rows: Sequence[int], options: Options
         ) -> tuple[np.ndarray, np.ndarray]:
    views = [v for v in options.train_views if v in space.z]
    pos, neg, mask = _targets(data, d, rows)
    x = np.concatenate([space.z[v][list(rows)] @ space.basis.T for v in views])
    weights = np.full(len(x), 1.0 / len(views))
    reps = len(views)
    if d.kind == "single":
        w, b = fit_softmax(x, np.tile(pos, (reps, 1)), np.tile(neg, (reps, 1)), weights, options.c_single)
    else:
        w, b = fit_sigmoid(x, np.tile((pos > 0).astype(float), (reps, 1)), np.tile(mask, (reps, 1)), weights,
                           options.c_multi)
    return w @ space.basis, b  # back to the standardised row's space


def _allowed(head: AttributeHead, taxonomy: Any, categories: Sequence[str | None]) -> np.ndarray:
    return np.array([[p is not None for p in head.placements(taxonomy, cid)] for cid in categories],
                    dtype=bool).reshape(len(categories), len(head.classes))


def _calibration_pairs(data: TrainingSet, d: _Design, head: AttributeHead, p: np.ndarray, rows: Sequence[int]
                       ) -> list[tuple[list[float], list[bool]]]:
    """Per class: (scores, correct) of what the head would answer on these products (rows of p)."""
    index = {v: c for c, v in enumerate(d.classes)}
    per = [([], []) for _ in d.classes]
    for r, i in enumerate(rows):
        gold = set(data.labels[i].get(d.attribute, ()))
        bad = set(data.negatives[i].get(d.attribute, ()))
        if d.kind == "single":
            if p[r].max() <= 0:
                continue
            best = int(np.argmax(p[r]))
            value = d.classes[best]
            if gold or value in bad:
                for c in range(len(d.classes)):  # one threshold for the head: every class shares the pairs
                    per[c][0].append(float(p[r, best]))
                    per[c][1].append(value in gold)
        else:
            for value, c in index.items():
                if p[r, c] <= 0 or not (gold or value in bad):
                    continue
                per[c][0].append(float(p[r, c]))
                per[c][1].append(value in gold)
    return per


def fit_heads(data: TrainingSet, taxonomy: Any, options: Options | None = None,
              attributes: Sequence[str] | None = None) -> AttributeHeads:
    """Heads for every attribute with enough labels, thresholds from out-of-fold predictions (folds by
    product id) when `options.calibrate`."""
    options = options or Options()
    with one_blas_thread():
        return _fit_heads(data, taxonomy, options, attributes)


def _fit_heads(data: TrainingSet, taxonomy: Any, options: Options, attributes: Sequence[str] | None
               ) -> AttributeHeads:
    space = _Space(data, taxonomy, options)
    heads: list[AttributeHead] = []
    kinds = len(TEXT_KINDS)
    for attribute in attributes if attributes is not None else data.attributes():
        d = design(data, attribute)
        if d is None:
            continue
        w, b = _fit(data, space, d, d.rows, options)
        thresholds = np.full((kinds, len(d.classes)), np.inf, dtype=np.float32)
        precision = np.full((kinds, len(d.classes)), np.nan, dtype=np.float32)
        head = AttributeHead(attribute, d.kind, d.classes, w, b, thresholds, precision, d.labelled)
        if options.calibrate:
            oof = {kind: np.zeros((len(d.judged), len(d.classes))) for kind in TEXT_KINDS}
            folds = {i: fold_of(data.ids[i], options.folds, "inner") for i in d.judged}
            for f in range(options.folds):
                train = [i for i in d.rows if folds[i] != f]
                test = [r for r, i in enumerate(d.judged) if folds[i] == f]
                if not test or len({v for i in train for v in data.labels[i].get(attribute, ())}) < 2:
                    continue
                fw, fb = _fit(data, space, d, train, options)
                probe = AttributeHead(attribute, d.kind, d.classes, fw, fb, thresholds, precision)
                for kind, view_name in CALIBRATION_VIEW.items():
                    if view_name not in space.z:
                        continue
                    rows = [d.judged[r] for r in test]
                    allowed = _allowed(head, taxonomy, [space.categories[view_name][i] for i in rows])
                    oof[kind][test] = probe.proba(space.z[view_name][rows], allowed)
            for k, kind in enumerate(TEXT_KINDS):
                if CALIBRATION_VIEW[kind] not in space.z:
                    continue
                for c, (scores, correct) in enumerate(_calibration_pairs(data, d, head, oof[kind], d.judged)):
                    thresholds[k, c], prec = choose_threshold(scores, correct, options.target)
                    precision[k, c] = np.nan if prec is None else prec
        heads.append(head)
    return AttributeHeads(space.layout, heads, options.target)


# ---------------------------------------------------------------------------------------------- report
def predict(heads: AttributeHeads, items: Sequence[HeadInput], taxonomy: Any) -> list[list[Answer]]:
    if not items:
        return []
    z = heads.layout.rows(items, taxonomy)
    out: list[list[Answer]] = [[] for _ in items]
    for head, p, placed in heads.probabilities(z, [it.category for it in items], taxonomy):
        for i, item in enumerate(items):
            for c, prob, prec in head.answer(p[i], item.kind):
                where = placed[i][c]
                if where is not None:
                    out[i].append(Answer(where[0], where[1], round(prob, 4), round(prec, 4), head.attribute,
                                         head.classes[c]))
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    products: int = 0  # labelled products scored
    answered: int = 0  # of them, with at least one answer

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)
        self.products += 1
        self.answered += bool(predicted)

    def merge(self, other: Counts) -> Counts:
        return Counts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.products + other.products,
                      self.answered + other.answered)

    def report(self) -> dict[str, Any]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        f = 2 * p * r / (p + r) if p and r else (0.0 if r is not None else None)
        return {"precision": _round(p), "recall": _round(r), "f1": _round(f), "products": self.products,
                "answered": self.answered, "tp": self.tp, "fp": self.fp, "fn": self.fn}


def summarize(per_attribute: Mapping[str, Counts]) -> dict[str, Any]:
    total = Counts()
    for counts in per_attribute.values():
        total = total.merge(counts)
    return {"attributes": {a: c.report() for a, c in sorted(per_attribute.items())}, "micro": total.report()}


def cross_validate(data: TrainingSet, taxonomy: Any, options: Options | None = None,
                   views: Sequence[View] = ("listing",), limit: int | None = None, seed: int = 0,
                   attributes: Sequence[str] | None = None) -> dict[View, list[list[Answer]]]:
    """Held-out answers for every product: each outer fold (by product id) is answered by heads fitted, and
    their thresholds chosen, on the other folds alone. `limit`: each head trains on at most this many of its
    labelled products of the other folds (a random subset, `seed`): the learning curve."""
    options = options or Options()
    out: dict[View, list[list[Answer]]] = {v: [[] for _ in data.ids] for v in views}
    folds = np.array([fold_of(pid, options.folds, "outer") for pid in data.ids])
    rng = np.random.default_rng(seed)
    wanted = list(attributes) if attributes is not None else data.attributes()
    for f in range(options.folds):
        test = [i for i in range(len(data.ids)) if folds[i] == f]
        train = [i for i in range(len(data.ids)) if folds[i] != f]
        if not test or not train:
            continue
        heads = []
        if limit is None:
            heads = [fit_heads(data.subset(train), taxonomy, options, wanted)]
        else:
            for attribute in wanted:
                have = [i for i in train if data.labels[i].get(attribute)]
                keep = set(rng.permutation(have)[:limit].tolist()) if len(have) > limit else set(have)
                rows = [i for i in train if i in keep]
                heads.append(fit_heads(data.subset(rows), taxonomy, options, [attribute]))
        for v in views:
            items = [data.inputs[i].get(v) or data.inputs[i]["catalog"] for i in test]
            for h in heads:
                for i, found in zip(test, predict(h, items, taxonomy), strict=True):
                    out[v][i].extend(found)
    return out


def score(data: TrainingSet, answers: Sequence[Sequence[Answer]], attributes: Sequence[str] | None = None
          ) -> dict[str, Any]:
    """Precision, recall, F1 per attribute (the head's own values against the labels) and micro overall,
    over the products labelled for each attribute."""
    per: dict[str, Counts] = {}
    wanted = attributes if attributes is not None else data.attributes()
    for attribute in wanted:
        counts = per.setdefault(attribute, Counts())
        for lab, found in zip(data.labels, answers, strict=True):
            gold = set(lab.get(attribute, ()))
            if gold:
                counts.add({a.label for a in found if a.head == attribute}, gold)
    return summarize(per)
