"""Shopper text -> filters from the taxonomy and the store's vocabulary, a sort, and the words left over.

`parse_query` is deterministic and pure; what it compiles per store vocabulary (phrase matchers, the
fuzzy index, the size table) is cached on the vocabulary instance, so a parse costs tens of microseconds.

Passes, in order, each consuming character spans of the (length-capped) query:
  1. price ("under $50", "between 20 and 40", "$20-$40", "20 to 40 dollars", "max $30", "over 100")
  2. sort ("cheapest", "most expensive", "newest"); "cheap"/"affordable" mean a price-ascending sort,
     never a price bound: a bound would need a price scale the word does not give, and a sort cannot
     empty the results
  3. size ("size M", "size 32", "XL"; a bare number only when the store sells that size)
  3b. phrasing (`search_api.query.phrasing`): occasion and superlative words as the store's value names
     for the ranking text ("winter" -> Wintry, "lightest" -> Lightweight), clothing words as the store's
     Clothing category; question and filler words leave the text at the end
  4. values and categories: the store's own value and category names, the taxonomy's value matcher
     (synonyms: "mens" -> Male, "grey" -> Gray) and category search ("tee" -> T-Shirts), kept only when
     the store has them; longest phrase first, a category beats an attribute value on the same words
     ("hoodie" is the category, not the style value Hoodie)
  5. misspellings: one edit away from a store name, for words of 5+ letters that are not words the
     taxonomy knows ("balck" -> Black, but "shirts" never becomes "shorts")
  6. negation ("not", "no", "without", "except", "non-", "anything but") binds to the value right
     after it, and carries over "or"/"and"/"nor" lists ("no red or black")
Whatever is not consumed is the retrieval text, with a few filler words dropped.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from indexer.engines.types import Sort
from search_api.query.filters import (  # noqa: F401  (old import names, kept for one commit)
    attribute_filter,
    category_filter,
    exclude_field,
    price_filter,
    to_filter,
)
from search_api.query.models import AppliedFilter, ParsedQuery
from search_api.query.phrasing import drop_filler, kind_aliases, read_phrasing, value_aliases
from search_api.query.vocabulary import StoreVocabulary
from taxonomy.matcher import PhraseMatcher
from taxonomy.text import normalize_phrase, normalize_token, tokenize

__all__ = [
    "MAX_QUERY_CHARS",
    "AppliedFilter",
    "ParsedQuery",
    "attribute_filter",
    "category_filter",
    "exclude_field",
    "parse_query",
    "pick_category",
    "price_filter",
    "to_filter",
]

MAX_QUERY_CHARS = 512

# Confidence by evidence.
CONF_PRICE = 0.95
CONF_PRICE_BARE = 0.7  # "$50" alone: a budget, most likely
CONF_SIZE = 0.95  # "size M"
CONF_SIZE_LETTERS = 0.85  # "XL"
CONF_SIZE_BARE = 0.6  # "32" or "M" alone
CONF_NAME_MULTI = 0.95  # the store's own value/category name, several words
CONF_NAME = 0.9  # ... one word
CONF_NAME_PART = 0.8  # one part of "Luggage & Bags"
CONF_CATEGORY_SEARCH = 0.85  # the taxonomy's category search (synonyms), restricted to the store
CONF_FUZZY_FACTOR = 0.75  # times the confidence of the name it was corrected to
CONF_TAXONOMY_FACTOR = 0.95  # times the taxonomy matcher's confidence

# Minimum taxonomy category-search score to accept a category from a word: a category's own name or a
# reviewed synonym scores well above it ("tee" 11.9, "hoodie" 21.5); loose word overlaps stay below
# ("bag" 3.3, "yoga" 5.6).
CATEGORY_SEARCH_MIN_SCORE = 10.0

# Value names that are ordinary words, never filters on their own.
_WEAK_VALUES = frozenset({
    "yes", "no", "true", "false", "none", "other", "n a", "na", "all", "new", "sale", "regular",
    "standard", "default", "basic", "0", "1",
})  # fmt: skip
# Attribute handles whose values the size pass owns.
_SIZE_HANDLES = ("size", "clothing-size", "apparel-size")
# Order among attributes naming the same words (the most useful first).
_HANDLE_PRIORITY = {
    h: i for i, h in enumerate((
        "color", "target-gender", "gender", "size", "material", "fabric", "pattern", "age-group",
        "activity", "style", "sleeve-length-type", "neckline", "fit", "climate",
    ))
}  # fmt: skip

_STOP_PHRASES = (
    ("show", "me"), ("i", "want"), ("i", "need"), ("i'm", "looking", "for"), ("im", "looking", "for"),
    ("looking", "for"), ("find", "me"), ("search", "for"), ("give", "me"), ("do", "you", "have"),
    ("can", "you", "show", "me"), ("i", "would", "like"), ("i'd", "like"),
)  # fmt: skip
_STOPWORDS = frozenset({
    "for", "a", "an", "the", "with", "in", "of", "some", "any", "and", "or", "me", "please", "to", "my",
})  # fmt: skip
# Between a negation word and the value it negates.
_NEG_FILLER = frozenset(
    {"a", "an", "any", "the", "made", "of", "with", "in", "from", "color", "colour", "colored", "coloured"}
)
_NEG_WORDS = frozenset(
    {"not", "no", "without", "except", "excluding", "exclude", "non", "nothing", "never", "minus", "isn't", "isnt",
     "aren't", "arent"}
)
_NEG_BIGRAMS = frozenset({("anything", "but"), ("other", "than"), ("but", "not"), ("instead", "of")})
_LIST_JOINERS = frozenset({"or", "nor", "and"})
# Attributes whose values name a kind of product rather than a property of it.
_TYPE_LIKE_HANDLES = frozenset({"style"})

# A few shopper words for a product type, resolved through the taxonomy's category search at compile time
# (so they only count where the store has such a category).
_CATEGORY_WORDS = (
    "tee", "tees", "tshirt", "t shirt", "tank", "tank top", "bra", "sports bra", "watch", "duffel", "duffle",
    "duffle bag", "gym bag", "hoody", "hoodie", "sweatshirt", "sweater", "jumper", "legging", "yoga pants",
    "sneaker", "trainers", "jacket", "coat", "shorts", "pants", "backpack", "tote", "water bottle", "jeans",
)  # fmt: skip

_NUM = r"(\d{1,3}(?:,\d{3})+|\d{1,7}(?:\.\d{1,2})?)\s?(k)?"
_CUR = r"(?:\$|usd\s?|€|£)?\s?"
_UNIT = r"(?:\s?(?:dollars?|bucks|usd|\$))"
_PRICE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("between", re.compile(
        rf"\b(?:between|from)\s+{_CUR}{_NUM}{_UNIT}?\s*(?:and|to|-|–)\s*{_CUR}{_NUM}{_UNIT}?")),
    ("span", re.compile(rf"(?<![\w.])(\$|usd\s?)?\s?{_NUM}\s*(?:-|–|to)\s*(\$|usd\s?)?\s?{_NUM}({_UNIT})?")),
    ("around", re.compile(rf"\b(?:around|about|approximately|roughly|~)\s*{_CUR}{_NUM}{_UNIT}?")),
    ("lte", re.compile(
        rf"(?:\b(?:under|below|less than|cheaper than|less expensive than|lower than|at most|max(?:imum)?|up to|"
        rf"no more than|not more than|within|budget(?: of)?)|<=?)\s*(?:of\s+)?{_CUR}{_NUM}{_UNIT}?")),
    ("gte", re.compile(
        rf"(?:\b(?:over|above|more than|pricier than|more expensive than|costlier than|at least|min(?:imum)?|"
        rf"greater than|starting at|upwards of)|>=?)"
        rf"\s*{_CUR}{_NUM}{_UNIT}?")),
    ("lte_suffix", re.compile(
        rf"(?<![\w.]){_CUR}{_NUM}{_UNIT}?\s*(?:or|and)\s+(?:less|under|below|cheaper)\b")),
    ("gte_suffix", re.compile(
        rf"(?<![\w.]){_CUR}{_NUM}{_UNIT}?\s*(?:(?:or|and)\s+(?:more|over|above|up)\b|\+)")),
    ("bare", re.compile(rf"(?<![\w.])(?:\$\s?{_NUM}|{_NUM}\s?(?:dollars?|bucks)\b)")),
)  # fmt: skip

_SORT_PATTERNS: tuple[tuple[re.Pattern[str], Sort, bool], ...] = (
    (re.compile(r"\b(?:cheapest|lowest[\s-]priced?|least expensive|price:? low to high|low to high|"
                r"sort(?:ed)? by price(?: ascending)?)\b"), Sort("price"), True),
    (re.compile(r"\b(?:most expensive|highest[\s-]priced?|priciest|price:? high to low|high to low|"
                r"sort(?:ed)? by price descending)\b"), Sort("price", descending=True), True),
    (re.compile(r"\b(?:newest|latest|most recent|recently added|new arrivals|sort(?:ed)? by date)\b"),
     Sort("created_at", descending=True), True),
    (re.compile(r"\b(?:cheap|inexpensive|affordable|budget|low[\s-]cost|bargain)\b"), Sort("price"), False),
)  # fmt: skip

_SIZE_AFTER_WORD = re.compile(r"\bsize[sd]?\s*:?\s*([a-z0-9]{1,5}(?:\.5)?|x{1,3}-?(?:small|large))\b")
_SIZE_MORE = re.compile(r"\s*(?:,|/|or|and)\s*([a-z0-9]{1,5}(?:\.5)?)\b")
_SIZE_BARE = re.compile(
    r"(?<![\w$.])((?:[2-5]?x{1,3}[sl])|x-?(?:small|large)|extra[\s-](?:small|large)|"
    r"\d{1,2}(?:\.5)?|[sml])(?![\w.%$])"
)
_UNIT_AFTER = re.compile(
    r"\s*(?:oz|ml|l|lbs?|kg|g|mm|cm|m|in|inch|inches|\"|'|ft|gb|tb|mp|w|v|mah|pack|"
    r"pcs?|pieces?|count|ct|%|x\b|years?|yrs?|months?|min|hours?|days?)\b"
)
_SIZE_WORDS = {
    "small": "s", "medium": "m", "large": "l", "x-small": "xs", "xsmall": "xs", "extra small": "xs",
    "x-large": "xl", "xlarge": "xl", "extra large": "xl", "xx-large": "xxl", "2xl": "xxl", "xxs": "xxs",
}  # fmt: skip

_WORD_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


# ------------------------------------------------------------------------------------------ compiled vocab


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Literal["category", "attr", "vendor"]
    handle: str  # attribute handle, "category" or "vendor"
    key: str
    name: str
    confidence: float
    exact: bool  # the store's own name (not a synonym or a derived form)


@dataclass
class _Compiled:
    matcher: PhraseMatcher[_Entry]
    fuzzy: dict[str, list[tuple[str, _Entry]]]  # deletion key -> (word, entry)
    known_words: frozenset[str]
    sizes: dict[str, tuple[str, str, str]]  # lowercase form -> (handle, key, name)
    attr_handles: frozenset[str]  # vocab handles the taxonomy knows
    category_cache: OrderedDict[str, _Entry | None] = field(default_factory=OrderedDict)


_KNOWN_WORDS: dict[int, frozenset[str]] = {}


def _known_words(taxonomy: Any) -> frozenset[str]:
    """Every normalized word of the taxonomy's category and value names (never "corrected")."""
    if taxonomy is None:
        return frozenset()
    cached = _KNOWN_WORDS.get(id(taxonomy))
    if cached is None:
        words: set[str] = set()
        for cat in taxonomy.categories.values():
            words.update(t for t, _s, _e in tokenize(cat.name))
        for val in taxonomy.values.values():
            words.update(t for t, _s, _e in tokenize(val.name))
        cached = frozenset(words)
        _KNOWN_WORDS.clear()  # one taxonomy per process in practice; never grow
        _KNOWN_WORDS[id(taxonomy)] = cached
    return cached


