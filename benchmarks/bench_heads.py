"""Attribute heads on the fixture catalog (the demo store's 199 products), held out by product: before/after
for every attribute the merchant labelled. Writes results/heads.json.

    .venv/bin/python benchmarks/bench_heads.py [--cache DIR] [--verify 12] [--no-curve]

Labels are the merchant's, as `catalog train` reads them (indexer.training.merchant_labels): the taxonomy
attributes the fixture's attributes map onto (material -> fabric or material, pattern, activity, gender and
the category path -> target-gender, features, the variant sizes) and, per variant photo, its colour; plus the
fixture's two store-specific attributes (climate, style), which no taxonomy value expresses: the heads learn
them as the merchant's own words (measured here, not served: an extraction holds taxonomy values only).

Protocol: 5 outer folds by a hash of the product id. For each fold, heads are fitted on the other four folds
and their thresholds chosen there (5 inner folds by product id, out-of-fold predictions), for precision
>= 0.80; the held-out fold is answered once. Nothing of a held-out product (no label, no threshold) is seen
before it is scored. Each held-out product is shown as a listing: `listing` (title, description, photos; no
merchant path, type, tags, attributes or variant options), `title` (no description), `photos` (photos only).

Before/after per attribute:
- `rules`: the local extractor without store heads (the general rules, what a store without labels gets);
- `rules+old_heads`: plus the previous design (one binary logistic regression per value on the text vector
  and the mean image feature, fixed threshold 0.5), fitted on the same folds;
- `heads`: the attribute heads alone;
- `rules+heads`: what the store's extractor serves, the rules' values and the heads' answers merged as the
  extractor merges them (`--verify N` runs the real extractor with fold 0's heads on N held-out products and
  checks the merge matches).
Colour is per variant photo: the rules' main colour against the store's colour head (fitted on the other
folds' variant photos). Scores: precision, recall, F1 of the values of each attribute over the products
labelled with it (a value of a kin attribute, e.g. bag-case-material for fabric, counts by its value), micro
over attributes.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from common import write_json  # noqa: E402

from extractor.local import attribute_heads as ah  # noqa: E402
from extractor.local.features import VIEWS, view  # noqa: E402

EVAL_VIEWS = ("listing", "title", "photos")
STORE_SPECIFIC = {"climate": ("climate",), "style": ("style_general", "style_bottom", "style_bags")}
RANK = {"merchant": 3, "text": 2, "image": 1}
MAX_VALUES = 5


def cached_image_model() -> None:
    """The image model's outputs kept per photo (by its pixels) for the run: the rules' extractions of each
    view read the same photos again."""
    from extractor.local.imagenet import get_model

    model = get_model()
    run = model.run
    memo: dict[str, Any] = {}

    def key(image) -> str:
        return hashlib.sha1(image.tobytes() + repr(image.size).encode()).hexdigest()

    def cached(images, batch_size: int = 16):
        keys = [key(im) for im in images]
        todo = [im for im, k in zip(images, keys, strict=True) if k not in memo]
        for im, out in zip(todo, run(todo, batch_size) if todo else [], strict=True):
            memo[key(im)] = out
        return [memo[k] for k in keys]

    model.run = cached


def load_store(taxonomy) -> tuple[list, list, list[dict], list[dict]]:
    from indexer.conversions import extraction_input
    from indexer.importers import fixture_path, read_products

    products = sorted(read_products("demo", fixture_path()), key=lambda p: p.product_id)
    inputs = [extraction_input(p) for p in products]
    raw = [p.attributes for p in products]
    return products, inputs, raw, []


def store_specific(raw: dict[str, list[str]]) -> dict[str, list[str]]:
    out = {}
    for name, keys in STORE_SPECIFIC.items():
        values = [v for k in keys for v in raw.get(k, [])]
        if values:
            out[name] = list(dict.fromkeys(values))
    return out


def _base(handle: str) -> str:
    word = handle.rsplit("-", 1)[-1]
    return "material" if word == "fabric" else word


def predicted_for(values: list[tuple[str, str]], attribute: str) -> set[str]:
    """The value handles in `attribute`'s terms: its own values, and a kin attribute's by their suffix."""
    out = set()
    for attr, handle in values:
        if attr == attribute:
            out.add(handle)
        elif _base(attr) == _base(attribute):
            out.add(f"{attribute}__{handle.split('__', 1)[-1]}")
    return out


def score_values(labels: list[dict[str, list[str]]], served: list[list[tuple[str, str]]], attributes) -> dict:
    per = {}
    for attribute in attributes:
        counts = per.setdefault(attribute, ah.Counts())
        for lab, values in zip(labels, served, strict=True):
            gold = set(lab.get(attribute, ()))
            if gold:
                counts.add(predicted_for(values, attribute), gold)
    return ah.summarize(per)


def merge(rules: list[tuple[str, str, str, float]], heads: list[tuple[str, str, str, float]]) -> list[tuple[str, str]]:
    """The extractor's merge (LocalExtractor._attributes): per attribute and value the better source, values
    ordered text before image then by confidence, at most MAX_VALUES per attribute (colour 16)."""
    best: dict[tuple[str, str], tuple[str, float]] = {}
    for attr, value, source, confidence in [*rules, *heads]:
        current = best.get((attr, value))
        if current is None or (RANK[source], confidence) > (RANK[current[0]], current[1]):
            best[(attr, value)] = (source, confidence)
    by_attr: dict[str, list[tuple[str, str, float]]] = {}
    for (attr, value), (source, confidence) in best.items():
        by_attr.setdefault(attr, []).append((value, source, confidence))
    out = []
    for attr, values in by_attr.items():
        values.sort(key=lambda v: (-RANK[v[1]], -v[2]))
        out += [(attr, v[0]) for v in values[:16 if attr == "color" else MAX_VALUES]]
    return out


def old_heads_answers(data: ah.TrainingSet, taxonomy, views, folds: int = 5) -> dict[str, list[list]]:
    """The previous design, on the same outer folds: per value a binary logistic regression (C=4) on the
    category head's row (text vector, mean image feature, has-image flag) over the products labelled for the
    attribute, answering at p >= 0.5 with confidence 0.9 p; kept where the category has the attribute."""
    from extractor.local.train import feature_vector

    def row(item):
        return feature_vector(item.text, item.image_mean)

    out = {v: [[] for _ in data.ids] for v in views}
    fold = np.array([ah.fold_of(pid, folds, "outer") for pid in data.ids])
    with ah.one_blas_thread():
        for f in range(folds):
            train = [i for i in range(len(data.ids)) if fold[i] != f]
            test = [i for i in range(len(data.ids)) if fold[i] == f]
            x = np.stack([row(data.inputs[i]["catalog"]) for i in train])
            for attr in [a for a in data.attributes() if a not in STORE_SPECIFIC]:
                labelled = [r for r, i in enumerate(train) if data.labels[i].get(attr)]
                for handle in sorted({v for r in labelled for v in data.labels[train[r]][attr]}):
                    y = np.array([handle in data.labels[train[r]][attr] for r in labelled], dtype=float)
                    if y.sum() < 3 or (1 - y).sum() < 3:
                        continue
                    w, b = ah.fit_sigmoid(x[labelled], y[:, None], np.ones((len(labelled), 1)), c=4.0)
                    for v in views:
                        items = [data.inputs[i].get(v) for i in test]
                        z = np.stack([row(it) for it in items]) @ w.T + b
                        p = 1 / (1 + np.exp(-z[:, 0]))
                        for i, it, prob in zip(test, items, p, strict=True):
                            allowed = taxonomy.category(it.category).attribute_handles if it.category else ()
                            if prob >= 0.5 and attr in allowed:
                                out[v][i].append((attr, handle, "image" if it.image_mean is not None else "text",
                                                  round(0.9 * float(prob), 4)))
    return out


def color_scores(labels, readings, ids, folds: int = 5) -> dict[str, Any]:
    """Per variant photo: the rules' main colour and the store colour head fitted on the other folds."""
    from extractor.local.train import color_feature_rows, fit_color_head

    photos = [(i, photo.value) for i, lab in enumerate(labels) for photo in lab.color_photos]
    if not photos:
        return {}
    x = color_feature_rows(readings)
    gold = [value for _, value in photos]
    rules = [bool(r.guesses) and r.guesses[0].handle == want for r, want in zip(readings, gold, strict=True)]
    fold = np.array([ah.fold_of(ids[i], folds, "outer") for i, _ in photos])
    head_ok = np.zeros(len(photos), dtype=bool)
    for f in range(folds):
        train, test = fold != f, fold == f
        head = fit_color_head(x[train], [g for g, t in zip(gold, train, strict=True) if t])
        if head is None or not test.any():
            continue
        pred = head.proba(x[test]).argmax(1)
        head_ok[test] = [head.classes[int(k)] == g for k, g in zip(pred, np.array(gold)[test], strict=True)]
    n = len(photos)
    return {"photos": n, "products": len({i for i, _ in photos}), "rules_accuracy": round(sum(rules) / n, 4),
            "color_head_accuracy": round(float(head_ok.mean()), 4)}


