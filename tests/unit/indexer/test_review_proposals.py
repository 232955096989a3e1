"""The review queue's pure logic: what an extraction adds to or contradicts in the merchant's data."""

from __future__ import annotations

import pytest

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction, ImageNote
from indexer import review
from indexer.conversions import merchant_attribute_values
from indexer.models import Product, Variant
from taxonomy import Taxonomy

TEES = "aa-1-13-8"  # Apparel & Accessories > Clothing > Clothing Tops > T-Shirts


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.load()


def value(taxonomy, handle: str, source: str, confidence: float = 0.9) -> ExtractedValue:
    v = taxonomy.value(handle)
    return ExtractedValue(value=v.handle, value_id=v.id, name=v.name, confidence=confidence, source=source)


def extraction(taxonomy, *values: ExtractedValue, category: str | None = TEES, confidence: float = 0.8,
               notes: list[ImageNote] | None = None) -> Extraction:
    by_attr: dict[str, list[ExtractedValue]] = {}
    for v in values:
        by_attr.setdefault(v.value.split("__")[0], []).append(v)
    cat = taxonomy.category(category) if category else None
    return Extraction(
        category=CategoryGuess(id=cat.id, name=cat.name, full_name=cat.full_name, confidence=confidence)
        if cat else None,
        attributes=[ExtractedAttribute(handle=h, name=taxonomy.attribute(h).name, values=vs)
                    for h, vs in by_attr.items()],
        image_notes=notes or [], extractor="local", extractor_version="5", taxonomy_version=taxonomy.version)


def by_key(items):
    return {(p.attribute, p.value): p for p in items}


def test_a_category_where_the_merchant_gave_none_is_an_addition_with_their_path_as_current(taxonomy):
    product = Product(store="s", product_id="p", title="Ryker Tee", merchant_category="Men/Tops/Tees",
                      images=["a.jpg"])
    [proposal] = review.proposals(product, extraction(taxonomy, confidence=0.73), taxonomy)
    assert (proposal.attribute, proposal.value, proposal.kind) == ("category", TEES, "adds")
    assert proposal.value_name == "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts"
    assert [c.name for c in proposal.current] == ["Men/Tops/Tees"] and proposal.current[0].value is None
    assert proposal.confidence == 0.73 and proposal.content_hash == product.content_hash()
    assert proposal.evidence.source == "model" and proposal.evidence.images == [0]
    assert [(w.field, w.text) for w in proposal.evidence.words] == [("title", "Tee")]


def test_a_different_merchant_category_is_contradicted_and_the_same_or_a_broader_one_is_not(taxonomy):
    shorts = "aa-1-14"
    product = Product(store="s", product_id="p", title="Tee", merchant_category_id=shorts)
    [proposal] = review.proposals(product, extraction(taxonomy), taxonomy)
    assert proposal.kind == "contradicts" and [c.value for c in proposal.current] == [shorts]
    for same_lineage in (TEES, "aa-1-13", "aa-1"):  # the merchant's own, and broader ones
        product = Product(store="s", product_id="p", title="Tee", merchant_category_id=TEES)
        assert review.proposals(product, extraction(taxonomy, category=same_lineage), taxonomy) == []


def test_a_photo_colour_the_merchant_did_not_give_is_added_with_the_photos_it_was_read_from(taxonomy):
    product = Product(store="s", product_id="p", title="Plain tee", merchant_category_id=TEES,
                      images=["front.jpg", "back.jpg", "broken.jpg"])
    found = extraction(taxonomy, value(taxonomy, "color__blue", "image", 0.91),
                       notes=[ImageNote(image=2, issue="unreadable")])
    [proposal] = review.proposals(product, found, taxonomy)
    assert (proposal.attribute, proposal.value_name, proposal.kind, proposal.current) == ("color", "Blue", "adds", [])
    assert proposal.evidence.source == "image" and proposal.evidence.images == [0, 1]
    assert proposal.confidence == 0.91


def test_variant_photos_the_merchant_named_the_colour_of_are_not_evidence_and_variant_colours_are_current(taxonomy):
    product = Product(store="s", product_id="p", title="Tee", merchant_category_id=TEES,
                      images=["black.jpg", "detail.jpg"],
                      variants=[Variant(sku="p-b", options={"color": "Black"}, image="black.jpg")])
    [proposal] = review.proposals(product, extraction(taxonomy, value(taxonomy, "color__gray", "image")), taxonomy)
    assert proposal.kind == "contradicts" and [c.name for c in proposal.current] == ["Black"]
    assert proposal.evidence.images == [1]
    # A value the merchant gave (an attribute or a variant option) is never proposed.
    assert review.proposals(product, extraction(taxonomy, value(taxonomy, "color__black", "image")), taxonomy) == []


def test_merchant_sourced_values_are_never_proposed(taxonomy):
    product = Product(store="s", product_id="p", title="Tee", merchant_category_id=TEES)
    assert review.proposals(product, extraction(taxonomy, value(taxonomy, "color__red", "merchant")), taxonomy) == []


