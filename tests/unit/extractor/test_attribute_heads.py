"""Attribute heads: the fits, calibrated abstention, category restriction, negatives, the held-out report
(nothing of a held-out product is seen before it is scored), the learning curve, save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.local import attribute_heads as ah
from extractor.local.features import FEATURE_DIM, TEXT_DIM, HeadInput
from extractor.local.train import StoreHeads, load_heads, training_set
from extractor.local.train import StoreLabels as Labels
from taxonomy import Taxonomy

TEES = "aa-1-13-8"  # T-Shirts: fabric, pattern, color, size, target-gender, ...
BACKPACKS = "lb-1"  # no fabric; bag-case-material
NO_PATTERN = "ae-2-1-3-2"  # no pattern attribute


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


PROTOTYPES = np.random.default_rng(42).normal(size=(8, TEXT_DIM + FEATURE_DIM)).astype(np.float32) * 0.3


def item(rng, signal: int, strength: float = 1.0, category: str | None = TEES, kind="description",
         text: bool = True) -> HeadInput:
    """A product whose photo (and title) carry class `signal`'s direction under as much noise."""
    row = rng.normal(size=TEXT_DIM + FEATURE_DIM).astype(np.float32) * 0.3 + strength * PROTOTYPES[signal]
    vec, mean = row[:TEXT_DIM], row[TEXT_DIM:]
    return HeadInput(vec if text else None, mean, mean + 0.1, category, kind)


def views(inp: HeadInput) -> dict:
    """The same input in every view (the synthetic products have no text to lose)."""
    return {v: inp for v in ("catalog", "listing", "title", "photos")}


def pattern_store(rng, n: int = 60, noisy: int = 0):
    """Solid, striped and floral tees, each pattern readable from the photo; `noisy` products get a random
    label (their photos say nothing)."""
    values = ["pattern__solid", "pattern__striped", "pattern__floral"]
    ids, inputs, labels = [], [], []
    for i in range(n):
        k = i % 3
        inp = item(rng, k, strength=0.0 if i < noisy else 1.0)
        ids.append(f"tee-{i}")
        inputs.append(views(inp))
        labels.append({"pattern": [values[int(rng.integers(3)) if i < noisy else k]]})
    return ah.TrainingSet(ids, inputs, labels, [{} for _ in ids])


def test_fits_are_deterministic_and_learn_a_signal() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(90, 12))
    y = np.arange(90) % 3
    x[np.arange(90), y] += 3
    targets = np.eye(3)[y]
    w1, b1 = ah.fit_softmax(x, targets)
    w2, b2 = ah.fit_softmax(x, targets)
    assert np.array_equal(w1, w2) and np.array_equal(b1, b2)
    assert ((x @ w1.T + b1).argmax(1) == y).mean() > 0.95
    w, b = ah.fit_sigmoid(x, targets, np.ones_like(targets))
    assert ((x @ w.T + b > 0) == targets.astype(bool)).mean() > 0.95


def test_a_rejection_pushes_its_value_down() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 5))
    targets = np.zeros((40, 2))
    targets[:20, 0] = 1  # half say A; the other half have only "not A" (rejected suggestions)
    negatives = np.zeros((40, 2))
    negatives[20:, 0] = 1
    w, b = ah.fit_softmax(x, targets, negatives)
    p = np.exp(b - b.max())
    p /= p.sum()
    assert 0.3 < p[0] < 0.7  # without the negatives every row says A: p(A) would approach 1
    w_pos, b_pos = ah.fit_softmax(x[:20], targets[:20])
    assert (b_pos[0] - b_pos[1]) > (b[0] - b[1])


def test_choose_threshold_reaches_the_target_or_abstains() -> None:
    scores = [0.95, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5, 0.4, 0.3]
    correct = [True, True, True, True, True, True, True, False, False, False]
    threshold, precision = ah.choose_threshold(scores, correct, 0.85)
    assert threshold == 0.6 and precision == round(8 / 9, 4)  # (7 + 1) / (7 + 2)
    assert ah.choose_threshold(scores, correct, 0.8) == (0.5, 0.8)  # one wrong answer more: (7 + 1) / (8 + 2)
    assert ah.choose_threshold(scores, [False] * 10, 0.8) == (float("inf"), None)
    # Fewer than MIN_ANSWERS answers never set a threshold, however right they were.
    assert ah.choose_threshold([0.9] * (ah.MIN_ANSWERS - 1), [True] * (ah.MIN_ANSWERS - 1), 0.5)[1] is None
    # Every answer at the threshold's score is given: no cut between equal scores.
    threshold, _ = ah.choose_threshold([0.9, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8], [True] * 6 + [False], 0.7)
    assert threshold == 0.8


