"""Extraction quality against gold labels: `evaluate(dataset, extractor) -> dict` (JSON-ready).

Datasets: "magento" (the fixture catalog; a folder in Magento sample-data layout, held-out products
only) and "oa-mine" (product titles with gold values; a JSONL path is accepted too).
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from extractor.base import Extractor
from extractor.models import Extraction, ProductInput
from taxonomy import WHOLE_PHRASE_CONFIDENCE, Taxonomy

SHARED = Path(os.environ.get("CATALOG_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
# Attribute families: a gold label for "material" is met by fabric__cotton or material__cotton alike.
FAMILIES: dict[str, tuple[str, ...]] = {
    "color": ("color",),
    "target-gender": ("target-gender",),
    "material": ("fabric", "material", "bag-case-material", "watch-material", "footwear-material"),
    "pattern": ("pattern",),
    "size": ("size", "shoe-size", "accessory-size"),
    "age-group": ("age-group",),
}
OA_MINE_ATTRIBUTES = {"Color": "color", "Gender": "target-gender", "Material": "material", "Size": "size",
                      "Age": "age-group"}


def _suffix(handle: str) -> str:
    return handle.split("__", 1)[-1]


def _predicted(extraction: Extraction, family: str) -> set[str]:
    handles = FAMILIES[family]
    return {_suffix(v.value) for a in extraction.attributes if a.handle in handles for v in a.values}


def _gold_values(taxonomy: Taxonomy, family: str, texts: Iterable[str]) -> set[str]:
    """Each gold string as one value of the family: the first attribute (family order) that names the whole
    string, else the attribute whose value covers most of it. ("7.5 M US" is shoe size 7.5, not the M of
    `size` that a first-attribute-with-any-match rule would take.)"""
    out: set[str] = set()
    for text in texts:
        partial: list[tuple[float, int, str]] = []
        for rank, handle in enumerate(FAMILIES[family]):
            matches = taxonomy.match_value(handle, text)
            if not matches:
                continue
            if matches[0].confidence >= WHOLE_PHRASE_CONFIDENCE:  # the value names the whole string
                partial = [(0.0, rank, matches[0].value_handle)]
                break
            partial.append((-matches[0].confidence, rank, matches[0].value_handle))
        if partial:
            out.add(_suffix(min(partial)[2]))
    return out


class _PRF:
    def __init__(self) -> None:
        self.tp = self.fp = self.fn = 0
        self.support = 0

    def add(self, predicted: set[str], gold: set[str]) -> None:
        self.tp += len(predicted & gold)
        self.fp += len(predicted - gold)
        self.fn += len(gold - predicted)
        self.support += 1 if gold else 0

    def report(self) -> dict[str, Any]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else None
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else None
        # Gold values but no predictions (or no correct ones) is an F1 of 0, not "undefined".
        f = 2 * p * r / (p + r) if p and r else (0.0 if (p is not None or r is not None) else None)
        return {"precision": _round(p), "recall": _round(r), "f1": _round(f), "support": self.support}


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 4)


def _batched(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


# held_out: the products a store head never trains on; other: the rest; all: both.
SPLITS = ("held_out", "other", "all")


def _extract_all(extractor: Extractor, products: Sequence[ProductInput], batch_size: int) -> list[Extraction]:
    """One extraction per product, in order, `batch_size` products per `extract` call."""
    out: list[Extraction] = []
    for chunk in _batched(products, batch_size):
        out.extend(extractor.extract(chunk))
    return out


def _color_labels(gold: Sequence[Any], extractions: Sequence[Extraction]) -> list[Any]:
    """Per product, its variant photos with their gold colour (reviewed Magento -> taxonomy table), placed
    by the extracted category as `catalog train` places them when the merchant gives no taxonomy id."""
    from extractor.local.colors import region_for
    from extractor.local.datafiles import load_data
    from extractor.local.train import ColorPhoto, StoreLabels

    table = load_data("magento_categories.json")["colors"]
    out = []
    for g, ex in zip(gold, extractions, strict=True):
        region = region_for(ex.category.full_name if ex.category else "")
        out.append(StoreLabels(color_photos=[ColorPhoto(path, table[color], region)
                                             for path, color in g.variant_photos if table.get(color)]))
    return out


def evaluate_magento(extractor: Extractor, folder: str | Path | None = None, split: str = "held_out",
                     batch_size: int = 32, merchant_data: bool = True, color_head: bool = False,
                     title: str | None = None) -> dict[str, Any]:
    """`merchant_data=False` hides the merchant's category path and product type (the listing-time case:
    title, description and photo only). `title` replaces every product's title and drops its description and
    merchant data: the photo against a title that says nothing or misleads ("Summit Kit", a brand alone).
    `color_head=True` reads colours as a store does after `catalog train`: a colour head fitted on the
    variant photos of the other split's products (never on the products it is scored on)."""
    from extractor.datasets.magento import load
    from extractor.datasets.splits import is_held_out
    from extractor.local.train import color_feature_rows, fit_color_head, read_color_photos

    folder = Path(folder) if folder else _default_magento()
    taxonomy = Taxonomy.load()
    everything = load(folder)
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; use one of {', '.join(SPLITS)}")
    if color_head and split == "all":
        raise ValueError("a colour head needs products to train on outside the split: use held_out or other")
    gold = everything if split == "all" else [g for g in everything if is_held_out(g.sku) == (split == "held_out")]
    if not merchant_data or title is not None:
        for g in gold:
            g.product = g.product.model_copy(update={"merchant_category": None, "product_type": ""})
    if title is not None:
        for g in gold:
            g.product = g.product.model_copy(update={"title": title, "description": ""})
    extractions = _extract_all(extractor, [g.product for g in gold], batch_size)
    exact = ancestor = vertical = 0
    per_attr = {name: _PRF() for name in ("target-gender", "material", "pattern")}
    for g, ex in zip(gold, extractions, strict=True):
        cid = ex.category.id if ex.category else None
        if cid in g.accept:
            exact += 1
        lineage = {c.id for c in taxonomy.ancestors(cid)} | {cid} if cid else set()
        if lineage & set(g.ancestors + g.accept):
            ancestor += 1
        if cid and cid.split("-", 1)[0] == (g.accept or g.ancestors)[0].split("-", 1)[0]:
            vertical += 1
        gender_gold = _gold_values(taxonomy, "target-gender", [g.gender] if g.gender else [])
        per_attr["target-gender"].add(_predicted(ex, "target-gender"), gender_gold)
        per_attr["material"].add(_predicted(ex, "material"), _gold_values(taxonomy, "material", g.material))
        per_attr["pattern"].add(_predicted(ex, "pattern"), _gold_values(taxonomy, "pattern", g.pattern))
    # Colour from pixels alone, on each variant photo the CSV ties to a variant colour; an unreadable
    # photo counts as a miss.
    labels = _color_labels(gold, extractions)
    color_n = sum(len(lab.color_photos) for lab in labels)
    labels, readings = read_color_photos(labels)
    head, trained_on = None, None
    if color_head:
        others = [g for g in everything if is_held_out(g.sku) != (split == "held_out")]
        others_extracted = _extract_all(extractor, [g.product for g in others], batch_size)
        train_labels, train_readings = read_color_photos(_color_labels(others, others_extracted))
        head = fit_color_head(color_feature_rows(train_readings),
                              [photo.value for lab in train_labels for photo in lab.color_photos])
        trained_on = len(train_readings)
    wanted = [photo.value for lab in labels for photo in lab.color_photos]
    guesses = [head.guesses(r, taxonomy) if head else r.guesses for r in readings]
    color_ok = sum(bool(gs) and gs[0].handle == want for gs, want in zip(guesses, wanted, strict=True))
    n = len(gold)
    return {
        "dataset": "magento", "split": split, "merchant_data": merchant_data, "products": n,
        "category_accuracy": _round(exact / n) if n else None,
        "category_ancestor_accuracy": _round(ancestor / n) if n else None,
        "category_vertical_accuracy": _round(vertical / n) if n else None, "title": title,
        "color_accuracy": _round(color_ok / color_n) if color_n else None, "color_photos": color_n,
        "color_head_trained_on": trained_on,
        "attributes": {k: v.report() for k, v in per_attr.items()},
    }


