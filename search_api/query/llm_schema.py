"""The LLM query parser's pure half: the JSON schema and prompt built from a store's vocabulary, and the
reading of the model's answer into the same `ParsedQuery` the rules parser returns.

The answer is untrusted, like the extractor's (`extractor.vlm.mapping`): it may not be JSON or not have the
schema's shape (:class:`MalformedAnswer`: the caller falls back to the rules), and it may name a category
or value the store does not hold (dropped and counted, the rest is kept). Names are mapped onto the store's
keys the way the rules map the shopper's words: the same normalization (`taxonomy.text`), the same
filter helpers, and for what no name matches, the rules parser's own reading of the phrase.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from extractor.vlm.driver import Messages
from extractor.vlm.mapping import MalformedAnswer, parse_json_object
from indexer.engines.types import Sort
from search_api.query.models import AppliedFilter, ParsedQuery, format_number
from search_api.query.parse import (
    MAX_QUERY_CHARS,
    attribute_filter,
    category_filter,
    parse_query,
    pick_category,
    price_filter,
)
from search_api.query.vocabulary import StoreVocabulary
from taxonomy.text import normalize_phrase, normalize_tokens, tokenize

SCHEMA_NAME = "shopper_query"
# Every filter the model names gets this confidence. Guided decoding gives no calibrated probability, so
# it is fixed: the extractor's for a constrained pick of an exact value (mapping.CONF_VALUE_EXACT), below
# the rules' reading of the store's own names (0.9-0.95), so relaxation gives a model's guess up first.
CONF_LLM = 0.8
MAX_ATTRIBUTES = 12
MAX_VALUE_CHARS = 80
MAX_PROMPT_VALUES = 30  # value names listed per attribute in the system message
SORTS: dict[str, Sort] = {
    "price_asc": Sort("price"),
    "price_desc": Sort("price", descending=True),
    "newest": Sort("created_at", descending=True),
}
_FIELDS = ("category", "attributes", "price_min", "price_max", "sort", "text")

_SYSTEM = """You read one shopper's search query for an online store and answer with JSON only.
- category: the store category the shopper asks for, or null.
- attributes: only properties the shopper states, each an attribute of the list below with the value as \
the store names it; negated is true for exclusions ("not cotton", "without a hood").
- price_min, price_max: only bounds the shopper states, as numbers; else null.
- sort: "price_asc" (cheapest first), "price_desc" (most expensive first), "newest", or null.
- text: the shopper's other words that describe the product; leave out filler and words used above.
Attributes and values of this store:
"""


@dataclass(frozen=True)
class StorePrompt:
    """What one store's vocabulary gives the LLM parser, built once per vocabulary (see `prepare`)."""

    vocab: StoreVocabulary
    schema: dict[str, Any]
    system: str
    validator: Draft202012Validator  # the schema's shape: types, required fields, lengths; no enums
    categories: Mapping[str, tuple[str, ...]]  # normalized name -> category ids of that name
    values: Mapping[str, Mapping[str, str]]  # handle -> normalized name/key/slug -> value key


@dataclass(frozen=True)
class Reading:
    """A validated answer: the parse, and what the answer named that the store does not hold."""

    parsed: ParsedQuery
    dropped: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ schema


def query_schema(vocab: StoreVocabulary) -> dict[str, Any]:
    """JSON schema (draft 2020-12) of the answer, with the store's categories and attributes as enums,
    so a server that decodes under the schema can only name what the store holds."""
    categories = sorted({name for name in vocab.categories.values() if name}, key=lambda n: (n.lower(), n))
    handles = sorted(vocab.attributes)
    attributes: dict[str, Any] = {"type": "array", "maxItems": 0}
    if handles:  # an empty enum is valid JSON schema but trips some guided decoders: no items at all
        attributes = {
            "type": "array",
            "maxItems": MAX_ATTRIBUTES,
            "items": {
                "type": "object",
                "properties": {
                    "attribute": {"type": "string", "enum": handles},
                    "value": {"type": "string", "minLength": 1, "maxLength": MAX_VALUE_CHARS},
                    "negated": {"type": "boolean"},
                },
                "required": ["attribute", "value", "negated"],
                "additionalProperties": False,
            },
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Shopper query",
        "type": "object",
        "properties": {
            "category": {"type": ["string", "null"], "enum": [*categories, None]},
            "attributes": attributes,
            "price_min": {"type": ["number", "null"], "minimum": 0},
            "price_max": {"type": ["number", "null"], "minimum": 0},
            "sort": {"type": ["string", "null"], "enum": [*SORTS, None]},
            "text": {"type": "string", "maxLength": MAX_QUERY_CHARS},
        },
        "required": list(_FIELDS),
        "additionalProperties": False,
    }


