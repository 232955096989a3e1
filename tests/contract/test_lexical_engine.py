"""The LexicalEngine contract, run on every available backend (tantivy always; Elasticsearch when
ELASTICSEARCH_URL is set). Answers are checked against the reference evaluator `filters.matches`."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from indexer.documents import AttributeValue, IndexDocument
from indexer.engines.types import Sort
from indexer.filters import Eq, FilterError, In, Range, and_all, matches

STORE, OTHER = "alpha", "beta"


def _ids(engine: Any, store: str, text: str = "", flt: Any = None, **kw: Any) -> list[str]:
    return [h.product_id for h in engine.search(store, text, flt, limit=1000, **kw).hits]


# --- filters against the reference evaluator -------------------------------------------------------

def test_filter_matches_reference(loaded_lexical: Any, corpus: list[IndexDocument], filter_case: Any,
                                  expect: Any) -> None:
    for store in (STORE, OTHER):
        want = expect(corpus, store, filter_case)
        hits = loaded_lexical.search(store, "", filter_case, limit=1000)
        assert {h.product_id for h in hits.hits} == want
        assert hits.total == len(want)
        assert loaded_lexical.count(store, filter_case) == len(want)


def test_filter_with_text_matches_reference(loaded_lexical: Any, corpus: list[IndexDocument],
                                            filter_case: Any) -> None:
    # "hoodies" must find titles saying "hoodie"/"Hoodies" (stemming, case-insensitive).
    got = set(_ids(loaded_lexical, STORE, "hoodies", filter_case))
    want = {d.product_id for d in corpus
            if d.store == STORE and matches(filter_case, d) and d.product_type == "hoodie"}
    assert got == want


def test_unknown_filter_field_is_rejected(loaded_lexical: Any) -> None:
    # model_construct skips validation: the adapter itself must refuse what it cannot translate
    with pytest.raises(FilterError):
        loaded_lexical.search(STORE, "", Eq.model_construct(field="colour", value="x"))


def test_flagged_takes_a_boolean(loaded_lexical: Any) -> None:
    with pytest.raises(FilterError):
        loaded_lexical.search(STORE, "", Eq(field="flagged", value="true"))


# --- store isolation ---------------------------------------------------------------------------------

def test_store_never_sees_another_store(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    alpha = {d.product_id for d in corpus if d.store == STORE}
    for text in ("", "hoodie", "black cotton", "Acme"):
        assert set(_ids(loaded_lexical, STORE, text)) <= alpha
    # a filter naming another store's product ids still answers only from this store
    assert _ids(loaded_lexical, STORE, "", In(field="product_id", values=("b001", "b002"))) == []
    assert loaded_lexical.ids(STORE) == alpha
    assert loaded_lexical.stores() == {STORE, OTHER}
    for facet in ("category", "attr.color", "vendor"):
        total = sum(c.count for c in loaded_lexical.facets("nope", "", None, facet))
        assert total == 0
    assert loaded_lexical.search("nope", "").total == 0


# --- text --------------------------------------------------------------------------------------------

def test_empty_text_browses_the_store(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    n = sum(d.store == STORE for d in corpus)
    hits = loaded_lexical.search(STORE, "", limit=5)
    assert hits.total == n and len(hits.hits) == 5
    assert loaded_lexical.search(STORE, "   ").total == n


def test_text_ranks_title_matches_first(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    hits = loaded_lexical.search(STORE, "Dresses", limit=3).hits
    by_id = {d.product_id: d for d in corpus}
    assert hits and all(by_id[h.product_id].product_type == "dress" for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)


@pytest.mark.parametrize("text", ['"', "'", ":", "*", "(", ")", "AND", "OR NOT", "title:black", 'black AND (',
                                  "\\", "[1 TO 2]", "{", "~2", "^3", "-red", "+wool", "!", "/regex/", "&&",
                                  "||", "hoodie*", 'color:"black', "<>=", "é", "🙂", "a" * 300])
def test_query_syntax_is_plain_text(loaded_lexical: Any, text: str) -> None:
    hits = loaded_lexical.search(STORE, text, limit=5)  # never raises
    assert hits.total >= 0
    # a syntax character next to a word does not change what the word finds
    assert set(_ids(loaded_lexical, STORE, f"{text} hoodie")) >= set(_ids(loaded_lexical, STORE, "hoodie"))


def test_title_colon_is_not_a_field_query(loaded_lexical: Any) -> None:
    # "title:black" as plain text is the words "title" and "black", so it finds the black products
    assert set(_ids(loaded_lexical, STORE, "title:black")) == set(_ids(loaded_lexical, STORE, "title black"))


# --- paging and sorting ------------------------------------------------------------------------------

def test_offset_pages_do_not_overlap(loaded_lexical: Any) -> None:
    page1 = [h.product_id for h in loaded_lexical.search(STORE, "", limit=5, offset=0).hits]
    page2 = [h.product_id for h in loaded_lexical.search(STORE, "", limit=5, offset=5).hits]
    assert len(page1) == len(page2) == 5 and not set(page1) & set(page2)


def test_browse_is_in_product_id_order(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    # Every product scores alike in a browse: product id is the order, the same on every engine.
    assert _ids(loaded_lexical, STORE) == sorted(d.product_id for d in corpus if d.store == STORE)


@pytest.mark.parametrize("text, sort", [("", None), ("hoodie", None), ("black cotton", None),
                                        ("", Sort(field="price")), ("", Sort(field="price", descending=True))])
def test_pages_of_any_size_cut_one_order_with_ties_by_id(loaded_lexical: Any, text: str, sort: Any) -> None:
    # The corpus repeats titles and prices, so runs of equal scores cross page boundaries.
    full = loaded_lexical.search(STORE, text, limit=1000, sort=sort)
    assert full.total == len(full.hits) >= 5
    for a, b in zip(full.hits, full.hits[1:], strict=False):
        if a.score == b.score:
            assert a.product_id < b.product_id
    for size in (1, 3, 7):
        pages = [loaded_lexical.search(STORE, text, limit=size, offset=o, sort=sort)
                 for o in range(0, full.total + size, size)]
        assert all(p.total == full.total for p in pages)
        assert [h.product_id for p in pages for h in p.hits] == [h.product_id for h in full.hits]


@pytest.mark.parametrize("descending", [False, True])
def test_sort_by_price(loaded_lexical: Any, corpus: list[IndexDocument], descending: bool) -> None:
    flt = Eq(field="category", value="aa")
    got = _ids(loaded_lexical, STORE, "", flt, sort=Sort(field="price", descending=descending))
    docs = [d for d in corpus if d.store == STORE and matches(flt, d)]
    price = {d.product_id: d.price for d in docs}
    n_priced = sum(p is not None for p in price.values())
    assert len(got) == len(docs)
    head = [price[p] for p in got[:n_priced]]
    assert None not in head and head == sorted(head, reverse=descending)  # type: ignore[type-var]
    # products without a price come last, in either direction
    assert all(price[p] is None for p in got[n_priced:])


def test_sort_by_created_at_with_text(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    got = _ids(loaded_lexical, STORE, "hoodie", sort=Sort(field="created_at", descending=True))
    created = {d.product_id: d.created_at for d in corpus if d.store == STORE}
    assert got and [created[p] for p in got] == sorted((created[p] for p in got), reverse=True)


# --- facets -------------------------------------------------------------------------------------------

def _expected_facets(corpus: list[IndexDocument], store: str, flt: Any, field: str) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for d in corpus:
        if d.store != store or not matches(flt, d):
            continue
        if field == "category":
            values = d.category_path
        elif field.startswith("attr."):
            values = d.attribute_values(field[5:])
        elif field == "tags":
            values = d.tags
        else:
            values = [getattr(d, field)]
        counts.update(set(values))
    return dict(counts)


@pytest.mark.parametrize("field", ["category", "attr.color", "attr.fabric", "vendor", "tags", "product_type"])
@pytest.mark.parametrize("flt", [None, Range(lte=60), Eq(field="category", value="aa-1")],
                         ids=["none", "price", "category"])
def test_facets_match_reference(loaded_lexical: Any, corpus: list[IndexDocument], field: str,
                                flt: Any) -> None:
    got = loaded_lexical.facets(STORE, "", flt, field)
    assert {c.value: c.count for c in got} == _expected_facets(corpus, STORE, flt, field)
    assert [c.count for c in got] == sorted((c.count for c in got), reverse=True)


@pytest.mark.parametrize("flt", [None, Range(lte=60), Eq(field="category", value="aa-1")],
                         ids=["none", "price", "category"])
def test_facets_many_equal_each_facet(loaded_lexical: Any, flt: Any) -> None:
    fields = ["category", "attr.color", "attr.fabric", "attr.size", "vendor", "tags"]
    got = loaded_lexical.facets_many(STORE, "", flt, fields)
    assert got == {f: loaded_lexical.facets(STORE, "", flt, f) for f in fields}
    assert loaded_lexical.facets_many(STORE, "hoodie", flt, ["category"]) == {
        "category": loaded_lexical.facets(STORE, "hoodie", flt, "category")}


@pytest.mark.parametrize("flt", [None, Eq(field="category", value="aa-1")], ids=["none", "category"])
def test_price_counts_equal_range_filtered_totals(loaded_lexical: Any, flt: Any) -> None:
    ranges = [(None, 25.0), (25.0, 50.0), (50.0, 100.0), (100.0, None)]
    got = loaded_lexical.price_counts(STORE, "", flt, ranges)
    want = [loaded_lexical.search(STORE, "", and_all([flt, Range(gte=low, lt=high)]), limit=1).total
            for low, high in ranges]
    assert got == want and sum(got) > 0


def test_category_facet_rolls_up(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    got = {c.value: c.count for c in loaded_lexical.facets(STORE, "", None, "category")}
    assert got["aa"] == got["aa-1"] + got["aa-8"]
    assert got["aa-1-13"] == got["aa-1-13-8"] + got["aa-1-13-9"]


def test_facets_follow_text(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    got = {c.value: c.count for c in loaded_lexical.facets(STORE, "hoodie", None, "category")}
    n = sum(d.store == STORE and d.product_type == "hoodie" for d in corpus)
    assert got == {"aa": n, "aa-1": n, "aa-1-13": n, "aa-1-13-8": n}


def test_disjunctive_facets(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    # The caller leaves the facet's own field out of the filter to count the alternatives.
    selected = In(field="attr.color", values=("color__black",))
    others = Range(lte=100)
    got = {c.value: c.count for c in loaded_lexical.facets(STORE, "", others, "attr.color")}
    assert len(got) == len(COLORS_IN(corpus)) and got == _expected_facets(corpus, STORE, others, "attr.color")
    narrowed = loaded_lexical.facets(STORE, "", selected, "attr.color")
    assert {c.value for c in narrowed} >= {"color__black"}


def COLORS_IN(corpus: list[IndexDocument]) -> set[str]:  # noqa: N802 - reads like a constant
    return {v for d in corpus if d.store == STORE for v in d.attribute_values("color")}


def test_facet_size_limits(loaded_lexical: Any) -> None:
    assert len(loaded_lexical.facets(STORE, "", None, "category", size=2)) == 2


def test_price_stats(loaded_lexical: Any, corpus: list[IndexDocument]) -> None:
    prices = [d.price for d in corpus if d.store == STORE and d.price is not None]
    assert loaded_lexical.price_stats(STORE, "", None) == pytest.approx((min(prices), max(prices)))
    only_unpriced = In(field="product_id", values=tuple(d.product_id for d in corpus
                                                        if d.store == STORE and d.price is None))
    assert loaded_lexical.price_stats(STORE, "", only_unpriced) is None


# --- writes -------------------------------------------------------------------------------------------

def _doc(pid: str, store: str = STORE, **kw: Any) -> IndexDocument:
    base: dict[str, Any] = {"title": "Plain thing", "category_path": ["aa"], "price": 10.0}
    base.update(kw)
    return IndexDocument(store=store, product_id=pid, **base)


def test_upsert_replaces(lexical_opener: Any) -> None:
    engine = lexical_opener()
    engine.upsert([_doc("p1", title="Red scarf",
                        attributes=[AttributeValue(handle="color", value="color__red", name="Red")])])
    engine.commit()
    engine.upsert([_doc("p1", title="Green scarf",
                        attributes=[AttributeValue(handle="color", value="color__green", name="Green")])])
    engine.commit()
    assert engine.count(STORE) == 1
    assert _ids(engine, STORE, "red") == [] and _ids(engine, STORE, "green") == ["p1"]
    assert engine.count(STORE, Eq(field="attr.color", value="color__red")) == 0
    assert engine.count(STORE, Eq(field="attr.color", value="color__green")) == 1


def test_same_product_id_in_two_stores(lexical_opener: Any) -> None:
    engine = lexical_opener()
    engine.upsert([_doc("p1"), _doc("p1", store=OTHER, title="Other thing")])
    engine.commit()
    engine.delete(STORE, ["p1"])
    engine.commit()
    assert engine.ids(STORE) == set() and engine.ids(OTHER) == {"p1"}


def test_delete_removes(lexical_opener: Any) -> None:
    engine = lexical_opener()
    engine.upsert([_doc(f"p{i}") for i in range(5)])
    engine.commit()
    engine.delete(STORE, ["p1", "p3", "missing"])
    engine.commit()
    assert engine.ids(STORE) == {"p0", "p2", "p4"}
    assert engine.search(STORE, "plain").total == 3


def test_writes_visible_after_commit(lexical_opener: Any) -> None:
    engine = lexical_opener()
    engine.upsert([_doc("p1")])
    engine.commit()
    assert engine.count(STORE) == 1


def test_clear(lexical_opener: Any) -> None:
    engine = lexical_opener()
    engine.upsert([_doc("p1"), _doc("p2", store=OTHER)])
    engine.commit()
    engine.clear()
    engine.commit()
    assert engine.stores() == set() and engine.count(STORE) == 0


def test_persists_after_close_and_reopen(lexical_opener: Any, corpus: list[IndexDocument]) -> None:
    engine = lexical_opener()
    engine.upsert(corpus)
    engine.commit()
    before = _ids(engine, STORE, "black hoodie")
    engine.close()
    reopened = lexical_opener(reopen=True)
    assert reopened.ids(STORE) == {d.product_id for d in corpus if d.store == STORE}
    assert _ids(reopened, STORE, "black hoodie") == before