def _compiled(vocab: StoreVocabulary, taxonomy: Any) -> _Compiled:
    cache = vocab._compiled
    key = id(taxonomy)
    comp = cache.get(key)
    if comp is None:
        comp = _compile(vocab, taxonomy)
        cache.clear()
        cache[key] = comp
    return comp


def _name_parts(name: str) -> list[str]:
    """ "Luggage & Bags" -> ["luggage", "bag"]; "Hoodies & Sweatshirts" -> ["hoody", "sweatshirt"]."""
    if not re.search(r"[&,/]| and ", name):
        return []
    parts = re.split(r"\s*(?:&|,|/|\band\b)\s*", name)
    return [p for p in (normalize_phrase(x) for x in parts) if p]


def _compile(vocab: StoreVocabulary, taxonomy: Any) -> _Compiled:
    phrases: list[tuple[str, _Entry]] = []
    sizes: dict[str, tuple[str, str, str]] = {}

    def add(phrase: str, entry: _Entry) -> None:
        if phrase and phrase not in _WEAK_VALUES and phrase not in _STOPWORDS and phrase not in _NEG_WORDS:
            phrases.append((phrase, entry))

    for handle, values in vocab.attributes.items():
        size_like = handle in _SIZE_HANDLES or handle.endswith("-size")
        for key, name in values.items():
            if size_like:
                for form in _size_forms(key, name):
                    sizes.setdefault(form, (handle, key, name))
                continue
            norm = normalize_phrase(name)
            if len(norm) < 2 or norm.replace(" ", "").isdigit():
                continue
            multi = " " in norm
            add(norm, _Entry("attr", handle, key, name, CONF_NAME_MULTI if multi else CONF_NAME, True))
            slug = normalize_phrase(key.split("__", 1)[-1].replace("-", " "))
            if slug != norm:
                add(slug, _Entry("attr", handle, key, name, CONF_NAME_PART, False))
            if not multi and norm.endswith("ed") and len(norm) >= 6:  # "hooded" also for "hood"
                add(norm[:-2], _Entry("attr", handle, key, name, CONF_NAME_PART, False))
    for alias, handle, key, name in value_aliases(vocab):
        add(normalize_phrase(alias), _Entry("attr", handle, key, name, CONF_NAME_PART, False))
    for alias, cid, name in kind_aliases(vocab):
        add(normalize_phrase(alias), _Entry("category", "category", cid, name, CONF_NAME_PART, False))
    for cid, name in vocab.categories.items():
        norm = normalize_phrase(name)
        add(
            norm,
            _Entry("category", "category", cid, name, CONF_NAME_MULTI if " " in norm else CONF_NAME, True),
        )
        for part in _name_parts(name):
            add(part, _Entry("category", "category", cid, name, CONF_NAME_PART, False))
    for mname, cid in vocab.merchant_categories.items():
        cname = vocab.categories.get(cid)
        if cname is None:
            continue
        last = re.split(r"\s*(?:>|/)\s*", mname)[-1]
        for form in {normalize_phrase(last), *_name_parts(last)}:
            add(form, _Entry("category", "category", cid, cname, CONF_NAME_PART, False))
    if taxonomy is not None:
        single_values = {normalize_phrase(n) for vals in vocab.attributes.values() for n in vals.values()}
        for word in (*_CATEGORY_WORDS, *sorted(w for w in single_values if " " not in w)):
            entry = _search_category(vocab, taxonomy, word)
            if entry is not None:
                add(normalize_phrase(word), entry)
    for vendor in vocab.vendors:
        norm = normalize_phrase(vendor)
        if len(norm) >= 3:
            add(norm, _Entry("vendor", "vendor", vendor, vendor, CONF_NAME, True))

    matcher: PhraseMatcher[_Entry] = PhraseMatcher(phrases)
    known = _known_words(taxonomy)
    fuzzy: dict[str, list[tuple[str, _Entry]]] = {}
    for phrase, entry in phrases:
        # The store's own names, and category words (a part of "Coats & Jackets", a shopper word for a kind
        # such as "hoodie"): a misspelt noun is most often a product type ("jackt" -> Jackets).
        if " " in phrase or len(phrase) < 5 or not (entry.exact or entry.kind == "category"):
            continue
        for k in _deletions(phrase):
            fuzzy.setdefault(k, []).append((phrase, entry))
    attr_handles = frozenset()
    if taxonomy is not None:
        attr_handles = frozenset(h for h in vocab.attributes if h in taxonomy.attributes)
    return _Compiled(matcher=matcher, fuzzy=fuzzy, known_words=known, sizes=sizes, attr_handles=attr_handles)