def without_enums(schema: Any) -> Any:
    """The schema less its `enum`s: the shape an answer must have to be read at all. Names outside the
    enums are checked against the vocabulary instead, so they are dropped one by one, not the answer."""
    if isinstance(schema, dict):
        return {k: without_enums(v) for k, v in schema.items() if k != "enum"}
    if isinstance(schema, list):
        return [without_enums(v) for v in schema]
    return schema


def system_prompt(vocab: StoreVocabulary) -> str:
    lines = []
    for handle, values in sorted(vocab.attributes.items()):
        names = list(dict.fromkeys(values.values()))[:MAX_PROMPT_VALUES]
        lines.append(f"{handle}: {', '.join(names)}")
    return _SYSTEM + ("\n".join(lines) if lines else "(none)")


def query_messages(prompt: StorePrompt, text: str) -> Messages:
    # The store's part is the constant prefix, so a server with prefix caching reuses it across queries.
    return [{"role": "system", "content": prompt.system}, {"role": "user", "content": text}]


def prepare(vocab: StoreVocabulary) -> StorePrompt:
    """Schema, system message, answer validator and name indexes of one store's vocabulary."""
    schema = query_schema(vocab)
    categories: dict[str, list[str]] = {}
    for cid, name in vocab.categories.items():
        if norm := normalize_phrase(name):
            categories.setdefault(norm, []).append(cid)
    values: dict[str, dict[str, str]] = {}
    for handle, named in vocab.attributes.items():
        forms: dict[str, str] = {}
        # Every display name before any key or slug: a slug equal to another value's name must not shadow it.
        for key, name in named.items():
            if norm := normalize_phrase(name):
                forms.setdefault(norm, key)
        for key in named:
            for form in (key, key.split("__", 1)[-1].replace("-", " ")):
                if norm := normalize_phrase(form):
                    forms.setdefault(norm, key)
        values[handle] = forms
    return StorePrompt(
        vocab=vocab,
        schema=schema,
        system=system_prompt(vocab),
        validator=Draft202012Validator(without_enums(schema)),
        categories={k: tuple(v) for k, v in categories.items()},
        values=values,
    )


# ------------------------------------------------------------------------------------------ answer


def answer_object(raw: str, prompt: StorePrompt) -> dict[str, Any]:
    """The answer's JSON object, of the schema's shape; raises MalformedAnswer otherwise."""
    answer = parse_json_object(raw)
    error = best_match(prompt.validator.iter_errors(answer))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "answer"
        raise MalformedAnswer(f"{where}: {error.message[:200]}")
    return answer


def read_answer(answer: Mapping[str, Any], text: str, prompt: StorePrompt, taxonomy: Any = None) -> Reading:
    """The parse an answer of the schema's shape describes, for the query `text` it answered.

    Each category and value must be the store's (else dropped and counted); a span is the query's words
    that name it, where they can be found (else None). Price bounds are kept only where the query has a
    number at all: a model may turn "cheap" into a bound the shopper never gave, where the rules sort.
    """
    vocab = prompt.vocab
    tokens = tokenize(text)
    filters: list[AppliedFilter] = []
    dropped: list[str] = []

    category = answer.get("category")
    if category is not None:
        cid = _category_id(category, prompt, taxonomy)
        if cid is None:
            dropped.append(f"category {category!r}")
        else:
            name = vocab.categories[cid]
            filters.append(category_filter(cid, name, span=find_span(tokens, (category, name)),
                                           confidence=CONF_LLM))
    for item in answer.get("attributes") or ():
        handle, value = item["attribute"], item["value"]
        key = _value_key(handle, value, prompt, taxonomy)
        if key is None:
            dropped.append(f"{handle}={value!r}")
            continue
        name, negated = vocab.value_name(handle, key), bool(item["negated"])
        span = find_span(tokens, (value, name))
        if span is not None and negated:
            span = _with_negation(text, span)
        filters.append(attribute_filter(handle, key, name, attribute_name=vocab.attribute_name(handle),
                                        negated=negated, span=span, confidence=CONF_LLM))
    price = _price(answer.get("price_min"), answer.get("price_max"), text, dropped)
    if price is not None:
        filters.append(price)
    sort = None
    if (wanted := answer.get("sort")) is not None:
        sort = SORTS.get(wanted)
        if sort is None:
            dropped.append(f"sort {wanted!r}")

    unique: list[AppliedFilter] = []
    for f in filters:
        if all(f.id != u.id for u in unique):
            unique.append(f)
    # Text order, as the rules give them; filters without a span after those with one.
    unique.sort(key=lambda f: (f.span is None, f.span[0] if f.span else 0))
    parsed = ParsedQuery(text=_retrieval_text(answer.get("text") or "", tokens), filters=unique, sort=sort)
    return Reading(parsed=parsed, dropped=dropped)


