"""Per-store heads: light classifiers fitted on a store's merchant-labelled products (`catalog train`).

Features are what the local extractor computes anyway (extractor.local.features): the MiniLM vector of the
category query (title, then the opening of the description), the EfficientNet-Lite0 features of every photo
of the product, and the predicted category.

- Category head: a multinomial logistic regression on the text vector and the mean image feature.
- Attribute heads (extractor.local.attribute_heads): per attribute the merchant labels, one multinomial
  classifier (single-valued) or one-vs-rest classifiers with per-value thresholds (multi-valued), on the
  text vector, the mean and max image features over all photos and the predicted category; each answers
  only above a threshold chosen on held-out folds for a target precision, and reports that precision.
- Colour head: a multinomial logistic regression on the colour features of one photo
  (`colors.read_colors`), learning the store's colour names from its variant photos: which colour a
  merchant calls "Red", which part of the garment the name refers to.

The heads are saved as plain arrays (`heads.npz` + `meta.json`, no pickle) in a versioned folder under the
store's models dir: `<out_dir>/v<N>/`; `load_heads(out_dir)` opens the newest version. A store's heads are
used only for that store. Folders of formats 1 and 2 (one binary head per value, before attribute heads)
still load: their category and colour heads work, their value heads are not used (retrain the store).
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

from extractor.datasets.splits import is_held_out
from extractor.local import attribute_heads as ah
from extractor.local.attribute_heads import AttributeHeads, fit_softmax
from extractor.local.colors import COLOR_FEATURES, ColorGuess, ColorReading, Region
from extractor.local.features import FEATURE_DIM, TEXT_DIM, HeadInput, View, decode_photo, read_head_inputs
from extractor.local.text import ValueHit
from extractor.models import ProductInput

# 3: attribute heads (per attribute, calibrated thresholds) in place of one binary head per value;
# 2: a colour head; format 1 folders load without one.
FORMAT = 3
FEATURES = TEXT_DIM + FEATURE_DIM + 1  # the category head's row: text vector, mean image feature, has-image flag
CATEGORY_WEIGHT = 0.5  # store head probability -> added to the retrieval score of that category
MIN_EXAMPLES = 3  # a class (category or value) needs this many positive examples to be learned
_VERSION_DIR = re.compile(r"^v(\d+)$")
# The views of each labelled product that training reads (extractor.local.features.view).
TRAIN_VIEWS: tuple[View, ...] = ("catalog", "listing", "title", "photos")
REPORT_VIEWS: tuple[View, ...] = ("listing", "title", "photos")
CURVE_SIZES = (10, 25, 50, 100, None)  # labelled products per attribute (None: all)


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
    # attribute handle -> value handles the merchant rejected for this product (suggested and turned down)
    negatives: dict[str, list[str]] = field(default_factory=dict)

    def any(self) -> bool:
        return bool(self.category or any(self.values.values()) or self.color_photos
                    or any(self.negatives.values()))


def _as_labels(label: StoreLabels | dict[str, Any]) -> StoreLabels:
    if isinstance(label, StoreLabels):
        return label
    photos = [p if isinstance(p, ColorPhoto) else ColorPhoto(**p) for p in label.get("color_photos") or []]
    return StoreLabels(category=label.get("category"), values=dict(label.get("values") or {}), color_photos=photos,
                       negatives=dict(label.get("negatives") or {}))


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
    """Linear heads as arrays. `category_scores`, `value_hits` and `color_guesses` are what `LocalExtractor`
    calls; `attribute_heads` holds the attribute heads (None: no attribute has enough labels, or a folder
    saved before them)."""

    def __init__(self, categories: list[str], cat_w: np.ndarray, cat_b: np.ndarray,
                 legacy_values: Any = None, legacy_w: Any = None, legacy_b: Any = None,
                 meta: dict[str, Any] | None = None, color_head: ColorHead | None = None,
                 attribute_heads: AttributeHeads | None = None) -> None:
        # legacy_*: the per-value heads of formats 1 and 2, accepted (callers of that time pass them) and not
        # used: a store answers attribute values with `attribute_heads` once retrained.
        self.categories = categories
        self.cat_w, self.cat_b = cat_w.astype(np.float32), cat_b.astype(np.float32)
        self.attribute_heads = attribute_heads
        self.color_head = color_head
        self.meta = dict(meta or {})

    @property
    def values(self) -> list[tuple[str, str]]:
        """(attribute, value) of every value an attribute head may answer."""
        heads = self.attribute_heads.heads if self.attribute_heads else []
        return [(h.attribute, v) for h in heads for v in h.classes]

    # ------------------------------------------------------------ prediction
    def category_proba(self, x: np.ndarray) -> np.ndarray:
        """(N, C) category probabilities for (N, FEATURES) features."""
        return _softmax_proba(self.categories, self.cat_w, self.cat_b, x)

    def color_guesses(self, reading: ColorReading, taxonomy: Any) -> list[ColorGuess]:
        """A photo's colours in this store's names when it has a colour head, else the rules' names."""
        return self.color_head.guesses(reading, taxonomy) if self.color_head else reading.guesses

    def category_scores(self, text_vec: np.ndarray | None, img_feat: np.ndarray | None) -> dict[str, float]:
        if not self.categories or (text_vec is None and img_feat is None):
            return {}
        proba = self.category_proba(feature_vector(text_vec, img_feat)[None])[0]
        return {c: CATEGORY_WEIGHT * float(p) for c, p in zip(self.categories, proba, strict=True) if p >= 0.05}

    def value_hits(self, taxonomy: Any, item: HeadInput) -> list[ValueHit]:
        """What the attribute heads answer for one product (the predicted category in `item`), each with its
        probability as the confidence and the head's held-out precision."""
        if self.attribute_heads is None or (item.text is None and item.image_mean is None):
            return []
        source = "image" if item.image_mean is not None else "text"
        hits: list[ValueHit] = []
        for answer in self.attribute_heads.answers(item, taxonomy):
            try:
                value = taxonomy.value(answer.value)
            except KeyError:
                continue
            hits.append(ValueHit(answer.attribute, value.handle, value.id, value.name, answer.probability, source,
                                 precision=answer.precision))
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
        attribute_arrays = self.attribute_heads.arrays() if self.attribute_heads else {}
        np.savez(tmp / "heads.npz", cat_w=self.cat_w, cat_b=self.cat_b, col_w=head.w, col_b=head.b,
                 **attribute_arrays)
        meta = {**self.meta, "format": FORMAT, "version": version, "categories": self.categories,
                "features": FEATURES, "colors": head.classes, "color_features": COLOR_FEATURES,
                **(self.attribute_heads.meta() if self.attribute_heads else {}),
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds")}
        meta.pop("values", None)
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
    if meta.get("format") not in (1, 2, FORMAT) or meta.get("features") != FEATURES:
        raise ValueError(f"heads at {path} are format {meta.get('format')}; retrain them")
    arrays = np.load(path / "heads.npz")
    color_head = None
    if meta.get("colors"):
        if meta.get("color_features") != COLOR_FEATURES:
            raise ValueError(f"the colour head at {path} reads other colour features; retrain it")
        color_head = ColorHead(list(meta["colors"]), arrays["col_w"], arrays["col_b"])
    attribute_heads = AttributeHeads.load(meta, arrays) if meta.get("format") == FORMAT else None
    return StoreHeads(list(meta["categories"]), arrays["cat_w"], arrays["cat_b"], meta=meta, color_head=color_head,
                      attribute_heads=attribute_heads)


# ---------------------------------------------------------------- training
def _fit_multinomial(x: np.ndarray, y: Sequence[str | None], c: float) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Classes with at least MIN_EXAMPLES rows (rows of rarer or no class do not train) and the weights
    of a multinomial logistic regression over them (sum of log-losses + |w|^2 / 2c), in the layout
    `_softmax_proba` reads."""
    counts: dict[str, int] = {}
    for label in y:
        if label:
            counts[label] = counts.get(label, 0) + 1
    classes = sorted(k for k, n in counts.items() if n >= MIN_EXAMPLES)
    if len(classes) < 2:
        return [], np.zeros((0, x.shape[1]), dtype=np.float32), np.zeros(0, dtype=np.float32)
    rows = [i for i, label in enumerate(y) if label in classes]
    targets = np.zeros((len(rows), len(classes)))
    for r, i in enumerate(rows):
        targets[r, classes.index(y[i])] = 1.0
    with ah.one_blas_thread():
        w, b = fit_softmax(np.asarray(x, dtype=np.float64)[rows], targets, c=c)
    return classes, w, b


def fit_color_head(color_features: np.ndarray, handles: Sequence[str], c: float = 4.0) -> ColorHead | None:
    """A colour head on (M, COLOR_FEATURES) photo features and each photo's colour value handle; None when
    fewer than two colours have MIN_EXAMPLES photos."""
    if len(color_features) != len(handles):
        raise ValueError(f"{len(color_features)} colour feature rows but {len(handles)} colour photos")
    classes, w, b = _fit_multinomial(np.asarray(color_features, dtype=np.float32).reshape(-1, COLOR_FEATURES),
                                     list(handles), c)
    return ColorHead(classes, w, b) if classes else None


def training_set(ids: Sequence[str], inputs: Sequence[dict[View, HeadInput]],
                 labels: Sequence[StoreLabels]) -> ah.TrainingSet:
    """The attribute heads' training set: value labels and rejections (colour is the colour head's)."""
    values = [{a: list(v) for a, v in lab.values.items() if v and a != "color"} for lab in labels]
    negatives = [{a: list(v) for a, v in lab.negatives.items() if v and a != "color"} for lab in labels]
    return ah.TrainingSet(list(ids), list(inputs), values, negatives)


def train_heads(features: np.ndarray, labels: Sequence[StoreLabels | dict[str, Any]], c: float = 4.0,
                color_features: np.ndarray | None = None, inputs: Sequence[dict[View, HeadInput]] | None = None,
                ids: Sequence[str] | None = None, taxonomy: Any = None,
                options: ah.Options | None = None) -> StoreHeads:
    """Fit the heads: the category head on (N, FEATURES) features (see `feature_vector`), the attribute heads
    on `inputs` (each product's HeadInput per view; without them, none), the colour head on
    `color_features` (one row, `colors.read_colors(...).features`, per colour photo of the labels, in order;
    without it, none)."""
    x = np.asarray(features, dtype=np.float32)
    labs = [_as_labels(lab) for lab in labels]
    if len(x) != len(labs):
        raise ValueError(f"{len(x)} feature rows but {len(labs)} labels")
    categories, cat_w, cat_b = _fit_multinomial(x, [lab.category for lab in labs], c)
    color_head = None
    if color_features is not None:
        color_head = fit_color_head(color_features, [photo.value for lab in labs for photo in lab.color_photos], c)
    attribute_heads = None
    if inputs is not None:
        if len(inputs) != len(labs):
            raise ValueError(f"{len(inputs)} head inputs but {len(labs)} labels")
        data = training_set(ids or [str(i) for i in range(len(labs))], inputs, labs)
        fitted = ah.fit_heads(data, taxonomy, options)
        attribute_heads = fitted if fitted.heads else None
    return StoreHeads(categories, cat_w, cat_b, attribute_heads=attribute_heads, color_head=color_head, meta={
        "trained_on": len(labs), "category_examples": sum(lab.category in categories for lab in labs),
        "color_examples": 0 if color_features is None else len(color_features)})


def head_inputs(products: Sequence[ProductInput], extractor: Any = None, views: Sequence[View] = TRAIN_VIEWS
                ) -> list[dict[View, HeadInput]]:
    """Each product's HeadInput in each view, read with the extractor's taxonomy and models dir."""
    taxonomy = getattr(extractor, "taxonomy", None)
    if taxonomy is None:
        from taxonomy import Taxonomy

        taxonomy = Taxonomy.load()
    return read_head_inputs(products, taxonomy, getattr(extractor, "models_dir", None), views)


def category_rows(inputs: Sequence[dict[View, HeadInput]]) -> np.ndarray:
    """(N, FEATURES): the category head's row (the catalog view's text vector and mean image feature)."""
    rows = [feature_vector(item["catalog"].text, item["catalog"].image_mean) for item in inputs]
    return np.stack(rows) if rows else np.zeros((0, FEATURES), dtype=np.float32)


def read_color_photos(labels: Sequence[StoreLabels]) -> tuple[list[StoreLabels], list[ColorReading]]:
    """The labels with only their readable colour photos, and the colour reading of each kept photo (in
    order), each photo decoded as the local extractor decodes a product's photo."""
    from extractor.local.colors import read_colors

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
        kept.append(StoreLabels(lab.category, lab.values, photos, lab.negatives))
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
    """Category accuracy and colour accuracy (per variant photo) on held-out products."""
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
    return out