def _size_forms(key: str, name: str) -> set[str]:
    """Lowercase forms a size is written in: "Medium (M)" -> {"medium (m)", "medium", "m"}."""
    low = name.lower().strip()
    forms = {low, key.split("__", 1)[-1].lower()}
    m = re.match(r"^(.*?)\s*\(([^()]+)\)\s*$", low)
    if m:
        forms.update({m.group(1).strip(), m.group(2).strip()})
    forms.update(_SIZE_WORDS[f] for f in list(forms) if f in _SIZE_WORDS)
    return {f for f in forms if f}


def _deletions(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1 :] for i in range(len(word))}


def _search_category(vocab: StoreVocabulary, taxonomy: Any, phrase: str) -> _Entry | None:
    """The store's category that the taxonomy's category search puts first for `phrase`, if strong."""
    for match in taxonomy.search_categories(phrase, 20):
        if match.score < CATEGORY_SEARCH_MIN_SCORE:
            return None
        if match.category_id in vocab.categories:
            return _Entry(
                "category",
                "category",
                match.category_id,
                vocab.categories[match.category_id],
                CONF_CATEGORY_SEARCH,
                False,
            )
    return None


# ------------------------------------------------------------------------------------------ parsing


@dataclass
class _Cand:
    entries: list[_Entry]
    start: int
    end: int
    first: int  # token indices
    ntok: int
    confidence: float
    negated: bool = False
    neg_start: int | None = None


