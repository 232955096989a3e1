"""Merchant feedback in the catalog store (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from indexer.models import Product
from indexer.store.feedback import FeedbackItem


def item(attribute, suggested, decision, final=None) -> FeedbackItem:
    return FeedbackItem(attribute=attribute, suggested_value=suggested, decision=decision, final_value=final)


def test_a_submission_is_kept_with_its_extractor_and_the_final_values(catalog) -> None:
    catalog.upsert_products([Product(store="a", product_id="p1", title="Hoodie")])
    submission = catalog.record_feedback("a", [
        item("category", "aa-1-13-13", "accepted"),
        item("color", "color__black", "edited", "color__blue"),
        item("pattern", "pattern__striped", "rejected"),
    ], product_id="p1", extractor="local", extractor_version="1.0+heads.v2")
    rows = catalog.feedback("a")
    assert [(r.attribute, r.suggested_value, r.final_value, r.decision) for r in rows] == [
        ("category", "aa-1-13-13", "aa-1-13-13", "accepted"),  # accepted: the final value is the suggestion
        ("color", "color__black", "color__blue", "edited"),
        ("pattern", "pattern__striped", None, "rejected"),
    ]
    assert {(r.submission_id, r.product_id, r.extractor, r.extractor_version) for r in rows} == {
        (submission, "p1", "local", "1.0+heads.v2")}
    assert all(r.created_at.tzinfo is not None for r in rows)
    assert catalog.feedback("a", "p1") == rows and catalog.feedback("b") == []


def test_a_listing_not_saved_has_no_product_id(catalog) -> None:
    catalog.record_feedback("a", [item("color", "color__black", "accepted")], product_id=None,
                            extractor="local", extractor_version="1")
    [row] = catalog.feedback("a")
    assert row.product_id is None
    assert catalog.confirmed_values("a") == {}  # nothing to train on without the product


def test_counts_per_attribute_and_decision_filtered_by_version(catalog) -> None:
    catalog.record_feedback("a", [item("category", "aa-1", "accepted"), item("color", "color__black", "accepted"),
                                  item("color", "color__red", "rejected")], product_id=None,
                            extractor="local", extractor_version="1")
    catalog.record_feedback("a", [item("category", "aa-1", "edited", "aa-2")], product_id=None,
                            extractor="local", extractor_version="2")
    catalog.record_feedback("b", [item("category", "aa-1", "rejected")], product_id=None,
                            extractor="local", extractor_version="1")
    assert catalog.feedback_counts("a") == {"category": {"accepted": 1, "edited": 1},
                                            "color": {"accepted": 1, "rejected": 1}}
    assert catalog.feedback_counts("a", "2") == {"category": {"edited": 1}}
    assert catalog.feedback_counts("b") == {"category": {"rejected": 1}}  # stores never mix


def test_confirmed_values_come_from_the_latest_submission_per_attribute(catalog) -> None:
    for pid in ("p1", "p2"):
        catalog.upsert_products([Product(store="a", product_id=pid)])
    first = [item("category", "aa-1", "accepted"), item("color", "color__black", "accepted"),
             item("color", "color__white", "edited", "color__gray"), item("pattern", "pattern__solid", "rejected")]
    catalog.record_feedback("a", first, product_id="p1", extractor="local", extractor_version="1")
    # Saved again later: the merchant now rejects black and keeps white; category untouched this time.
    catalog.record_feedback("a", [item("color", "color__black", "rejected"), item("color", "color__white", "accepted")],
                            product_id="p1", extractor="local", extractor_version="1")
    catalog.record_feedback("a", [item("color", "color__red", "accepted")], product_id="p2",
                            extractor="local", extractor_version="1")
    assert catalog.confirmed_values("a") == {"p1": {"category": ["aa-1"], "color": ["color__white"]},
                                             "p2": {"color": ["color__red"]}}


@pytest.mark.parametrize(("decision", "final"), [("accepted", "color__red"), ("edited", None),
                                                  ("edited", "color__black"), ("rejected", "color__red")])
def test_a_decision_that_does_not_hold_together_is_refused(decision, final) -> None:
    with pytest.raises(ValidationError):
        item("color", "color__black", decision, final)