def find_span(tokens: list[tuple[str, int, int]], phrases: tuple[str, ...]) -> tuple[int, int] | None:
    """Where the first of `phrases` that the query spells out (normalized word for word: "Hoodies" finds
    "hoodie", "Male" does not find "men") starts and ends in the query."""
    norms = [t[0] for t in tokens]
    for phrase in phrases:
        want = normalize_tokens(phrase)
        n = len(want)
        if not n:
            continue
        for i in range(len(norms) - n + 1):
            if norms[i : i + n] == want:
                return tokens[i][1], tokens[i + n - 1][2]
    return None


# As the rules' spans of an exclusion: "not cotton", "without a hood", "non-wool".
_NEGATION_BEFORE = re.compile(r"\b(?:not|no|without|except|excluding|non|anything but)(?:\s+(?:a|an|any|the))?[\s-]+$",
                              re.IGNORECASE)


def _with_negation(text: str, span: tuple[int, int]) -> tuple[int, int]:
    m = _NEGATION_BEFORE.search(text, 0, span[0])
    return (m.start(), span[1]) if m else span


def _category_id(name: str, prompt: StorePrompt, taxonomy: Any) -> str | None:
    vocab = prompt.vocab
    if name in vocab.categories:  # an id, from a server that ignored the enum of names
        return name
    ids: tuple[str, ...] = prompt.categories.get(normalize_phrase(name), ())
    if not ids:
        mapped = vocab.merchant_categories.get(name)
        ids = (mapped,) if mapped in vocab.categories else ()
    if not ids:
        reading = _rules_reading(name, "category", vocab, taxonomy)
        ids = tuple(reading.values) if reading is not None else ()
    if not ids:
        return None
    # As the rules pick among categories of one name: an ancestor covers its descendants, then shallowest.
    return pick_category(ids, key=lambda c: (c.count("-"), c))


def _value_key(handle: str, value: str, prompt: StorePrompt, taxonomy: Any) -> str | None:
    vocab = prompt.vocab
    forms = prompt.values.get(handle)
    if forms is None:
        return None
    key = forms.get(normalize_phrase(value))
    if key is not None:
        return key
    # Synonyms and sizes as the rules read them: "grey" is Gray, "mens" Male; a lone size ("M", "32") is
    # read as one only after the word "size", as in a shopper's query.
    for phrase in (value, f"size {value}"):
        reading = _rules_reading(phrase, f"attr.{handle}", vocab, taxonomy)
        if reading is not None and vocab.has_value(handle, reading.values[0]):
            return reading.values[0]
    return None


def _rules_reading(phrase: str, field_name: str, vocab: StoreVocabulary, taxonomy: Any) -> AppliedFilter | None:
    for f in parse_query(phrase, vocab, taxonomy).filters:
        if f.field == field_name and f.values:
            return f
    return None


def _price(low: Any, high: Any, text: str, dropped: list[str]) -> AppliedFilter | None:
    # A zero lower bound is no bound: "under $50" read as 0-50 must be the rules' "price:lte:50".
    low = None if low is None or low <= 0 else float(low)
    high = None if high is None else float(high)
    bounds = [b for b in (low, high) if b is not None]
    if not bounds:
        return None
    if not any(c.isdigit() for c in text):
        dropped.append("price: the query names no number")
        return None
    if not all(math.isfinite(b) for b in bounds) or high == 0:
        dropped.append(f"price {low!r}-{high!r}")
        return None
    if low is not None and high is not None and low > high:
        low, high = high, low  # "between 40 and 20"
    spans = [s for b in bounds if (s := _number_span(text, b)) is not None]
    span = (min(s[0] for s in spans), max(s[1] for s in spans)) if spans else None
    return price_filter(low, high, span=span, confidence=CONF_LLM)


# A bound word right before a number belongs to the price's span, as in the rules' spans: the service
# takes price spans out of the vector query, and a lone "under" left there is noise.
_BOUND_WORD = (r"(?:\b(?:under|below|over|above|less than|more than|at most|at least|max(?:imum)?|"
               r"min(?:imum)?|up to|between|from|around|about)\s+)?")


def _number_span(text: str, value: float) -> tuple[int, int] | None:
    """Where `value` is written in the query: "60", "$60", "under 60.00", "1,000", "1k"."""
    forms = [format_number(value)]
    if value >= 1000 and value == int(value):
        forms += [f"{int(value):,}", f"{format_number(value / 1000)}k"]
    for form in forms:
        m = re.search(rf"{_BOUND_WORD}(?<![\w.,])(?:[$€£]\s?)?{re.escape(form)}(?:\.0{{1,2}})?(?!\.\d)(?!\w)",
                      text, re.IGNORECASE)
        if m:
            return m.start(), m.end()
    return None


def _retrieval_text(text: str, tokens: list[tuple[str, int, int]]) -> str:
    """The answer's retrieval words that are the shopper's: a model may add words ("sweater" for a
    hoodie) that would rank products the shopper did not ask for."""
    said = {t[0] for t in tokens}
    return " ".join(text[s:e] for norm, s, e in tokenize(text) if norm in said)