@dataclass
class _State:
    text: str
    low: str
    consumed: bytearray = field(default_factory=bytearray)  # 1 per character taken by a filter or sort
    filters: list[tuple[int, AppliedFilter]] = field(default_factory=list)  # (position, filter)
    sort: Sort | None = None
    sort_strong: bool = False

    def __post_init__(self) -> None:
        self.consumed = bytearray(len(self.text))

    def take(self, start: int, end: int) -> None:
        self.consumed[start:end] = b"\x01" * (end - start)
        self.low = self.low[:start] + " " * (end - start) + self.low[end:]

    def free(self, start: int, end: int) -> bool:
        return self.consumed.find(1, start, end) == -1


def cut_query(text: str, limit: int = MAX_QUERY_CHARS) -> str:
    """At most `limit` characters, cut at a word boundary where one is near, never inside a word."""
    text = text or ""
    if len(text) <= limit:
        return text
    head = text[:limit]
    space = head.rfind(" ")
    return head[:space] if space >= limit // 2 else head


def _lower(text: str) -> str:
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def parse_query(text: str, vocab: StoreVocabulary, taxonomy: Any = None) -> ParsedQuery:
    """Split a shopper's query into filters (from the taxonomy, restricted to what the store holds), a sort
    and the words left for retrieval. Never raises on odd input: anything unrecognized stays text."""
    text = cut_query(text)
    if not text.strip():
        return ParsedQuery(text="", filters=[], sort=None)
    comp = _compiled(vocab, taxonomy)
    st = _State(text=text, low=_lower(text))
    _parse_price(st)
    _parse_sort(st)
    _parse_size(st, comp, vocab)
    phrasing = read_phrasing(st.low, vocab, st.free)
    for start, end in phrasing.spans:
        st.take(start, end)
    for cid, name, span in phrasing.categories:
        st.filters.append((span[0], category_filter(cid, name, span=span, confidence=CONF_NAME_PART)))
    _parse_terms(st, comp, vocab, taxonomy)
    st.filters.sort(key=lambda pf: pf[0])
    filters: list[AppliedFilter] = []
    seen: set[str] = set()
    for _pos, f in st.filters:
        if f.id not in seen:
            seen.add(f.id)
            filters.append(f)
    text = drop_filler(" ".join([_residual(st), *phrasing.words]))
    return ParsedQuery(text=text, filters=filters, sort=st.sort)