def test_a_single_valued_head_answers_with_its_held_out_precision(taxonomy) -> None:
    rng = np.random.default_rng(2)
    data = pattern_store(rng, 90)
    heads = ah.fit_heads(data, taxonomy)
    [head] = heads.heads
    assert head.kind == "single" and head.classes == ["pattern__floral", "pattern__solid", "pattern__striped"]
    k = ah.TEXT_KINDS.index("description")
    assert np.isfinite(head.thresholds[k]).all() and (head.precision[k] >= 0.8).all()
    [answer] = heads.answers(item(rng, 1), taxonomy)
    assert (answer.attribute, answer.value) == ("pattern", "pattern__striped")
    assert answer.precision == pytest.approx(float(head.precision[k, 0]), abs=1e-4)
    assert answer.probability >= head.thresholds[k, 0]
    # A photo that says nothing: the head abstains rather than guess.
    assert heads.answers(item(rng, 0, strength=0.0), taxonomy) == []


def test_answers_are_restricted_to_what_the_category_allows(taxonomy) -> None:
    rng = np.random.default_rng(3)
    heads = ah.fit_heads(pattern_store(rng, 90), taxonomy)
    assert "pattern" not in taxonomy.category(NO_PATTERN).attribute_handles
    assert heads.answers(item(rng, 1, category=NO_PATTERN), taxonomy) == []
    assert [a.value for a in heads.answers(item(rng, 1, category=BACKPACKS), taxonomy)] == ["pattern__striped"]
    assert heads.answers(item(rng, 1, category=None), taxonomy) == []
    # A fabric value under a category that has no fabric but a kin attribute with the same value.
    fabric = ah.AttributeHead("fabric", "single", ["fabric__nylon", "fabric__polyester"], np.zeros((2, 3)),
                              np.zeros(2), np.zeros((3, 2)), np.full((3, 2), 0.9))
    placed = fabric.placements(taxonomy, BACKPACKS)
    assert placed == [("bag-case-material", "bag-case-material__nylon"),
                      ("bag-case-material", "bag-case-material__polyester")]
    assert fabric.placements(taxonomy, TEES) == [("fabric", "fabric__nylon"), ("fabric", "fabric__polyester")]


def test_a_multi_valued_head_has_a_threshold_per_value(taxonomy) -> None:
    rng = np.random.default_rng(4)
    values = ["fabric__cotton", "fabric__polyester", "fabric__lycra"]
    ids, inputs, labels = [], [], []
    for i in range(120):
        have = [v for j, v in enumerate(values) if (i >> j) & 1] or [values[0]]
        mean = rng.normal(size=FEATURE_DIM).astype(np.float32) * 0.3
        for j, v in enumerate(values[:2]):  # lycra's photo says nothing: lycra stays unsure
            mean += PROTOTYPES[j, TEXT_DIM:] if v in have else 0.0
        ids.append(f"p{i}")
        inputs.append(views(HeadInput(None, mean, mean, TEES, "description")))
        labels.append({"fabric": have})
    data = ah.TrainingSet(ids, inputs, labels, [{} for _ in ids])
    [head] = ah.fit_heads(data, taxonomy).heads
    assert head.kind == "multi" and head.classes == sorted(values)
    k = ah.TEXT_KINDS.index("description")
    assert head.thresholds[k].shape == (3,)
    assert not np.isfinite(head.thresholds[k, head.classes.index("fabric__lycra")])  # never sure of lycra
    mean = PROTOTYPES[0, TEXT_DIM:] + PROTOTYPES[1, TEXT_DIM:]  # cotton and polyester
    heads = ah.fit_heads(data, taxonomy)
    answered = {a.value for a in heads.answers(HeadInput(None, mean, mean, TEES), taxonomy)}
    assert answered == {"fabric__cotton", "fabric__polyester"}


def test_too_few_labels_give_no_head(taxonomy) -> None:
    rng = np.random.default_rng(5)
    data = pattern_store(rng, ah.MIN_LABELLED - 1)
    assert ah.fit_heads(data, taxonomy).heads == []
    one_value = ah.TrainingSet(data.ids, data.inputs, [{"pattern": ["pattern__solid"]} for _ in data.ids],
                               data.negatives)
    assert ah.fit_heads(one_value, taxonomy).heads == []


