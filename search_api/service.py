"""Hybrid search: query understanding, lexical + vector retrieval under one filter, fusion, relaxation,
disjunctive facets. Engine-neutral: it talks to the two engine protocols only."""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from indexer.engines.lexical.base import PLAIN
from indexer.engines.types import MAX_WINDOW, Sort
from indexer.filters import Eq, Not, and_all
from search_api.documents import DocumentCache
from search_api.models import (
    AppliedFilterPublic,
    FacetPublic,
    FacetValuePublic,
    FilterSpec,
    MatchedAttribute,
    SearchRequest,
    SearchResponse,
    SearchResult,
)
from search_api.query.close_matches import close_match_steps, single_steps
from search_api.query.conversation import merge_turn
from search_api.query.filters import exclude_field, to_filter
from search_api.query.kind_groups import taxonomy_kind_groups, widen
from search_api.query.models import AppliedFilter
from search_api.query.paging import FusedPage, Retrieved, Retriever, fetch_fused
from search_api.query.parse import cut_query
from search_api.query.parsers import QueryParser, RulesQueryParser
from search_api.query.relax import relax_steps, relaxation_order
from search_api.query.similar_colors import widen_color
from search_api.query.vocabulary import StoreVocabulary
from search_api.sessions import SessionState, new_session_id

# Facets shown to shoppers, in display order (price is bucketed separately).
FACET_FIELDS = ("category", "attr.target-gender", "attr.color", "attr.size", "attr.fabric", "attr.material",
                "attr.activity", "attr.style")
PRICE_BUCKETS = ((None, 25.0), (25.0, 50.0), (50.0, 100.0), (100.0, None))
NOT_FLAGGED = Not(filter=Eq(field="flagged", value=True))
# Attributes a parsed value filters on. Other recognised values (activity, climate, style, features)
# are often absent from listings that have them, so they rank (their words stay in the text) instead
# of excluding. Exclusions ("not cotton") and explicit filters always filter.
HARD_ATTRIBUTES = frozenset({"color", "size", "target-gender", "age-group", "fabric", "material", "pattern"})


class UnknownStoreError(LookupError):
    pass


@dataclass
class SearchConfig:
    rrf_k: int = 60
    lexical_weight: float = 1.0
    vector_weight: float = 1.0
    candidates: int = 100  # the first window per retriever, before fusion (grows with the page's depth)


@dataclass
class Ranked:
    ids: list[str]  # one fixed order: a page is a slice of it
    scores: dict[str, float]
    total: int  # see SearchResponse.total
    exact: bool = True  # False: `total` is a lower bound
    # The words the results matched, which the facets count with; "" when the results are every product
    # under the filters (a vector query ranks them all; a browse; a query made only of filters).
    matched_text: str = ""


@dataclass
class _Query:
    """One request's reading of the query, with the store's vocabulary and category groups as of its start."""

    vocab: StoreVocabulary
    groups: tuple[Mapping[str, frozenset[str]], ...]  # the store's category groups, then the taxonomy's kinds
    filters: list[AppliedFilter]
    text: str  # the ranking text
    sort: Sort | None
    phrase: str  # the vector query