def _num(raw: str, k: str | None) -> float:
    value = float(raw.replace(",", ""))
    return value * 1000 if k else value


def _parse_price(st: _State) -> None:
    for kind, pattern in _PRICE_PATTERNS:
        for m in list(pattern.finditer(st.low)):
            if not st.free(m.start(), m.end()):
                continue
            g = m.groups()
            conf = CONF_PRICE
            if kind == "between":
                a, b = _num(g[0], g[1]), _num(g[2], g[3])
                gte, lte = min(a, b), max(a, b)
            elif kind == "span":
                if not (g[0] or g[3] or g[6]):  # "20-40" alone is not a price; "$20-40", "20-40 dollars" is
                    continue
                a, b = _num(g[1], g[2]), _num(g[4], g[5])
                gte, lte = min(a, b), max(a, b)
            elif kind == "around":
                v = _num(g[0], g[1])
                gte, lte = round(v * 0.8, 2), round(v * 1.2, 2)
            elif kind in ("lte", "lte_suffix"):
                gte, lte = None, _num(g[0], g[1])
            elif kind in ("gte", "gte_suffix"):
                gte, lte = _num(g[0], g[1]), None
            else:  # bare
                raw, k = (g[0], g[1]) if g[0] is not None else (g[2], g[3])
                gte, lte, conf = None, _num(raw, k), CONF_PRICE_BARE
            start, end = m.start(), m.end()
            while end > start and st.low[end - 1].isspace():
                end -= 1
            st.take(start, end)
            st.filters.append((start, price_filter(gte, lte, span=(start, end), confidence=conf)))


def _parse_sort(st: _State) -> None:
    for pattern, sort, strong in _SORT_PATTERNS:
        for m in list(pattern.finditer(st.low)):
            st.take(m.start(), m.end())
            if st.sort is None or (strong and not st.sort_strong):
                st.sort, st.sort_strong = sort, strong
    if st.sort is not None and not st.sort_strong and any(f.field == "price" for _p, f in st.filters):
        st.sort = None  # "cheap ... under $40": the bound says it


