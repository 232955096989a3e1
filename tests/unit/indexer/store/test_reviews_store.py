"""Review-queue decisions in the catalog store (SQLite and PostgreSQL)."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from indexer.store import current_revision
from indexer.store.engine import alembic_config
from indexer.store.reviews import ReviewDecision


def decision(product_id="p1", value="color__blue", decision="reject", content_hash="a" * 64, store="shop"):
    return ReviewDecision(store=store, product_id=product_id, attribute="color", value=value, decision=decision,
                          content_hash=content_hash)


def test_the_review_decisions_migration_is_0005_after_0004(catalog):
    script = ScriptDirectory.from_config(alembic_config())
    assert script.get_revision("0005").down_revision == "0004"
    assert current_revision(catalog.engine) == script.get_current_head()


def test_decisions_are_kept_per_store_and_product_version(catalog):
    assert catalog.record_review_decisions([decision(), decision("p2", decision="accept"),
                                            decision(store="other")]) == 3
    kept = catalog.review_decisions("shop")
    assert [(d.product_id, d.attribute, d.value, d.decision, d.content_hash) for d in kept] == [
        ("p1", "color", "color__blue", "reject", "a" * 64), ("p2", "color", "color__blue", "accept", "a" * 64)]
    assert all(d.decided_at is not None and d.decided_at.tzinfo is not None for d in kept)
    assert [d.product_id for d in catalog.review_decisions("shop", ["p2"])] == ["p2"]
    assert [d.store for d in catalog.review_decisions("other")] == ["other"]
    assert catalog.record_review_decisions([]) == 0


def test_deciding_the_same_proposal_again_keeps_the_latest_and_another_version_is_its_own(catalog):
    catalog.record_review_decisions([decision()])
    catalog.record_review_decisions([decision(decision="accept")])
    catalog.record_review_decisions([decision(content_hash="b" * 64)])
    kept = sorted((d.content_hash[0], d.decision) for d in catalog.review_decisions("shop"))
    assert kept == [("a", "accept"), ("b", "reject")]