def verify(data, taxonomy, products, rules_values, head_answers, n: int) -> dict[str, Any]:
    """The real extractor with fold 0's heads (saved and loaded as `catalog train` saves them) on n held-out
    products in the listing view, against the merge above."""
    import tempfile

    from extractor.local import LocalExtractor
    from extractor.local.train import StoreHeads, load_heads

    fold = [ah.fold_of(pid, 5, "outer") for pid in data.ids]
    train = [i for i, f in enumerate(fold) if f != 0]
    test = [i for i, f in enumerate(fold) if f == 0][:n]
    heads = ah.fit_heads(data.subset(train), taxonomy, ah.Options(),
                         [a for a in data.attributes() if a not in STORE_SPECIFIC])
    with tempfile.TemporaryDirectory() as tmp:
        StoreHeads([], np.zeros((0, 1)), np.zeros(0), attribute_heads=heads).save(Path(tmp))
        extractor = LocalExtractor(store_head=load_heads(Path(tmp)), safety=False)
        extractions = extractor.extract([view(products[i], "listing") for i in test])
    same = 0
    mismatches = []
    for i, ex in zip(test, extractions, strict=True):
        real = {(a.handle, v.value) for a in ex.attributes for v in a.values}
        simulated = set(merge(rules_values["listing"][i], [a for a in head_answers["listing"][i]
                                                            if a[0] not in STORE_SPECIFIC]))
        same += real == simulated
        if real != simulated:
            mismatches.append({"product": data.ids[i], "only_real": sorted(real - simulated),
                               "only_simulated": sorted(simulated - real)})
    return {"products": len(test), "identical": same, "mismatches": mismatches[:5]}