def evaluate_oa_mine(extractor: Extractor, path: str | Path | None = None, batch_size: int = 64) -> dict[str, Any]:
    from extractor.datasets.oa_mine import load

    rows = load(path or SHARED / "oa-mine" / "test.jsonl")
    taxonomy = Taxonomy.load()
    products = [ProductInput(product_id=str(i), title=r["input"]) for i, r in enumerate(rows)]
    extractions = _extract_all(extractor, products, batch_size)
    per_attr: dict[str, _PRF] = defaultdict(_PRF)
    for row, ex in zip(rows, extractions, strict=True):
        for oa_name, family in OA_MINE_ATTRIBUTES.items():
            values = [v for v in row["target_scores"].get(oa_name, {}) if v != "n/a"]
            gold = _gold_values(taxonomy, family, values)
            if values and not gold:
                continue  # a gold value the taxonomy cannot express: not scorable
            per_attr[family].add(_predicted(ex, family), gold)
    return {"dataset": "oa-mine", "products": len(rows), "category_accuracy": None,
            "category_ancestor_accuracy": None, "color_accuracy": None,
            "attributes": {k: v.report() for k, v in sorted(per_attr.items())}}


def _default_magento() -> Path:
    for candidate in (Path(__file__).resolve().parents[1] / "indexer" / "data" / "fixture", SHARED / "magento-luma"):
        if (candidate / "fixtures").is_dir() or (candidate / "ConfigurableSampleData").is_dir():
            return candidate
    raise FileNotFoundError("no Magento fixture catalog found; pass a folder")