def test_the_held_out_report_never_sees_the_products_it_scores(taxonomy) -> None:
    rng = np.random.default_rng(6)
    data = pattern_store(rng, 60)
    fold = [ah.fold_of(pid, ah.FOLDS, "outer") for pid in data.ids]
    before = ah.cross_validate(data, taxonomy, views=("listing",))["listing"]
    # Relabel every product of fold 0 (nonsense labels): their held-out answers must not change.
    changed = ah.TrainingSet(data.ids, data.inputs,
                             [{"pattern": ["pattern__floral"]} if f == 0 else lab
                              for lab, f in zip(data.labels, fold, strict=True)], data.negatives)
    after = ah.cross_validate(changed, taxonomy, views=("listing",))["listing"]
    for i, f in enumerate(fold):
        if f == 0:
            assert [(a.value, a.probability) for a in before[i]] == [(a.value, a.probability) for a in after[i]]
    report = ah.score(data, before)
    assert report["micro"]["precision"] >= 0.8 and report["micro"]["recall"] > 0.5
    assert report["attributes"]["pattern"]["products"] == 60


def test_abstention_holds_precision_on_noisy_labels(taxonomy) -> None:
    rng = np.random.default_rng(7)
    data = pattern_store(rng, 150, noisy=60)  # 60 products whose photo says nothing
    report = ah.score(data, ah.cross_validate(data, taxonomy, views=("listing",))["listing"])["micro"]
    assert report["precision"] >= 0.8
    assert report["answered"] < report["products"]  # it abstained on (most of) the noise


def test_learning_curve_and_report(taxonomy) -> None:
    from extractor.local.train import attribute_report, format_curve, learning_curve

    rng = np.random.default_rng(8)
    data = pattern_store(rng, 60)
    curve = learning_curve(data, taxonomy, sizes=(10, 25, None))
    assert [row["labelled_per_attribute"] for row in curve] == [10, 25, "all"]
    assert curve[-1]["micro"]["f1"] >= curve[0]["micro"]["f1"]
    assert "labels/attr" in format_curve(curve)
    report = attribute_report(data, taxonomy, views=("listing", "photos"))
    assert set(report["views"]) == {"listing", "photos"} and report["target_precision"] == ah.TARGET_PRECISION


def test_store_heads_save_and_load_the_attribute_heads(tmp_path: Path, taxonomy) -> None:
    rng = np.random.default_rng(9)
    data = pattern_store(rng, 90)
    labels = [Labels(values=lab) for lab in data.labels]
    from extractor.local.train import FEATURES, train_heads

    x = np.zeros((len(labels), FEATURES), dtype=np.float32)
    heads = train_heads(x, labels, inputs=data.inputs, ids=data.ids, taxonomy=taxonomy)
    assert heads.values == [("pattern", v) for v in ("pattern__floral", "pattern__solid", "pattern__striped")]
    heads.save(tmp_path / "store")
    loaded = load_heads(tmp_path / "store")
    assert loaded.meta["format"] == 3 and loaded.meta["attribute_heads"][0]["kind"] == "single"
    probe = item(rng, 2)
    assert heads.value_hits(taxonomy, probe) == loaded.value_hits(taxonomy, probe)
    [hit] = loaded.value_hits(taxonomy, probe)
    assert hit.value == "pattern__floral" and hit.source == "image" and 0.8 <= hit.precision <= 1
    assert training_set(data.ids, data.inputs, [Labels(values={"color": ["color__red"]})] * 90).labels[0] == {}


def test_heads_of_an_older_format_load_without_attribute_heads(tmp_path: Path) -> None:
    import json

    from extractor.local.train import FEATURES

    empty = np.zeros((0, FEATURES), dtype=np.float32)
    folder = StoreHeads(["aa-1-12"], empty, np.zeros(0), [], empty, np.zeros(0)).save(tmp_path / "old")
    meta = json.loads((folder / "meta.json").read_text())
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 2, "values": [["pattern", "pattern__solid"]]}))
    old = load_heads(folder)
    assert old.attribute_heads is None and old.categories == ["aa-1-12"] and old.values == []
    assert old.value_hits(Taxonomy.load(), HeadInput(np.zeros(TEXT_DIM, np.float32), None, None, TEES)) == []