def rules_extractions(products, views) -> dict[str, list[list[tuple[str, str, str, float]]]]:
    from extractor.local import LocalExtractor

    extractor = LocalExtractor(safety=False)
    out = {}
    for v in views:
        started = time.perf_counter()
        extractions = []
        for start in range(0, len(products), 32):
            extractions += extractor.extract([view(p, v) for p in products[start:start + 32]])
        out[v] = [[(a.handle, x.value, x.source, x.confidence) for a in ex.attributes for x in a.values]
                  for ex in extractions]
        print(f"rules extraction, view {v}: {time.perf_counter() - started:.0f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=None, help="keep features and the rules' extractions here")
    parser.add_argument("--verify", type=int, default=12, help="held-out products the real extractor checks")
    parser.add_argument("--no-curve", action="store_true")
    parser.add_argument("--out", default="heads")
    args = parser.parse_args()
    from extractor.local.train import head_inputs, read_color_photos, training_set
    from indexer.training import merchant_labels
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    cached_image_model()
    products_db, products, raw, _ = load_store(taxonomy)
    ids = [p.product_id for p in products]
    cache = args.cache / "bench_heads.pkl" if args.cache else None
    started = time.perf_counter()
    if cache is not None and cache.exists():
        saved = pickle.loads(cache.read_bytes())
        inputs, rules_values = saved["inputs"], saved["rules"]
    else:
        inputs = head_inputs(products, views=VIEWS)
        print(f"features: {time.perf_counter() - started:.0f} s", flush=True)
        rules_values = rules_extractions(products, EVAL_VIEWS)
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_bytes(pickle.dumps({"inputs": inputs, "rules": rules_values}))
    from extractor.local.train import _as_labels

    labels = [_as_labels(merchant_labels(p, taxonomy, item["catalog"].category))
              for p, item in zip(products_db, inputs, strict=True)]
    data = training_set(ids, inputs, labels)
    for lab, extra in zip(data.labels, raw, strict=True):
        lab.update(store_specific(extra))
    taxonomy_attrs = sorted({a for lab in labels for a, v in lab.values.items() if v and a != "color"})
    attrs = data.attributes()
    counts = {a: sum(bool(lab.get(a)) for lab in data.labels) for a in attrs}
    options = ah.Options()
    fit_started = time.perf_counter()
    answers = ah.cross_validate(data, taxonomy, options, views=EVAL_VIEWS)
    heads_seconds = time.perf_counter() - fit_started
    head_values = {v: [[(a.attribute, a.value, "image" if data.inputs[i][v].image_mean is not None else "text",
                         a.probability) for a in found] for i, found in enumerate(answers[v])] for v in EVAL_VIEWS}
    old = old_heads_answers(data, taxonomy, EVAL_VIEWS)
    result: dict[str, Any] = {"views": {}}
    for v in EVAL_VIEWS:
        rules = [[(a, h) for a, h, _, _ in vals] for vals in rules_values[v]]
        served = [merge(r, [a for a in hv if a[0] not in STORE_SPECIFIC]) for r, hv in
                  zip(rules_values[v], head_values[v], strict=True)]
        old_served = [merge(r, o) for r, o in zip(rules_values[v], old[v], strict=True)]
        heads_only = [[(a, h) for a, h, _, _ in hv] for hv in head_values[v]]
        table = {"rules": score_values(data.labels, rules, attrs),
                 "rules+old_heads": score_values(data.labels, old_served, attrs),
                 "heads": score_values(data.labels, heads_only, attrs),
                 "rules+heads": score_values(data.labels, served, attrs)}
        for name, subset in (("taxonomy_attributes", taxonomy_attrs),
                             ("attributes_with_50_labels", [a for a in attrs if counts[a] >= 50]),
                             ("with_50_labels_not_size", [a for a in attrs if counts[a] >= 50 and a != "size"])):
            for how, rows in (("rules", rules), ("rules+old_heads", old_served), ("heads", heads_only),
                              ("rules+heads", served)):
                table[how][name] = score_values(data.labels, rows, subset)["micro"]
        result["views"][v] = table
    labs_read, readings = read_color_photos(labels)
    result["color_per_variant_photo"] = color_scores(labs_read, readings, ids)
    if not args.no_curve:
        curve_started = time.perf_counter()
        from extractor.local.train import learning_curve

        result["learning_curve"] = learning_curve(data, taxonomy, options)
        result["learning_curve_seconds"] = round(time.perf_counter() - curve_started, 1)
    if args.verify:
        result["verify"] = verify(data, taxonomy, products, rules_values, head_values, args.verify)
    result.update({"benchmark": "attribute_heads", "store": "fixture catalog (demo), 199 products",
                   "labelled_products": counts, "store_specific_attributes": sorted(STORE_SPECIFIC),
                   "target_precision": options.target, "folds": options.folds,
                   "protocol": "5 outer folds by product id; thresholds from 5 inner folds of the training folds",
                   "heads_cross_validation_seconds": round(heads_seconds, 1)})
    print_tables(result)
    write_json(args.out, result)


def _n(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_tables(result: dict[str, Any]) -> None:
    for v, table in result["views"].items():
        print(f"\nview {v!r}: precision / recall / F1 per attribute (held out by product)")
        print(f"  {'attribute':<16}{'labelled':>9}" + "".join(f"{h:>24}" for h in table))
        for attr in table["rules"]["attributes"]:
            cells = ""
            for how in table:
                row = table[how]["attributes"][attr]
                cells += f"{_n(row['precision']):>8}{_n(row['recall']):>8}{_n(row['f1']):>8}"
            print(f"  {attr:<16}{result['labelled_products'][attr]:>9}{cells}")
        for key in ("micro", "taxonomy_attributes", "attributes_with_50_labels", "with_50_labels_not_size"):
            cells = "".join(f"{_n(table[h][key]['precision']):>8}{_n(table[h][key]['recall']):>8}"
                            f"{_n(table[h][key]['f1']):>8}" for h in table)
            print(f"  {key[:25]:<25}{cells}")
    color = result.get("color_per_variant_photo") or {}
    if color:
        print(f"\ncolour per variant photo ({color['photos']} photos): rules {color['rules_accuracy']:.3f}, "
              f"store colour head {color['color_head_accuracy']:.3f}")
    if result.get("learning_curve"):
        from extractor.local.train import format_curve

        print(format_curve(result["learning_curve"]))
    if result.get("verify"):
        check = result["verify"]
        print(f"\nreal extractor with fold 0's heads: {check['identical']}/{check['products']} held-out products "
              "identical to the merge scored here")


if __name__ == "__main__":
    main()