class SearchService:
    def __init__(self, lexical, vector, embedder, taxonomy, documents: DocumentCache, sessions,
                 config: SearchConfig | None = None, parser: QueryParser | None = None) -> None:
        self.lexical = lexical
        self.vector = vector
        self.embedder = embedder
        self.taxonomy = taxonomy
        self.documents = documents
        self.sessions = sessions
        self.config = config or SearchConfig()
        # The one place queries are read (search and rank): the rules unless QUERY_PARSER says otherwise.
        self.parser: QueryParser = parser or RulesQueryParser()
        # Kinds the taxonomy groups (Hoodies with Sweatshirts): a store with no merchant categories has no
        # groups of its own. Built here, once, not on a request.
        self.kind_groups = taxonomy_kind_groups(taxonomy)

    # --- public -------------------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.parser.close()
        finally:
            close = getattr(self.sessions, "close", None)
            if close is not None:
                close()

    def ensure_store(self, store: str) -> None:
        if store not in self.lexical.stores():
            raise UnknownStoreError(f"unknown store {store!r}")

    def search(self, store: str, request: SearchRequest) -> SearchResponse:
        """The store must exist (`ensure_store`): the routes check it before calling."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        session_id = request.session_id or new_session_id()
        # A session is bound to its store: another store's session id starts afresh.
        state = self.sessions.get(session_id, store) if request.session_id else None
        if state is None and request.session_id and self.sessions.get(session_id) is not None:
            session_id = new_session_id()  # another store's conversation: start afresh, never overwrite it
        query = self._read(store, request.q, state, request.filters)
        timings["parse"] = _ms(started)

        ranked, kept, relaxed = self._retrieve_relaxing(store, query, request.mode, timings,
                                                        want=request.offset + request.limit)
        page_ids = ranked.ids[request.offset: request.offset + request.limit]
        docs = self.documents.get_many(store, page_ids)
        results = [self._result(docs[pid], ranked.scores[pid], kept) for pid in page_ids if pid in docs]
        close, given_up = [], []
        room = request.limit - len(page_ids)
        if page_ids and room > 0:  # the results end on this page: the rest of it shows close matches
            t = time.perf_counter()
            close_ranked, given_up = self._close_matches(store, query, kept, request.mode, set(ranked.ids), room)
            close_docs = self.documents.get_many(store, close_ranked.ids)
            close = [self._result(close_docs[pid], close_ranked.scores[pid], kept)
                     for pid in close_ranked.ids if pid in close_docs]
            timings["close_matches"] = _ms(t)

        t = time.perf_counter()
        # Facets count the set that `total` counts, so a facet value's count is the total its filter gives.
        text, sort = query.text, query.sort
        facets = self._facets(store, ranked.matched_text, kept, query)
        timings["facets"] = _ms(t)
        self.sessions.put(session_id, SessionState(store=store, filters=kept, text=text, sort=sort,
                                                   phrase=query.phrase, turns=(state.turns + 1) if state else 1))
        timings["total"] = _ms(started)
        return SearchResponse(
            results=results, total=ranked.total, total_relation="eq" if ranked.exact else "gte",
            applied_filters=[_public(f) for f in kept], relaxed_filters=[_public(f) for f in relaxed],
            facets=facets, session_id=session_id, query_text=text,
            sort=f"{sort.field}:{'desc' if sort.descending else 'asc'}" if sort else None,
            close_matches=close, close_match_filters=[_public(f) for f in given_up], timings_ms=timings)

    def rank(self, store: str, q: str, mode: str = "hybrid", previous: Sequence[str] = (),
             with_close_matches: bool = True) -> list[str]:
        """Ranked product ids for one query (evaluation): the first page of `candidates`, as a shopper sees it
        (the results, then the close matches when the results end inside it; `with_close_matches=False`
        gives the results alone). `previous` are the conversation's earlier turns, read as a session reads
        them (nothing is stored). Mode "bm25" is the plain baseline: the raw text of every turn, no
        parsing, filters, relaxation or close matches."""
        self.ensure_store(store)
        if mode == "bm25":
            found = self.lexical.search(store, cut_query(" ".join([*previous, q])), None,
                                        limit=self.config.candidates, match=PLAIN)
            return [h.product_id for h in found.hits]
        state: SessionState | None = None
        want = self.config.candidates
        for turn in [*previous, q]:
            query = self._read(store, turn, state)
            ranked, kept, _ = self._retrieve_relaxing(store, query, mode, {}, want=want)
            state = SessionState(store=store, filters=kept, text=query.text, sort=query.sort,
                                 turns=(state.turns + 1) if state else 1)
        if not with_close_matches or not ranked.ids or len(ranked.ids) >= want:
            return ranked.ids[:want]
        # What one page of `want` shows: the results, then the close matches that fill it.
        close, _ = self._close_matches(store, query, kept, mode, set(ranked.ids), want - len(ranked.ids))
        return [*ranked.ids, *close.ids]

    def _read(self, store: str, raw_q: str, state: SessionState | None = None,
              explicit: list[FilterSpec] | None = None) -> _Query:
        """The query as filters, ranking text, sort and vector phrase: parsed, merged into the session's
        (when there is one), replaced by the client's `explicit` filters (when given), then softened."""
        q = cut_query(raw_q)  # the one limit: spans from the parser index this same text
        # Once per request: every relaxation attempt filters and ranks with the same vocabulary and groups.
        vocab = self.documents.vocabulary(store)
        groups = (self.documents.category_groups(store), self.kind_groups)
        if state is not None and explicit is None and not q.strip():
            # An empty turn adds nothing: it is the session's last search again (the next page of results),
            # with its filters as they were read, so that its pages are cut from one order.
            return _Query(vocab=vocab, groups=groups, filters=list(state.filters), text=state.text,
                          sort=state.sort, phrase=state.phrase or _session_phrase(state.filters, state.text))
        parsed = self.parser.parse(store, q, vocab, self.taxonomy)
        if state is not None:
            filters, text, sort = merge_turn(state.filters, parsed, q, previous_text=state.text,
                                             previous_sort=state.sort)
        else:
            filters, text, sort = parsed.filters, parsed.text, parsed.sort
        if explicit is not None:
            filters = [_explicit(spec) for spec in explicit]
        filters, text = _soften(filters, text, q)
        # A follow-up ("under 40") says little by itself: the vector query describes the whole conversation.
        phrase = _session_phrase(filters, text) if state is not None else _without_price_words(q, filters)
        return _Query(vocab=vocab, groups=groups, filters=filters, text=text, sort=sort, phrase=phrase)

    # --- retrieval ----------------------------------------------------------------------------

    def _retrieve_relaxing(self, store, query: _Query, mode, timings, want: int):
        """Retrieve under the filters; when they leave nothing, drop the least confident first and
        say so, instead of silently showing unrelated products as matches."""
        filters = query.filters
        relaxed: list[AppliedFilter] = []
        ranked = self._retrieve(store, query, filters, mode, timings, want)
        if ranked.ids or not filters:
            return ranked, filters, relaxed
        # One filter may be what empties the results ("running" on apparel that never says so): try
        # dropping a single one, in relaxation order, before giving up several.
        # A colour nobody sells in this kind gives way to its neighbours first ("white shorts": the gray ones),
        # and only then to every colour.
        for kept, dropped in single_steps(filters, relaxation_order(filters), self._similar(query)):
            ranked = self._retrieve(store, query, kept, mode, timings, want)
            if ranked.ids:
                return ranked, kept, dropped
        for kept, dropped in relax_steps(filters):
            ranked = self._retrieve(store, query, list(kept), mode, timings, want)
            if ranked.ids:
                return ranked, list(kept), list(dropped)
        return ranked, filters, relaxed

    def _close_matches(self, store, query: _Query, kept: list[AppliedFilter], mode, exclude: set[str],
                       room: int) -> tuple[Ranked, list[AppliedFilter]]:
        """Up to `room` products outside `exclude` (the results), nearest first: the attempts of
        `close_match_steps` in order, each adding what the earlier ones did not find, until the room is
        filled; and the filters the contributing attempts gave up."""
        ids: list[str] = []
        scores: dict[str, float] = {}
        given_up: dict[str, AppliedFilter] = {}
        seen = set(exclude)
        for relaxed, dropped in close_match_steps(kept, self._similar(query)):
            found = self._retrieve(store, query, relaxed, mode, {}, want=len(seen) + room - len(ids))
            fresh = [pid for pid in found.ids if pid not in seen][:room - len(ids)]
            if not fresh:
                continue
            ids += fresh
            seen.update(fresh)
            scores.update((pid, found.scores[pid]) for pid in fresh)
            given_up.update((f.id, f) for f in dropped)
            if len(ids) >= room:
                break
        return Ranked(ids, scores, len(ids)), list(given_up.values())

    @staticmethod
    def _similar(query: _Query):
        """A filter's nearer form for relaxation and close matches: a colour with its neighbours."""
        return lambda f: widen_color(f, lambda value: query.vocab.value_name("color", value))

    def _retrieve(self, store, query: _Query, filters, mode, timings, want: int) -> Ranked:
        """The first `want` results (at least) of one fixed order, and the total they are counted in."""
        sort = query.sort
        # A sort orders by the field alone, so no words rank the named kind first: a widened group would list
        # its other kinds ahead ("lowest price sports bra" gave the cheaper tanks). Sorted, the kind is exact.
        kinds = filters if sort is not None else _widen_categories(filters, query.groups)
        flt = and_all([NOT_FLAGGED, to_filter(kinds)])
        filters_only = not query.text.strip()
        text, q = _with_category_words(query.text, query.phrase, filters, query.vocab)
        t = time.perf_counter()
        use_vector = mode in ("hybrid", "vector") and bool(q.strip()) and sort is None
        retrievers: dict[str, Retriever] = {}
        words = ""  # the lexical retriever's words when it alone decides the result set
        if not use_vector:
            # A sort decides the order, so the category words of a filters-only query would only narrow
            # the set (to the products that spell them out): the filters are the match.
            words = text if mode != "vector" and not (filters_only and sort is not None) else ""
            retrievers["lexical"] = self._lexical_retriever(store, words, flt, sort)
        else:
            if mode == "hybrid" and text.strip():
                retrievers["lexical"] = self._lexical_retriever(store, text, flt, None)
            # else every word became a filter: lexical has no ranking signal, vector order decides.
            # The vector query is the shopper's whole phrase: "black hoodie for men" embeds better than
            # the residual words after the filters took "black" and "men".
            retrievers["vector"] = self._vector_retriever(store, self.embedder.embed_query(q), flt)
        weights = {"lexical": self.config.lexical_weight, "vector": self.config.vector_weight}
        page = fetch_fused(retrievers, want, first=self.config.candidates, k=self.config.rrf_k, weights=weights,
                           rest="vector")
        timings["retrieve"] = _ms(t)
        if not use_vector and not (words.strip() and filters_only):
            # The text's matches, or a browse (every product under the filters): the engine counted them.
            return Ranked(page.ids, page.scores, page.total or 0, page.exact, matched_text=words)
        # A vector query ranks every product under the filters; a query made only of filters ("yoga pants
        # under $40") matches them all, the products that spell out the category's name first.
        return self._with_every_filtered(store, flt, page)

    def _lexical_retriever(self, store, text: str, flt, sort: Sort | None) -> Retriever:
        def fetch(n: int) -> Retrieved:
            found = self.lexical.search(store, text, flt, limit=n, sort=sort)
            return Retrieved(found.hits, len(found.hits) < n or len(found.hits) >= found.total, found.total,
                             found.exact)
        return fetch

    def _vector_retriever(self, store, vector, flt) -> Retriever:
        def fetch(n: int) -> Retrieved:
            hits = self.vector.search(store, vector, flt, limit=n)
            # It ranks every product under the filter: fewer than asked for is all of them.
            return Retrieved(hits, len(hits) < n)
        return fetch

    def _with_every_filtered(self, store, flt, page: FusedPage) -> Ranked:
        """The results are every product under the filter: counted by the lexical engine (the facets count
        the same set), and any product no retriever ranked (a filters-only lexical match ranks only the
        products naming the category; a product may lack its vector while the index catches up) follows
        the ranked ones, in browse order, once the rankings are complete."""
        count = self.lexical.search(store, "", flt, limit=0)
        if not page.complete or count.total == len(page.ids):
            return Ranked(page.ids, page.scores, count.total, count.exact)
        browse = self.lexical.search(store, "", flt, limit=min(count.total, MAX_WINDOW))
        seen = set(page.ids)
        rest = [h.product_id for h in browse.hits if h.product_id not in seen]
        ids = [*page.ids, *rest]
        scores = {**page.scores, **dict.fromkeys(rest, 0.0)}
        total = len(ids) if count.total <= MAX_WINDOW else count.total
        return Ranked(ids, scores, total, count.exact)

    # --- facets -------------------------------------------------------------------------------

    def _facets(self, store, text, filters: list[AppliedFilter], query: _Query) -> list[FacetPublic]:
        """Disjunctive facets: each facet's counts ignore that facet's own filter. They count under the
        filters as retrieval applies them (categories widened to the store's groups), so that picking a
        value gives the total its count said."""
        vocab = query.vocab
        selected = {(f.field, v) for f in filters if not f.negated for v in f.values}
        filters = _widen_categories(filters, query.groups)
        # Facets whose own filter is absent count under the same filter: one engine pass for all of them.
        by_filter: dict[tuple[int, ...], list[str]] = {}
        for fld in FACET_FIELDS:
            if not fld.startswith("attr.") or fld[5:] in vocab.attributes:
                by_filter.setdefault(tuple(map(id, exclude_field(filters, fld))), []).append(fld)
        counted: dict[str, list] = {}
        for fields in by_filter.values():
            flt = and_all([NOT_FLAGGED, to_filter(exclude_field(filters, fields[0]))])
            counted.update(self.lexical.facets_many(store, text, flt, fields))
        out: list[FacetPublic] = []
        for fld in FACET_FIELDS:
            counts = counted.get(fld)
            if not counts:
                continue
            values = [FacetValuePublic(value=c.value, name=self._facet_name(fld, c.value, vocab), count=c.count,
                                       selected=(fld, c.value) in selected) for c in counts]
            out.append(FacetPublic(field=fld, name=_facet_title(fld, vocab), values=values))
        flt = and_all([NOT_FLAGGED, to_filter(exclude_field(filters, "price"))])
        counts = self.lexical.price_counts(store, text, flt, PRICE_BUCKETS)
        buckets = [FacetValuePublic(value=_bucket_id(low, high), name=_bucket_name(low, high), count=count)
                   for (low, high), count in zip(PRICE_BUCKETS, counts, strict=True) if count]
        if buckets:
            out.append(FacetPublic(field="price", name="Price", values=buckets))
        return out

    def _facet_name(self, fld: str, value: str, vocab) -> str:
        if fld == "category":
            return vocab.categories.get(value, value)
        return vocab.value_name(fld[5:], value)

    def _result(self, doc, score: float, filters: list[AppliedFilter]) -> SearchResult:
        wanted = {(f.field[5:], v) for f in filters if f.field.startswith("attr.") and not f.negated
                  for v in f.values}
        matched = [MatchedAttribute(handle=a.handle, value=a.value, name=a.name, source=a.source)
                   for a in doc.attributes if (a.handle, a.value) in wanted]
        # "red hoodie": the hoodie in red, when a photo shows it, not whichever colour its first photo has.
        colors = [v for f in filters if f.field == "attr.color" and not f.negated for v in f.values]
        index, image = next((doc.color_images[v] for v in colors if v in doc.color_images), (0, doc.image))
        return SearchResult(product_id=doc.product_id, title=doc.title, price=doc.price, currency=doc.currency,
                            image=image, image_index=index, category=doc.category_name or None,
                            score=round(score, 6), matched_attributes=matched)