def attribute_report(data: ah.TrainingSet, taxonomy: Any, options: ah.Options | None = None,
                     views: Sequence[View] = REPORT_VIEWS, limit: int | None = None, seed: int = 0
                     ) -> dict[str, Any]:
    """Held-out precision, recall and F1 of the attribute heads per attribute and overall (micro), per view:
    every product answered by heads fitted, and thresholded, on the other folds (by product id) alone."""
    options = options or ah.Options()
    answers = ah.cross_validate(data, taxonomy, options, views=views, limit=limit, seed=seed)
    return {"folds": options.folds, "target_precision": options.target, "labelled_per_attribute": limit,
            "views": {v: ah.score(data, answers[v]) for v in views}}


def learning_curve(data: ah.TrainingSet, taxonomy: Any, options: ah.Options | None = None,
                   sizes: Sequence[int | None] = CURVE_SIZES, view: View = "listing", seed: int = 0
                   ) -> list[dict[str, Any]]:
    """The same heads fitted on at most n labelled products per attribute (n in `sizes`, None: all) of each
    outer fold's training folds, scored on the held-out fold."""
    rows = []
    for n in sizes:
        report = attribute_report(data, taxonomy, options, (view,), n, seed)
        rows.append({"labelled_per_attribute": n if n is not None else "all", **report["views"][view]})
    return rows


