"""Embedded lexical + facets engine on tantivy (one index directory, one writer per process)."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path

import tantivy

from indexer.documents import IndexDocument, point_id
from indexer.engines.keywords import facet_key, keyword_values
from indexer.engines.lexical.base import (
    ANALYZER,
    BOOSTED,
    FIELD_BOOSTS,
    KEYWORD_FIELDS,
    TextMatch,
    facet_counts,
    price_ranges,
    text_values,
)
from indexer.engines.lexical.searcher_memo import SearcherMemo
from indexer.engines.lexical.tantivy_filters import scoped_filter
from indexer.engines.ordering import first_hits
from indexer.engines.types import EngineError, FacetCount, Hit, Hits, Sort
from indexer.engines.vocabulary import MAX_TERMS, VOCABULARY_FIELD, vocabulary_terms
from indexer.filters import Filter

# Bump when the schema or the analyzer changes: an index built by another version is rebuilt from the
# catalog store (the index is derived data), and `recreated` tells the caller to run that rebuild.
SCHEMA_VERSION = 2  # 2: the vocabulary column (indexer.engines.vocabulary)
TEXT_FIELDS = tuple(FIELD_BOOSTS)  # title, category_name, attributes_text, tags, vendor, description
WRITER_HEAP = 64_000_000
FACET_SEGMENT_SIZE = 1000  # terms per segment considered before merging: exact counts for our sizes
ALL_ATTRIBUTE_VALUES = 2000  # attribute values counted in one pass before a facet falls back to `include`


def build_analyzer() -> tantivy.TextAnalyzer:
    """Lowercase, ASCII-fold, drop English stopwords, Snowball-stem: "Hoodies" finds "hoodie",
    "café" finds "cafe", and "for"/"the" do not match half the catalog."""
    return (tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
            .filter(tantivy.Filter.remove_long(40))
            .filter(tantivy.Filter.lowercase())
            .filter(tantivy.Filter.ascii_fold())
            .filter(tantivy.Filter.stopword("english"))
            .filter(tantivy.Filter.stemmer("english"))
            .build())


def build_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    for name in TEXT_FIELDS:
        sb.add_text_field(name, tokenizer_name=ANALYZER, index_option="position")
    sb.add_text_field("uid", tokenizer_name="raw", index_option="basic")  # point id: the unique key
    for key, name in KEYWORD_FIELDS.items():
        # fast=True gives columnar values for the terms aggregations behind facets.
        sb.add_text_field(name, stored=(key == "product_id"), fast=True, tokenizer_name="raw",
                          index_option="basic")
    # Not a filter field: counted by `vocabulary_counts` only.
    sb.add_text_field(VOCABULARY_FIELD, fast=True, tokenizer_name="raw", index_option="basic")
    sb.add_float_field("price", indexed=True, fast=True)
    sb.add_float_field("created_at", indexed=True, fast=True)
    return sb.build()


def _space_note(path: Path) -> str:
    """' (no space left on its file system: N bytes free)' when that is why a write failed, else ''."""
    try:
        stat = os.statvfs(path)
    except OSError:
        return ""
    free = stat.f_bavail * stat.f_frsize
    return f" (no space left on its file system: {free} bytes free)" if free < WRITER_HEAP // 4 else ""


def tokenize(analyzer: tantivy.TextAnalyzer, text: str) -> list[str]:
    """The user's words as index terms, deduplicated. Quotes, colons, `*`, parentheses and AND are
    plain text (the tokenizer drops punctuation, "and" is a stopword), never query syntax."""
    return list(dict.fromkeys(analyzer.analyze(text)))


def _to_document(doc: IndexDocument) -> tantivy.Document:
    d = tantivy.Document()
    d.add_text("uid", doc.point_id())
    for name, text in text_values(doc).items():
        if text:
            d.add_text(name, text)
    for key, values in keyword_values(doc).items():
        for value in values:
            if value:  # an empty string is no value (keeps facets free of "" buckets)
                d.add_text(KEYWORD_FIELDS[key], value)
    for term in vocabulary_terms(doc):
        d.add_text(VOCABULARY_FIELD, term)
    if doc.price is not None:  # no price -> no value -> never matches a price range
        d.add_float("price", float(doc.price))
    d.add_float("created_at", float(doc.created_at))
    return d


class TantivyLexicalEngine:
    """LexicalEngine on a tantivy index in `path`. The caller must own the directory (EngineOwnerLock):
    tantivy allows one writer per index, and this engine opens it once and keeps it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.recreated = False  # True when an index of another schema version was dropped on open
        self._schema = build_schema()
        self._analyzer = build_analyzer()
        self._open_index()
        self._index.register_tokenizer(ANALYZER, self._analyzer)
        self._writer = self._new_writer()
        # Reload only when we commit (we are the only writer), never on a timer.
        self._index.config_reader(reload_policy="manual")
        self._write_lock = threading.Lock()
        self._open_searcher()

    def _new_writer(self):
        try:
            return self._index.writer(heap_size=WRITER_HEAP, num_threads=1)
        except ValueError as exc:  # tantivy's LockBusy: another process holds the writer
            raise EngineError(f"tantivy index {self.path} is locked by another writer: {exc}") from exc

    def _writing(self, work) -> None:
        """Run a write; when tantivy fails it (an I/O error such as a full disk kills its writer for good), the
        index keeps its last commit, the killed writer is replaced, and the caller gets an EngineError that says
        why: its next attempt (the sync replays the batch) succeeds once the cause is gone."""
        try:
            work()
        except ValueError as exc:
            killed, self._writer = self._writer, None
            for step in ("rollback", "wait_merging_threads"):  # the second releases tantivy's writer lock
                try:
                    getattr(killed, step)()
                except ValueError:
                    pass
            self._writer = self._new_writer()
            raise EngineError(f"could not write the tantivy index at {self.path}{_space_note(self.path)}: {exc}; "
                              "it still holds its last commit, and the next write retries") from exc

    def _open_index(self) -> None:
        marker = self.path / "catalog_schema.json"
        if self.path.exists() and any(self.path.iterdir()):
            try:
                version = json.loads(marker.read_text())["version"]
            except (OSError, ValueError, KeyError):
                version = None
            if version != SCHEMA_VERSION:
                shutil.rmtree(self.path)
                self.recreated = True
        self.path.mkdir(parents=True, exist_ok=True)
        self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        marker.write_text(json.dumps({"version": SCHEMA_VERSION}))

    # --- writes --------------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        def work() -> None:
            for doc in docs:
                # Delete-then-add on the unique key: tantivy has no update in place. Both take effect
                # together at commit, so a reader never sees the product missing.
                self._writer.delete_documents_by_term("uid", doc.point_id())
                self._writer.add_document(_to_document(doc))

        with self._write_lock:
            self._writing(work)

    def delete(self, store: str, product_ids: Sequence[str]) -> None:
        def work() -> None:
            for pid in product_ids:
                self._writer.delete_documents_by_term("uid", point_id(store, pid))

        with self._write_lock:
            self._writing(work)

    def commit(self) -> None:
        with self._write_lock:
            self._writing(self._writer.commit)
            self._open_searcher()

    def clear(self) -> None:
        with self._write_lock:
            self._writer.delete_all_documents()
            self._writer.commit()
            self._open_searcher()

    def _open_searcher(self) -> None:
        """The last commit's searcher, with nothing counted on it yet: one attribute, so that a reader
        never pairs a searcher with another one's counts."""
        self._index.reload()
        self._current = (self._index.searcher(), SearcherMemo())

    @property
    def _searcher(self):
        return self._current[0]

    def _counted(self, key: tuple, text: str, count):
        """`count(searcher)`, remembered on that searcher when the text has no words (searcher_memo)."""
        searcher, memo = self._current
        if tokenize(self._analyzer, text):
            return count(searcher)
        return memo.get(key, lambda: count(searcher))

    def memo_stats(self) -> dict[str, int]:
        """Hits, misses and entries of the current searcher's memo (benchmarks report them)."""
        memo = self._current[1]
        return {"hits": memo.hits, "misses": memo.misses, "entries": len(memo)}

    def close(self) -> None:
        with self._write_lock:
            writer = getattr(self, "_writer", None)
            if writer is None:
                return
            # Uncommitted writes are dropped, as documented: only `commit` makes writes durable.
            writer.rollback()
            writer.wait_merging_threads()  # consumes the writer and releases tantivy's writer lock
            self._writer = None

    # --- reads ---------------------------------------------------------------------------------

    def _text_query(self, text: str, match: TextMatch = BOOSTED) -> tantivy.Query | None:
        words = tokenize(self._analyzer, text)
        if not words:
            return None
        per_word = []
        for word in words:
            fields = [tantivy.Query.boost_query(tantivy.Query.term_query(self._schema, f, word), boost)
                      for f, boost in match.boosts.items()]
            per_word.append((tantivy.Occur.Should,
                             tantivy.Query.disjunction_max_query(fields, tie_breaker=match.tie_breaker)))
        # Any word may match (OR, like multi_match's default); BM25 ranks documents matching more
        # words, and rarer ones, first.
        return tantivy.Query.boolean_query(per_word)

    def _query(self, store: str, text: str, filter: Filter | None, match: TextMatch = BOOSTED) -> tantivy.Query:
        scope = tantivy.Query.const_score_query(scoped_filter(store, filter, self._schema), 0.0)
        text_query = self._text_query(text, match)
        if text_query is None:
            return scope  # empty text (or only stopwords/punctuation): browse the store under the filter
        return tantivy.Query.boolean_query([(tantivy.Occur.Must, text_query), (tantivy.Occur.Must, scope)])

    def search(self, store: str, text: str, filter: Filter | None = None, *, limit: int = 10,
               offset: int = 0, sort: Sort | None = None, match: TextMatch = BOOSTED) -> Hits:
        if limit <= 0:  # a count
            return self._counted(("total", store, filter), text, lambda searcher: self._search(
                searcher, store, text, filter, limit, offset, sort, match))
        return self._search(self._searcher, store, text, filter, limit, offset, sort, match)

    def _search(self, searcher, store: str, text: str, filter: Filter | None, limit: int, offset: int,
                sort: Sort | None, match: TextMatch) -> Hits:
        query = self._query(store, text, filter, match)
        if sort is None and self._text_query(text) is None:
            # A browse scores every document alike: order by product id in the engine, so a deep page
            # costs one collector pass instead of loading every document before it.
            result = searcher.search(query, max(limit, 1), count=True, order_by_field="product_id",
                                     offset=offset, order=tantivy.Order.Asc)
            hits = [Hit(product_id=str(key), score=0.0) for key, _ in result.hits[: max(limit, 0)]]
            return Hits(total=result.count or 0, hits=hits)
        total = 0

        def fetch(n: int) -> list[Hit]:
            nonlocal total
            if sort is not None:
                order = tantivy.Order.Desc if sort.descending else tantivy.Order.Asc
                # Documents without the field (no price) come last in both directions.
                result = searcher.search(query, n, count=True, order_by_field=sort.field, order=order)
            else:
                result = searcher.search(query, n, count=True)
            total = result.count or 0
            return [Hit(product_id=searcher.doc(addr)["product_id"][0], score=float(score or 0.0))
                    for score, addr in result.hits]

        # tantivy breaks ties by document address: fetch from the top and order ties by product id
        # (ordering.first_hits), so that pages of the same query never overlap or leave gaps.
        if limit <= 0:
            fetch(1)  # the count alone (tantivy panics on a limit of 0)
            return Hits(total=total)
        hits = first_hits(fetch, offset + limit)[offset:]
        return Hits(total=total, hits=hits)

    def facets(self, store: str, text: str, filter: Filter | None, field: str, *,
               size: int = 50) -> list[FacetCount]:
        return list(self._counted(("facets", store, filter, field, size), text,
                                  lambda searcher: self._facets(searcher, store, text, filter, field, size)))

    def _facets(self, searcher, store: str, text: str, filter: Filter | None, field: str,
                size: int) -> list[FacetCount]:
        key, prefix = facet_key(field)
        query = self._query(store, text, filter)
        if prefix:
            # One "attrs" column holds every attribute: keep only this handle's "<handle>=" values. A regex
            # `include` runs over every value of the column (1.4 ms a facet on the fixture, seven facets a
            # search); counting the whole column and keeping the prefix here costs a quarter of that, and is
            # exact while the store's attribute values fit in one aggregation.
            every = {"field": KEYWORD_FIELDS[key], "size": ALL_ATTRIBUTE_VALUES,
                     "segment_size": ALL_ATTRIBUTE_VALUES}
            buckets = searcher.aggregate(query, {"f": {"terms": every}})["f"]["buckets"]
            if len(buckets) < ALL_ATTRIBUTE_VALUES:
                return facet_counts((b for b in buckets if b["doc_count"] > 0 and b["key"].startswith(prefix)),
                                    prefix, size)
        terms: dict[str, object] = {"field": KEYWORD_FIELDS[key], "size": size,
                                    "segment_size": max(FACET_SEGMENT_SIZE, size * 10)}
        if prefix:
            terms["include"] = re.escape(prefix) + ".*"
        result = searcher.aggregate(query, {"f": {"terms": terms}})
        return facet_counts((b for b in result["f"]["buckets"] if b["doc_count"] > 0), prefix, size)

    def facets_many(self, store: str, text: str, filter: Filter | None, fields: Sequence[str], *,
                    size: int = 50) -> dict[str, list[FacetCount]]:
        """`facets` of several fields under one filter in one aggregation pass: the attribute facets share one
        count of the attrs column (a search's seven attribute facets were seven passes over it)."""
        counted = self._counted(("facets_many", store, filter, tuple(fields), size), text,
                                lambda searcher: self._facets_many(searcher, store, text, filter, fields, size))
        return {fld: list(counts) for fld, counts in counted.items()}

    def _facets_many(self, searcher, store: str, text: str, filter: Filter | None, fields: Sequence[str],
                     size: int) -> dict[str, list[FacetCount]]:
        aggs: dict[str, dict] = {}
        prefixes: dict[str, tuple[str, str]] = {}
        for fld in fields:
            key, prefix = facet_key(fld)
            column = KEYWORD_FIELDS[key]
            prefixes[fld] = (column, prefix)
            wanted = ALL_ATTRIBUTE_VALUES if prefix else size
            segment = ALL_ATTRIBUTE_VALUES if prefix else max(FACET_SEGMENT_SIZE, size * 10)
            held = aggs.get(column, {"terms": {"size": 0}})["terms"]
            if wanted > held["size"]:
                aggs[column] = {"terms": {"field": column, "size": wanted, "segment_size": segment}}
        result = searcher.aggregate(self._query(store, text, filter), aggs) if aggs else {}
        by_handle: dict[str, dict[str, list]] = {}
        out: dict[str, list[FacetCount]] = {}
        for fld, (column, prefix) in prefixes.items():
            buckets = result[column]["buckets"]
            if not prefix:
                out[fld] = facet_counts((b for b in buckets if b["doc_count"] > 0), prefix, size)
            elif len(buckets) >= ALL_ATTRIBUTE_VALUES:  # more values than one pass counts: the exact path
                out[fld] = self._facets(searcher, store, text, filter, fld, size)
            else:
                if column not in by_handle:
                    split: dict[str, list] = {}
                    for b in buckets:
                        if b["doc_count"] > 0:
                            split.setdefault(b["key"].split("=", 1)[0] + "=", []).append(b)
                    by_handle[column] = split
                out[fld] = facet_counts(by_handle[column].get(prefix, []), prefix, size)
        return out

    def price_counts(self, store: str, text: str, filter: Filter | None,
                     ranges: Sequence[tuple[float | None, float | None]]) -> list[int]:
        """Matching products per price range [low, high) (None: unbounded), in one aggregation pass."""
        def count(searcher) -> list[int]:
            aggs = {"p": {"range": {"field": "price", "ranges": price_ranges(ranges)}}}
            buckets = searcher.aggregate(self._query(store, text, filter), aggs)["p"]["buckets"]
            return [int(b["doc_count"]) for b in buckets]

        return list(self._counted(("price_counts", store, filter, tuple(ranges)), text, count))

    def price_stats(self, store: str, text: str, filter: Filter | None) -> tuple[float, float] | None:
        def stats(searcher) -> tuple[float, float] | None:
            found = searcher.aggregate(self._query(store, text, filter), {"p": {"stats": {"field": "price"}}})["p"]
            return (float(found["min"]), float(found["max"])) if found.get("count") else None

        return self._counted(("price_stats", store, filter), text, stats)

    def vocabulary_counts(self, store: str) -> list[FacetCount]:
        """Products per vocabulary term of the store (indexer.engines.vocabulary), one aggregation."""
        def count(searcher) -> list[FacetCount]:
            terms = {"field": VOCABULARY_FIELD, "size": MAX_TERMS, "segment_size": MAX_TERMS}
            query = scoped_filter(store, None, self._schema)
            buckets = searcher.aggregate(query, {"v": {"terms": terms}})["v"]["buckets"]
            return [FacetCount(value=b["key"], count=int(b["doc_count"])) for b in buckets if b["doc_count"] > 0]

        return list(self._counted(("vocabulary", store), "", count))

    def count(self, store: str, filter: Filter | None = None) -> int:
        def count(searcher) -> int:
            query = tantivy.Query.const_score_query(scoped_filter(store, filter, self._schema), 0.0)
            return searcher.search(query, 1, count=True).count or 0

        return self._counted(("count", store, filter), "", count)

    def ids(self, store: str) -> set[str]:
        searcher = self._searcher
        query = scoped_filter(store, None, self._schema)
        total = searcher.search(query, 1, count=True).count or 0
        if total == 0:
            return set()
        return {searcher.doc(addr)["product_id"][0] for _, addr in searcher.search(query, total).hits}

    def stores(self) -> set[str]:
        # Terms over the store column of every document: asked on every request (is the store known?).
        def count(searcher) -> frozenset[str]:
            result = searcher.aggregate(tantivy.Query.all_query(), {"s": {"terms": {"field": "store", "size": 10_000}}})
            return frozenset(b["key"] for b in result["s"]["buckets"] if b["doc_count"] > 0)

        return set(self._counted(("stores",), "", count))