def _widen_categories(filters: list[AppliedFilter],
                      groups: tuple[Mapping[str, frozenset[str]], ...]) -> list[AppliedFilter]:
    """A positive category filter also admits the categories the merchant files with it and the kinds the
    taxonomy groups with it; ranking still puts the named kind first (`_with_category_words`)."""
    out = []
    for f in filters:
        if f.field == "category" and not f.negated:
            wider = widen(list(f.values), *groups)
            if len(wider) > len(f.values):
                f = f.model_copy(update={"values": wider, "op": "in"})
        out.append(f)
    return out


def _soften(filters: list[AppliedFilter], text: str, q: str) -> tuple[list[AppliedFilter], str]:
    """Parsed positive values of attributes outside HARD_ATTRIBUTES go back into the ranking text."""
    kept, words = [], []
    for f in filters:
        soft = (f.source == "parsed" and not f.negated and f.field.startswith("attr.")
                and f.field[5:] not in HARD_ATTRIBUTES)
        if not soft:
            kept.append(f)
        elif f.span and f.span[1] <= len(q):
            words.append(q[f.span[0]:f.span[1]])
    return kept, " ".join([text, *words]).strip()


def _without_price_words(q: str, filters: list[AppliedFilter]) -> str:
    """The shopper's text for the embedding, less the price bounds: they are filters, not meaning."""
    for f in sorted((f for f in filters if f.field == "price" and f.span and f.source == "parsed"),
                    key=lambda f: -f.span[0]):
        q = q[:f.span[0]] + " " + q[f.span[1]:]
    return " ".join(q.split())