def train_store_heads(products: Sequence[ProductInput], labels: Sequence[StoreLabels | dict[str, Any]],
                      out_dir: Path, extractor: Any = None, held_out_percent: int = 20,
                      target_precision: float = ah.TARGET_PRECISION, curve: bool = False,
                      inputs: Sequence[dict[View, HeadInput]] | None = None) -> dict[str, Any]:
    """Fit on the store's labelled products, report held-out scores, then refit on all and save a new version
    under out_dir. The category and colour heads are scored on a product-level held-out split
    (`held_out_percent`); the attribute heads by cross-validation over folds of product ids, thresholds chosen
    inside each fold's training part (never on the products scored). Returns the report."""
    if len(products) != len(labels):
        raise ValueError(f"{len(products)} products but {len(labels)} labels")
    taxonomy = getattr(extractor, "taxonomy", None)
    if taxonomy is None:
        from taxonomy import Taxonomy

        taxonomy = Taxonomy.load()
    labs, readings = read_color_photos([_as_labels(lab) for lab in labels])
    color_x = color_feature_rows(readings)
    inputs = list(inputs) if inputs is not None else head_inputs(products, extractor)
    x = category_rows(inputs)
    ids = [p.product_id or str(i) for i, p in enumerate(products)]
    options = ah.Options(target=target_precision)
    test = np.array([is_held_out(pid, held_out_percent) for pid in ids], dtype=bool)
    report: dict[str, Any] = {"products": len(products), "train": int((~test).sum()), "held_out": int(test.sum()),
                              "color_photos": len(color_x), "target_precision": target_precision}
    if test.any() and (~test).any():
        color_test, color_train = _split(labs, color_x, test)
        heads = train_heads(x[~test], [lab for lab, t in zip(labs, test, strict=True) if not t],
                            color_features=color_train)
        report["held_out_scores"] = _scores(heads, x[test], [lab for lab, t in zip(labs, test, strict=True) if t],
                                            color_test)
    else:
        report["held_out_scores"] = None
    data = training_set(ids, inputs, labs)
    report["attributes"] = attribute_report(data, taxonomy, options) if len(ids) >= options.folds else None
    if curve:
        report["learning_curve"] = learning_curve(data, taxonomy, options)
    final = train_heads(x, labs, color_features=color_x, inputs=inputs, ids=ids, taxonomy=taxonomy, options=options)
    final.meta["held_out_scores"] = report["held_out_scores"]
    final.meta["attribute_scores"] = (report["attributes"] or {}).get("views", {}).get("listing", {}).get("micro")
    path = final.save(Path(out_dir))
    heads = final.attribute_heads.heads if final.attribute_heads else []
    report.update({"version": final.meta["version"], "path": str(path), "categories": len(final.categories),
                   "values": len(final.values),
                   "heads": [{"attribute": h.attribute, "kind": h.kind, "values": len(h.classes),
                              "labelled": h.labelled,
                              "answers": int(np.isfinite(h.thresholds[0]).sum())} for h in heads],
                   "colors": len(final.color_head.classes) if final.color_head else 0})
    return report