def _parse_size(st: _State, comp: _Compiled, vocab: StoreVocabulary) -> None:
    if not comp.sizes:
        return

    def emit(form: str, start: int, end: int, conf: float) -> bool:
        hit = comp.sizes.get(form)
        if hit is None:
            return False
        handle, key, name = hit
        st.take(start, end)
        st.filters.append(
            (
                start,
                attribute_filter(
                    handle,
                    key,
                    name,
                    attribute_name=vocab.attribute_name(handle),
                    span=(start, end),
                    confidence=conf,
                ),
            )
        )
        return True

    for m in list(_SIZE_AFTER_WORD.finditer(st.low)):
        if not st.free(m.start(), m.end()) or not emit(m.group(1), m.start(), m.end(), CONF_SIZE):
            continue
        pos = m.end()
        while (more := _SIZE_MORE.match(st.low, pos)) is not None:
            if not emit(more.group(1), more.start(1), more.end(1), CONF_SIZE):
                break
            pos = more.end()
    for m in list(_SIZE_BARE.finditer(st.low)):
        form = m.group(1)
        if not st.free(m.start(), m.end()) or _UNIT_AFTER.match(st.low, m.end()):
            continue
        if len(form) == 1:
            if form.isdigit() or st.text[m.start()] != form.upper():
                continue  # a lone "m" or "3" is a word or a count; "M" written as a capital is a size
            conf = CONF_SIZE_BARE
        elif form[0].isdigit():
            conf = CONF_SIZE_BARE
        else:
            conf = CONF_SIZE_LETTERS
        emit(
            _SIZE_WORDS.get(form.replace(" ", "-").replace("extra-", "extra "), form),
            m.start(),
            m.end(),
            conf,
        )


def _parse_terms(st: _State, comp: _Compiled, vocab: StoreVocabulary, taxonomy: Any) -> None:
    toks = tokenize(st.low)
    if not toks:
        return
    norms = [t[0] for t in toks]
    start_tok = {s: i for i, (_n, s, _e) in enumerate(toks)}
    end_tok = {e: i for i, (_n, _s, e) in enumerate(toks)}
    cands: list[_Cand] = []
    for first, ntok, entries in comp.matcher.raw_hits(norms):
        best = max(e.confidence for e in entries)
        cands.append(_Cand(list(entries), toks[first][1], toks[first + ntok - 1][2], first, ntok, best))
    if taxonomy is not None and comp.attr_handles:
        for fv in taxonomy.find_values(st.low, comp.attr_handles):
            key = fv.value_handle
            if not vocab.has_value(fv.attribute_handle, key):
                continue
            first, last = start_tok.get(fv.start), end_tok.get(fv.end)
            if first is None or last is None:
                continue
            conf = round(fv.confidence * CONF_TAXONOMY_FACTOR, 4)
            name = vocab.value_name(fv.attribute_handle, key)
            entry = _Entry("attr", fv.attribute_handle, key, name, conf, False)
            cands.append(_Cand([entry], fv.start, fv.end, first, last - first + 1, conf))
    covered = {i for c in cands for i in range(c.first, c.first + c.ntok)}
    cands.extend(_corrected_phrases(comp, toks, st.text, covered))
    chosen = _select(cands)
    taken = {i for c in chosen for i in range(c.first, c.first + c.ntok)}
    # Misspellings and category words the store's names do not spell out, on the words still free.
    for i, (norm, s, e) in enumerate(toks):
        if i in taken or norm in _STOPWORDS or norm in _NEG_WORDS:
            continue
        cand = _fuzzy(comp, norm, st.text[s:e], i, s, e)
        if cand is None and taxonomy is not None:
            cand = _category_word(comp, vocab, taxonomy, norm, i, s, e)
        if cand is not None:
            chosen.append(cand)
            taken.add(i)
    chosen.sort(key=lambda c: c.first)
    _bind_negations(chosen, norms, toks)
    chosen.extend(_head_kinds(chosen, cands))
    for c in chosen:
        f = _to_applied(c, vocab)
        if f is None:
            continue
        st.take(c.neg_start if c.negated and c.neg_start is not None else c.start, c.end)
        st.filters.append((c.start, f))


def _head_kinds(chosen: list[_Cand], cands: list[_Cand]) -> list[_Cand]:
    """The category that a type-like value of several words ends in: the style "Track Pants" is a kind
    of Pants, so "track pants" also filters on the store's Pants (the style alone only ranks, and the
    "Compete Track Tote" came second). English puts the kind last; a negated value adds nothing."""
    kinds = {c.first: c for c in cands if c.ntok == 1 and any(e.kind == "category" for e in c.entries)}
    out = []
    for c in chosen:
        if c.negated or c.ntok < 2 or not all(e.kind == "attr" and e.handle in _TYPE_LIKE_HANDLES
                                               for e in c.entries):
            continue
        head = kinds.get(c.first + c.ntok - 1)
        if head is not None:
            entries = [e for e in head.entries if e.kind == "category"]
            out.append(_Cand(entries, head.start, head.end, head.first, 1, head.confidence))
    return out