def _session_phrase(filters: list[AppliedFilter], text: str) -> str:
    """What the shopper wants, in words, from the conversation's filters and text ("Black Hoodies Male")."""
    words = [f.label.split(": ", 1)[-1] for f in filters if not f.negated and f.field != "price"]
    return " ".join([*words, text]).strip()


def _with_category_words(text: str, q: str, filters: list[AppliedFilter], vocab) -> tuple[str, str]:
    """Ranking text and vector query for the retrievers.

    Category words stay in the ranking text, by the category's own name: the filter admits a group, the
    words rank the exact kind first ("tote bag" lists totes before the other bags), and a misspelt
    "sweatshrit" ranks by "Sweatshirts". Words the shopper excluded that matched no value ("without
    zipper") leave the ranking text so they do not promote what was excluded."""
    names = [vocab.categories.get(v, "") for f in filters
             if f.field == "category" and not f.negated and f.source == "parsed" for v in f.values]
    names = [n for n in names if n]
    ranking = _NEGATED_WORDS.sub(" ", text)
    ranking = " ".join([ranking, *names]).strip()
    unseen = [n for n in names if n.lower().rstrip("s") not in q.lower()]
    vector_q = " ".join([_NEGATED_WORDS.sub(" ", q), *unseen]).strip()
    return ranking, vector_q


_NEGATED_WORDS = re.compile(r"\b(?:not|no|without|except|isn't|isnt|non)\s+\w+", re.IGNORECASE)


def _explicit(spec: FilterSpec) -> AppliedFilter:
    return AppliedFilter(field=spec.field, op=spec.op, values=spec.values, gte=spec.gte, lte=spec.lte,
                         negated=spec.negated, label=spec.label or "", source="explicit")


def _public(f: AppliedFilter) -> AppliedFilterPublic:
    return AppliedFilterPublic(id=f.id, field=f.field, op=f.op, values=list(f.values), gte=f.gte, lte=f.lte,
                               negated=f.negated, label=f.label, source=f.source, confidence=f.confidence)


def _facet_title(fld: str, vocab) -> str:
    return "Category" if fld == "category" else vocab.attribute_name(fld[5:])


def _bucket_id(low, high) -> str:
    return f"{'' if low is None else int(low)}-{'' if high is None else int(high)}"


def _bucket_name(low, high) -> str:
    if low is None:
        return f"Under ${int(high)}"
    if high is None:
        return f"${int(low)} and over"
    return f"${int(low)} to ${int(high)}"


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 3)

