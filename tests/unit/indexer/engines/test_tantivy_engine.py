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