def evaluate(dataset: str, extractor: Extractor | None = None, path: str | Path | None = None,
             **kwargs: Any) -> dict[str, Any]:
    if extractor is None:
        from extractor.local import LocalExtractor

        extractor = LocalExtractor()
    if dataset == "magento":
        return evaluate_magento(extractor, path, **kwargs)
    if dataset in ("oa-mine", "oa_mine") or (path is None and str(dataset).endswith(".jsonl")):
        return evaluate_oa_mine(extractor, path or (dataset if dataset.endswith(".jsonl") else None), **kwargs)
    raise ValueError(f"unknown dataset {dataset!r}; use 'magento' or 'oa-mine'")


def format_table(result: dict[str, Any]) -> str:
    """The result as a short table: headline accuracies, then precision/recall/F1 per attribute."""
    def num(value: Any) -> str:
        return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = [f"dataset {result['dataset']}: {result['products']} products"]
    if result.get("title") is not None:
        lines.append(f"  every title replaced by {result['title']!r}, descriptions and merchant data dropped")
    for key in ("category_accuracy", "category_ancestor_accuracy", "category_vertical_accuracy", "color_accuracy"):
        lines.append(f"  {key:<28}{num(result.get(key))}")
    if result.get("color_head_trained_on") is not None:
        trained_on = result["color_head_trained_on"]
        lines.append(f"  {'  store colour head':<28}fitted on {trained_on} photos of the other split")
    lines.append(f"  {'attribute':<28}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}")
    for handle, row in result.get("attributes", {}).items():
        lines.append(f"  {handle:<28}{num(row.get('precision')):>10}{num(row.get('recall')):>10}"
                     f"{num(row.get('f1')):>10}{num(row.get('support')):>9}")
    return "\n".join(lines)


if __name__ == "__main__":
    import json
    import sys

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    options = {"merchant_data": False} if "--no-merchant-data" in sys.argv else {}
    print(json.dumps(evaluate(args[0] if args else "magento", **options), indent=2))