def _select(cands: list[_Cand]) -> list[_Cand]:
    """Longest first; on equal words a category beats an attribute beats a vendor, then the store's own
    name, then confidence. Candidates on the same words are merged (all their entries kept)."""
    kind_rank = {"category": 0, "attr": 1, "vendor": 2}
    by_span: dict[tuple[int, int], _Cand] = {}
    for c in cands:
        have = by_span.get((c.first, c.ntok))
        if have is None:
            by_span[(c.first, c.ntok)] = _Cand(list(c.entries), c.start, c.end, c.first, c.ntok, c.confidence)
        else:
            have.entries.extend(c.entries)
            have.confidence = max(have.confidence, c.confidence)

    def rank(c: _Cand) -> tuple[Any, ...]:
        best = min(kind_rank[e.kind] for e in c.entries)
        return (-c.ntok, best, c.first)

    taken: set[int] = set()
    out = []
    for c in sorted(by_span.values(), key=rank):
        span = range(c.first, c.first + c.ntok)
        if any(i in taken for i in span):
            continue
        taken.update(span)
        out.append(c)
    return out


def _fuzzy(comp: _Compiled, norm: str, raw: str, i: int, s: int, e: int) -> _Cand | None:
    hits = _fuzzy_hits(comp, norm, raw)
    if len(hits) != 1:
        return None  # nothing, or ambiguous ("shoes" -> shorts or shirts?): leave the word alone
    entries = next(iter(hits.values()))
    # A misspelt noun is far likelier a product type than an attribute value ("shrots" -> Shorts).
    entries = [x for x in entries if x.kind == "category"] or entries
    conf = round(max(x.confidence for x in entries) * CONF_FUZZY_FACTOR, 4)
    fixed = [_Entry(x.kind, x.handle, x.key, x.name, conf, False) for x in entries]
    return _Cand(fixed, s, e, i, 1, conf)


def _corrected_phrases(comp: _Compiled, toks: list[tuple[str, int, int]], raw_text: str,
                       covered: set[int]) -> list[_Cand]:
    """Phrases of several words that a misspelt word completes once corrected: "yoga pnats" reads as
    "yoga pants" (the Leggings a shopper means), not as Pants plus the word "yoga". Only words no name
    covers, corrected as `_fuzzy` would (one store name one edit away)."""
    fixed: dict[int, str] = {}
    for i, (norm, s, e) in enumerate(toks):
        if i in covered or norm in _STOPWORDS or norm in _NEG_WORDS:
            continue
        hits = _fuzzy_hits(comp, norm, raw_text[s:e])
        if len(hits) == 1:
            fixed[i] = next(iter(hits))
    if not fixed:
        return []
    corrected = [fixed.get(i, t[0]) for i, t in enumerate(toks)]
    out = []
    for first, ntok, entries in comp.matcher.raw_hits(corrected):
        if ntok < 2 or not any(first <= i < first + ntok for i in fixed):
            continue
        conf = round(max(x.confidence for x in entries) * CONF_FUZZY_FACTOR, 4)
        found = [_Entry(x.kind, x.handle, x.key, x.name, conf, False) for x in entries]
        out.append(_Cand(found, toks[first][1], toks[first + ntok - 1][2], first, ntok, conf))
    return out


def _fuzzy_hits(comp: _Compiled, norm: str, raw: str) -> dict[str, list[_Entry]]:
    """Store names (the matcher's normalized phrases) one edit from a word that is no known word."""
    low = raw.lower()
    if len(raw) < 5 or not raw.isalpha() or norm in comp.known_words or low in comp.known_words:
        return {}
    hits: dict[str, list[_Entry]] = {}
    # The word as typed first: names that stay plural ("shorts", "leggings") are indexed as written, and
    # the singular of a misspelling ("shrots" -> "shrot") is two edits from them (and one from "short").
    for form in dict.fromkeys((low, norm)):
        for k in _deletions(form):
            for word, entry in comp.fuzzy.get(k, ()):
                if word != form and _within_one_edit(form, word):
                    bucket = hits.setdefault(word, [])
                    if entry not in bucket:
                        bucket.append(entry)
        if hits:
            break
    return hits


