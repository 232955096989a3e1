"""Tantivy specifics beyond the contract suite: analysis, schema versioning, filter translation."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from indexer.documents import IndexDocument
from indexer.engines.lexical.tantivy import (
    SCHEMA_VERSION,
    TantivyLexicalEngine,
    build_analyzer,
    build_schema,
    tokenize,
)
from indexer.engines.lexical.tantivy_filters import scoped_filter, to_query
from indexer.filters import Eq, FilterError, Not


def test_tokenize_drops_syntax_stopwords_and_stems() -> None:
    assert tokenize(build_analyzer(), 'Hoodies AND (men\'s) "Café": *') == ["hoodi", "men", "s", "cafe"]
    assert tokenize(build_analyzer(), '" : * ( AND') == []


def test_filters_translate_and_refuse_unknown_fields() -> None:
    schema = build_schema()
    assert isinstance(scoped_filter("s", Not(filter=Eq(field="vendor", value="A")), schema), tantivy.Query)
    with pytest.raises(FilterError):
        to_query(Eq.model_construct(field="colour", value="x"), schema)


def test_index_of_another_schema_version_is_rebuilt(tmp_path: Path) -> None:
    engine = TantivyLexicalEngine(tmp_path)
    engine.upsert([IndexDocument(store="s", product_id="p", title="thing")])
    engine.commit()
    engine.close()
    (tmp_path / "catalog_schema.json").write_text(f'{{"version": {SCHEMA_VERSION + 100}}}')
    reopened = TantivyLexicalEngine(tmp_path)
    assert reopened.recreated and reopened.count("s") == 0
    reopened.close()
    again = TantivyLexicalEngine(tmp_path)
    assert not again.recreated
    again.close()


def test_uncommitted_writes_are_invisible(tmp_path: Path) -> None:
    engine = TantivyLexicalEngine(tmp_path)
    engine.upsert([IndexDocument(store="s", product_id="p", title="thing")])
    assert engine.count("s") == 0
    engine.commit()
    assert engine.count("s") == 1
    assert engine.search("s", "", limit=0).total == 1 and engine.search("s", "", limit=0).hits == []
    engine.close()


def test_plain_match_reads_only_title_description_attributes_and_category(tmp_path: Path) -> None:
    # PLAIN is the baseline's multi_match: vendor and tags are not among its fields; BOOSTED reads them.
    from indexer.engines.lexical.base import BOOSTED, PLAIN

    engine = TantivyLexicalEngine(tmp_path)
    engine.upsert([IndexDocument(store="s", product_id="v", title="Jacket", vendor="Acme", tags=["sale"]),
                   IndexDocument(store="s", product_id="d", title="Shell", description="an acme of jackets")])
    engine.commit()
    assert [h.product_id for h in engine.search("s", "acme", match=PLAIN).hits] == ["d"]
    assert {h.product_id for h in engine.search("s", "acme", match=BOOSTED).hits} == {"v", "d"}
    assert engine.search("s", "sale", match=PLAIN).hits == []
    engine.close()


def test_filter_counts_are_remembered_until_the_next_commit(tmp_path: Path) -> None:
    from indexer.documents import AttributeValue
    from indexer.filters import In

    def doc(pid: str, color: str) -> IndexDocument:
        return IndexDocument(store="s", product_id=pid, title="tee", price=10.0,
                             attributes=[AttributeValue(handle="color", value=color, name=color.title())])

    engine = TantivyLexicalEngine(tmp_path)
    engine.upsert([doc("a", "red"), doc("b", "blue")])
    engine.commit()
    reds = In(field="attr.color", values=("red",))
    first = engine.facets_many("s", "", None, ["attr.color"])
    assert {c.value: c.count for c in first["attr.color"]} == {"red": 1, "blue": 1}
    first["attr.color"].clear()  # a caller's copy: the remembered counts are not the caller's list
    assert engine.facets_many("s", "", None, ["attr.color"])["attr.color"]
    assert engine.search("s", "", reds, limit=0).total == engine.count("s", reds) == 1
    assert engine.memo_stats()["hits"] >= 1
    # Counts of a text match are one query's: not remembered.
    misses = engine.memo_stats()["misses"]
    engine.facets_many("s", "tee", None, ["attr.color"])
    engine.price_counts("s", "tee", None, [(None, 20.0)])
    assert engine.memo_stats()["misses"] == misses
    engine.upsert([doc("c", "red")])
    assert engine.count("s", reds) == 1  # uncommitted: the same searcher, the same counts
    engine.commit()  # a new searcher: nothing it counted before
    assert engine.memo_stats() == {"hits": 0, "misses": 0, "entries": 0}
    assert engine.count("s", reds) == engine.search("s", "", reds, limit=0).total == 2
    assert {c.value: c.count for c in engine.facets_many("s", "", None, ["attr.color"])["attr.color"]} == \
        {"red": 2, "blue": 1}
    assert engine.price_counts("s", "", None, [(None, 20.0), (20.0, None)]) == [3, 0]
    assert engine.stores() == {"s"}
    engine.delete("s", ["a", "b", "c"])
    engine.commit()
    assert engine.stores() == set() and engine.count("s", reds) == 0
    engine.close()