# ---------------------------------------------------------------- the report as text
def _num(value: Any) -> str:
    return "-" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def format_report(report: dict[str, Any]) -> str:
    """`catalog train`'s table: held-out precision, recall, F1 per attribute and overall, per view; the
    learning curve when it was run."""
    lines = [f"trained on {report['products']} labelled products: version {report.get('version')} at "
             f"{report.get('path')}"]
    scores = report.get("held_out_scores") or {}
    lines.append(f"category head: {report.get('categories', 0)} categories, held-out accuracy "
                 f"{_num(scores.get('category_accuracy'))}; colour head: {report.get('colors', 0)} colours, "
                 f"held-out accuracy per variant photo {_num(scores.get('color_accuracy'))} "
                 f"({scores.get('color_photos', 0)} photos)")
    attributes = report.get("attributes")
    if not attributes:
        lines.append("attribute heads: too few labelled products for a held-out report")
        return "\n".join(lines)
    kinds = {h["attribute"]: h for h in report.get("heads", [])}
    lines.append(f"attribute heads, held out ({attributes['folds']} folds by product id; thresholds chosen inside "
                 f"each fold's training part for precision >= {attributes['target_precision']:.2f}):")
    for view, table in attributes["views"].items():
        lines.append(f"  view {view!r}")
        lines.append(f"    {'attribute':<22}{'kind':<8}{'labelled':>9}{'answered':>9}{'precision':>10}{'recall':>8}"
                     f"{'f1':>7}")
        for attr, row in table["attributes"].items():
            head = kinds.get(attr, {})
            lines.append(f"    {attr:<22}{head.get('kind', '-'):<8}{row['products']:>9}{row['answered']:>9}"
                         f"{_num(row['precision']):>10}{_num(row['recall']):>8}{_num(row['f1']):>7}")
        micro = table["micro"]
        lines.append(f"    {'all (micro)':<30}{micro['products']:>9}{micro['answered']:>9}"
                     f"{_num(micro['precision']):>10}{_num(micro['recall']):>8}{_num(micro['f1']):>7}")
    if report.get("learning_curve"):
        lines.append(format_curve(report["learning_curve"]))
    return "\n".join(lines)


def format_curve(curve: Sequence[dict[str, Any]]) -> str:
    attrs = sorted({a for row in curve for a in row["attributes"]})
    head = f"  {'labels/attr':<12}" + "".join(f"{a[:14]:>15}" for a in attrs) + f"{'micro P':>9}{'R':>7}{'F1':>7}"
    lines = ["learning curve (held-out F1 per attribute, listing view):", head]
    for row in curve:
        cells = "".join(f"{_num(row['attributes'][a]['f1']):>15}" for a in attrs)
        micro = row["micro"]
        lines.append(f"  {str(row['labelled_per_attribute']):<12}{cells}{_num(micro['precision']):>9}"
                     f"{_num(micro['recall']):>7}{_num(micro['f1']):>7}")
    return "\n".join(lines)