def _within_one_edit(a: str, b: str) -> bool:
    """Levenshtein distance <= 1, or one swap of adjacent letters."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _category_word(
    comp: _Compiled, vocab: StoreVocabulary, taxonomy: Any, norm: str, i: int, s: int, e: int
) -> _Cand | None:
    cache = comp.category_cache
    if norm in cache:
        entry = cache[norm]
        cache.move_to_end(norm)
    else:
        entry = _search_category(vocab, taxonomy, norm) if len(norm) >= 3 and not norm.isdigit() else None
        cache[norm] = entry
        if len(cache) > 4096:
            cache.popitem(last=False)
    if entry is None:
        return None
    return _Cand([entry], s, e, i, 1, entry.confidence)


def _bind_negations(chosen: list[_Cand], norms: list[str], toks: list[tuple[str, int, int]]) -> None:
    """Negate a candidate right after "not"/"no"/"without"/... (filler words allowed between), and one
    joined by "or"/"and"/"nor" to a negated candidate."""
    by_end = {c.first + c.ntok - 1: c for c in chosen}
    for c in chosen:
        j = c.first - 1
        while j >= 0 and norms[j] in _NEG_FILLER and j not in by_end:
            j -= 1
        if j < 0:
            continue
        if norms[j] in _NEG_WORDS:
            c.negated, c.neg_start = True, toks[j][1]
        elif j >= 1 and (norms[j - 1], norms[j]) in _NEG_BIGRAMS:
            c.negated, c.neg_start = True, toks[j - 1][1]
        elif norms[j] in _LIST_JOINERS and (prev := by_end.get(j - 1)) is not None and prev.negated:
            c.negated, c.neg_start = True, toks[j][1]


def _to_applied(c: _Cand, vocab: StoreVocabulary) -> AppliedFilter | None:
    kinds = {e.kind for e in c.entries}
    kind = "category" if "category" in kinds else ("attr" if "attr" in kinds else "vendor")
    # A word that is only part of a category name ("yoga" of "Yoga & Pilates") but a whole attribute
    # value of the store ("Yoga") means the value: "yoga pants" are pants, not yoga equipment. Style
    # values name product types ("Tee", "Tank"), so there the category still wins.
    if kind == "category" and not any(e.exact for e in c.entries if e.kind == "category") and any(
        e.exact and e.handle not in _TYPE_LIKE_HANDLES for e in c.entries if e.kind == "attr"
    ):
        kind = "attr"
    entries = [e for e in c.entries if e.kind == kind]
    span = (c.neg_start if c.negated and c.neg_start is not None else c.start, c.end)
    if kind == "category":
        entry = _pick_category(entries)
        return category_filter(
            entry.key, entry.name, negated=c.negated, span=span, confidence=entry.confidence
        )
    if kind == "vendor":
        e = entries[0]
        return AppliedFilter(
            field="vendor",
            op="eq",
            values=[e.key],
            negated=c.negated,
            label=f"Not {e.name}" if c.negated else f"Brand: {e.name}",
            span=span,
            confidence=e.confidence,
        )
    best = min(
        entries,
        key=lambda e: (not e.exact, -e.confidence, _HANDLE_PRIORITY.get(e.handle, 99), e.handle, e.key),
    )
    return attribute_filter(
        best.handle,
        best.key,
        best.name,
        attribute_name=vocab.attribute_name(best.handle),
        negated=c.negated,
        span=span,
        confidence=best.confidence,
    )


_T = TypeVar("_T")


def pick_category(candidates: Sequence[_T], key: Callable[[_T], Any],
                  category_id: Callable[[_T], str] = str) -> _T:
    """Among categories named by the same words: an ancestor covers its descendants, then the least by
    `key` (which ends with the shallower category). `category_id` reads a candidate's taxonomy id."""
    ids = {category_id(c) for c in candidates}
    top = [c for c in candidates if not any(category_id(c).startswith(o + "-") for o in ids)]
    return min(top, key=key)


def _pick_category(entries: list[_Entry]) -> _Entry:
    """The store's own name first, then confidence, then the shallower category."""
    return pick_category(entries, key=lambda e: (not e.exact, -e.confidence, e.key.count("-"), e.key),
                         category_id=lambda e: e.key)


# ------------------------------------------------------------------------------------------ residual text


def _residual(st: _State) -> str:
    words = [m.group() for m in _WORD_RE.finditer(st.text) if st.free(m.start(), m.end())]
    if not words:
        return ""
    lows = [normalize_token(w) if "'" not in w else w.lower() for w in words]
    plain = [w.lower().replace("\u2019", "'") for w in words]
    keep = [True] * len(words)
    for phrase in _STOP_PHRASES:
        n = len(phrase)
        for i in range(len(words) - n + 1):
            if tuple(plain[i : i + n]) == phrase:
                for j in range(i, i + n):
                    keep[j] = False
    for i, w in enumerate(plain):
        if w in _STOPWORDS or lows[i] in _STOPWORDS:
            keep[i] = False
    return " ".join(w for w, k in zip(words, keep, strict=True) if k)