def test_a_text_value_carries_the_words_that_name_it(taxonomy):
    product = Product(store="s", product_id="p", title="Crew neck tee", description="A soft crew neck tee.",
                      merchant_category_id=TEES)
    found = extraction(taxonomy, value(taxonomy, "neckline__crew", "text", 0.8))
    [proposal] = review.proposals(product, found, taxonomy)
    assert proposal.evidence.source == "text"
    assert [(w.field, w.text) for w in proposal.evidence.words][0] == ("title", "Crew neck")
    assert {w.field for w in proposal.evidence.words} == {"title", "description"}


def test_a_title_naming_another_material_than_the_merchant_gave_is_a_contradiction(taxonomy):
    product = Product(store="s", product_id="p", title="Merino Wool Tee", merchant_category_id=TEES,
                      attributes={"material": ["Cotton"]}, description="Wash with wool detergent")
    # The extractor keeps only the merchant's fabric: the title's words are read here.
    found = extraction(taxonomy, value(taxonomy, "fabric__cotton", "merchant", 1.0))
    proposals = by_key(review.proposals(product, found, taxonomy))
    merino = proposals[("fabric", "fabric__merino")]
    assert merino.kind == "contradicts" and [c.name for c in merino.current] == ["Cotton"]
    assert [(w.field, w.text) for w in merino.evidence.words] == [("title", "Merino Wool")]
    assert ("fabric", "fabric__cotton") not in proposals


def test_no_extraction_no_proposals(taxonomy):
    assert review.proposals(Product(store="s", product_id="p", title="Tee"), None, taxonomy) == []


def test_queue_helpers_filter_group_order_and_skip_decided(taxonomy):
    products = [Product(store="s", product_id=f"p{i}", title="Tee", images=["a.jpg"]) for i in range(3)]
    items = []
    for i, product in enumerate(products):
        found = extraction(taxonomy, value(taxonomy, "color__blue" if i < 2 else "color__red", "image", 0.5 + i / 10),
                           confidence=0.9)
        items += review.proposals(product, found, taxonomy)
    ordered = review.order(items)
    assert [p.attribute for p in ordered] == ["category"] * 3 + ["color"] * 3
    assert [p.product_id for p in ordered[3:]] == ["p0", "p1", "p2"]  # least sure first (uncertainty sampling)
    groups = review.groups(ordered)
    assert [(g["attribute"], g["count"]) for g in groups] == [("category", 3), ("color", 3)]
    assert [(v["name"], v["count"]) for v in groups[1]["values"]] == [("Blue", 2), ("Red", 1)]
    strict = review.Filters(attribute="color", min_confidence=0.55)
    assert sorted(p.product_id for p in items if review.matches(p, strict)) == ["p1", "p2"]
    first = ordered[3]
    left = review.undecided(items, {(*first.key, first.content_hash)})
    assert first not in left and len(left) == 5
    assert review.undecided(items, {(*first.key, "another-version")}) == items


def test_accepting_adds_a_value_under_the_merchants_own_name_and_it_reads_back(taxonomy):
    product = Product(store="s", product_id="p", title="Merino Wool Tee", attributes={"Colour": ["Navy"]},
                      images=["a.jpg"])
    found = extraction(taxonomy, value(taxonomy, "neckline__crew", "text"), value(taxonomy, "color__blue", "image"))
    proposals = by_key(review.proposals(product, found, taxonomy))
    accepted = [proposals[("category", TEES)], proposals[("neckline", "neckline__crew")],
                proposals[("color", "color__blue")]]
    updated = review.apply_accepted(product, accepted, taxonomy)
    assert updated.merchant_category_id == TEES and updated.merchant_category.endswith("T-Shirts")
    assert updated.attributes == {"Colour": ["Blue"], "neckline": ["Crew"]}  # a contradiction replaces
    merchant = {(v.handle, v.value) for v in merchant_attribute_values(updated, taxonomy)}
    assert {("neckline", "neckline__crew"), ("color", "color__blue")} <= merchant
    assert review.proposals(updated, found, taxonomy) == []  # nothing left to propose
    assert product.attributes == {"Colour": ["Navy"]}  # the original is untouched


def test_accepting_an_addition_keeps_the_merchants_other_values(taxonomy):
    product = Product(store="s", product_id="p", title="Tee", merchant_category_id=TEES,
                      attributes={"fabric": ["Cotton"]})
    proposal = by_key(review.proposals(product, extraction(taxonomy, value(taxonomy, "color__red", "image")),
                                       taxonomy))[("color", "color__red")]
    updated = review.apply_accepted(product, [proposal], taxonomy)
    assert updated.attributes == {"fabric": ["Cotton"], "color": ["Red"]}


def test_a_value_that_would_not_read_back_cannot_be_applied(taxonomy):
    product = Product(store="s", product_id="p", title="Tee", merchant_category_id=TEES)
    proposal = by_key(review.proposals(product, extraction(taxonomy, value(taxonomy, "color__red", "image")),
                                       taxonomy))[("color", "color__red")]
    odd = proposal.model_copy(update={"value": "color__nonexistent-shade", "value_name": "Nonexistent Shade"})
    with pytest.raises(review.CannotApply):
        review.apply_accepted(product, [odd], taxonomy)
