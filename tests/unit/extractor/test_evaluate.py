"""`catalog eval extraction` on the bundled Magento fixture: the result's contract and the product splits.

The extractor here answers from the gold itself (an oracle for category and gender), so the test checks
the evaluation's arithmetic and shape, not a model; colour is always from pixels, whatever the extractor."""

from __future__ import annotations

import pytest

from extractor.datasets.magento import load
from extractor.datasets.splits import is_held_out
from extractor.evaluate import _default_magento, evaluate
from extractor.models import CategoryGuess, Extraction
from taxonomy import Taxonomy


class GoldCategory:
    name, version = "oracle", "1"

    def __init__(self) -> None:
        taxonomy = Taxonomy.load()
        self.by_title = {g.product.title: g.accept[0] for g in load(_default_magento())}
        self.names = {cid: taxonomy.category(cid).full_name for cid in self.by_title.values()}
        self.taxonomy_version = taxonomy.version

    def extract(self, products):
        out = []
        for p in products:
            cid = self.by_title[p.title]
            out.append(Extraction(category=CategoryGuess(id=cid, name=self.names[cid].split(" > ")[-1],
                                                         full_name=self.names[cid], confidence=1.0),
                                  extractor=self.name, extractor_version=self.version,
                                  taxonomy_version=self.taxonomy_version))
        return out


@pytest.fixture(scope="module")
def oracle() -> GoldCategory:
    return GoldCategory()


def test_splits_partition_the_catalog(oracle):
    gold = load(_default_magento())
    held, other = (evaluate("magento", oracle, split=s) for s in ("held_out", "other"))
    assert held["products"] == sum(is_held_out(g.sku) for g in gold)
    assert held["products"] + other["products"] == len(gold)
    assert held["category_accuracy"] == other["category_accuracy"] == 1.0
    for result in (held, other):
        assert set(result) >= {"dataset", "products", "category_accuracy", "category_ancestor_accuracy",
                               "color_accuracy", "attributes"}
        assert 0.0 <= result["color_accuracy"] <= 1.0 and result["color_photos"] > 100
        assert set(result["attributes"]) == {"target-gender", "material", "pattern"}
        assert all(set(v) == {"precision", "recall", "f1", "support"} for v in result["attributes"].values())


def test_unknown_split_is_refused(oracle):
    with pytest.raises(ValueError, match="unknown split"):
        evaluate("magento", oracle, split="test")


def test_a_colour_head_is_fitted_on_the_other_split_only(oracle):
    held = evaluate("magento", oracle, split="held_out", color_head=True)
    other = evaluate("magento", oracle, split="other")
    assert held["color_head_trained_on"] == other["color_photos"]  # every photo it learned from is outside
    assert 0.0 <= held["color_accuracy"] <= 1.0
    with pytest.raises(ValueError, match="outside the split"):
        evaluate("magento", oracle, split="all", color_head=True)
