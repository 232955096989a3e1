"""Pure functions that turn a model's answer into taxonomy terms.

A model answer is untrusted text: it may not be JSON, may be wrapped in prose or code fences, may name a
category or values that the taxonomy does not have, or attributes that the category does not use.
Structural problems raise :class:`MalformedAnswer` (the caller retries); content outside the taxonomy is
dropped and counted (retrying would rarely help and would double the latency).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Safety
from extractor.vlm.prompts import MAX_CLEAN_DESCRIPTION, SAFETY_REASONS
from taxonomy import CategoryMatch, Taxonomy, TaxonomyError

# Confidences: a constrained pick from the shortlist is the model's real decision; anything it got
# wrong and we repaired is worth less. Guided decoding gives no calibrated probability to use instead.
CONF_PICKED = 0.85
CONF_BY_NAME = 0.75
CONF_OFF_SHORTLIST = 0.6
CONF_FALLBACK = 0.2
CONF_ALTERNATIVE_MAX = 0.5
CONF_VALUE_EXACT = 0.8
MIN_VALUE_MATCH = 0.5  # below this a fuzzy taxonomy match is a guess, and we would rather drop it
MAX_ALTERNATIVES = 4

_FENCE_RE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL | re.IGNORECASE)


class MalformedAnswer(ValueError):
    """The answer is not the JSON object asked for; the message says why (it is shown to the model)."""


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in `text`. Tolerates code fences and prose around it, which unconstrained servers
    produce, but not a truncated or otherwise invalid object."""
    if not isinstance(text, str) or not text.strip():
        raise MalformedAnswer("empty answer")
    body = text.strip()
    fenced = _FENCE_RE.match(body)
    if fenced:
        body = fenced.group(1)
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        start, end = body.find("{"), body.rfind("}")
        if start < 0 or end <= start:
            raise MalformedAnswer("answer is not JSON") from None
        try:
            value = json.loads(body[start : end + 1])
        except json.JSONDecodeError as exc:
            raise MalformedAnswer(f"answer is not valid JSON: {exc.msg} at char {exc.pos}") from None
    if not isinstance(value, dict):
        raise MalformedAnswer(f"answer is a JSON {type(value).__name__}, not an object")
    return value


# ---------------------------------------------------------------- stage 1: category


@dataclass(slots=True)
class CategoryResult:
    category: CategoryGuess
    alternatives: list[CategoryGuess]
    dropped: int = 0  # 1 when the model named something outside the taxonomy / shortlist we could not use
    how: Literal["picked", "by_name", "off_shortlist", "fallback"] = "picked"


def _guess(tax: Taxonomy, category_id: str, confidence: float) -> CategoryGuess:
    cat = tax.category(category_id)
    return CategoryGuess(id=cat.id, name=cat.name, full_name=cat.full_name, confidence=round(confidence, 4))


def _alternatives(tax: Taxonomy, candidates: Sequence[CategoryMatch], chosen: str) -> list[CategoryGuess]:
    top = max((c.score for c in candidates), default=0.0) or 1.0
    out = []
    for c in candidates:
        if c.category_id == chosen:
            continue
        confidence = min(CONF_ALTERNATIVE_MAX, CONF_ALTERNATIVE_MAX * c.score / top)
        out.append(_guess(tax, c.category_id, confidence))
        if len(out) >= MAX_ALTERNATIVES:
            break
    return out


def fallback_category(tax: Taxonomy, candidates: Sequence[CategoryMatch]) -> CategoryResult:
    """The top shortlist candidate with low confidence: used when the model's answer is unusable."""
    if not candidates:
        raise ValueError("no category candidates to fall back on")
    top = candidates[0].category_id
    return CategoryResult(_guess(tax, top, CONF_FALLBACK), _alternatives(tax, candidates, top), 0, "fallback")


def map_category(tax: Taxonomy, answer: dict[str, Any],
                 candidates: Sequence[CategoryMatch]) -> CategoryResult:
    """Map `{"category_id": ...}` onto the taxonomy.

    In the shortlist: taken. A real taxonomy id off the shortlist (a server that ignored the enum): taken
    with less confidence. A category name instead of an id: resolved against the shortlist. Anything else:
    the top candidate with low confidence, and the answer counts as one dropped value.
    """
    if "category_id" not in answer:
        raise MalformedAnswer('answer has no "category_id"')
    raw = answer["category_id"]
    if not isinstance(raw, str):
        raise MalformedAnswer('"category_id" is not a string')
    key = raw.strip()
    ids = {c.category_id for c in candidates}
    if key in ids:
        return CategoryResult(_guess(tax, key, CONF_PICKED), _alternatives(tax, candidates, key))
    try:
        cat = tax.category(key)  # also accepts a gid
    except TaxonomyError:
        cat = None
    if cat is not None:
        how = "picked" if cat.id in ids else "off_shortlist"
        conf = CONF_PICKED if cat.id in ids else CONF_OFF_SHORTLIST
        return CategoryResult(_guess(tax, cat.id, conf), _alternatives(tax, candidates, cat.id), 0, how)
    folded = key.casefold()
    for c in candidates:
        if folded in (c.name.casefold(), c.full_name.casefold()):
            return CategoryResult(_guess(tax, c.category_id, CONF_BY_NAME),
                                  _alternatives(tax, candidates, c.category_id), 0, "by_name")
    result = fallback_category(tax, candidates)
    result.dropped = 1
    return result


# ---------------------------------------------------------------- stage 2: attributes


@dataclass(slots=True)
class AttributesResult:
    attributes: list[ExtractedAttribute]
    description: str
    safety: Safety
    dropped: int = 0
    dropped_detail: list[str] = field(default_factory=list)  # "attribute: value", for logs and debugging


def _value_strings(raw: Any) -> tuple[list[str], int]:
    """A list of non-empty strings from an attribute's answer, and how many items were not strings."""
    if raw is None:
        return [], 0
    if isinstance(raw, str):  # a lone string where the schema asks for a list: a common slip
        raw = [raw]
    if not isinstance(raw, list):
        return [], 1
    strings = [s.strip() for s in raw if isinstance(s, str) and s.strip()]
    return strings, sum(1 for s in raw if not isinstance(s, str))


def resolve_value(tax: Taxonomy, attribute_handle: str, text: str) -> tuple[str, int, str, float] | None:
    """(value handle, id, name, confidence) of the attribute's value that `text` names, or None.

    Exact names first, case-insensitively (what a constrained answer always is), then the taxonomy's own
    matcher for synonyms and phrases ("dark navy" -> Navy) from servers that did not enforce the enum.
    """
    folded = text.casefold()
    for vh in tax.attribute(attribute_handle).value_handles:
        value = tax.values[vh]
        if value.name.casefold() == folded:
            return value.handle, value.id, value.name, CONF_VALUE_EXACT
    matches = tax.match_value(attribute_handle, text)
    if matches and matches[0].confidence >= MIN_VALUE_MATCH:
        m = matches[0]
        return m.value_handle, m.value_id, m.name, round(CONF_VALUE_EXACT * m.confidence, 4)
    return None


def clean_description(raw: Any) -> str:
    if not isinstance(raw, str):
        return ""
    text = " ".join(raw.split())
    if len(text) > MAX_CLEAN_DESCRIPTION:  # cut at a word boundary: a schema maxLength is not always enforced
        text = text[:MAX_CLEAN_DESCRIPTION].rsplit(" ", 1)[0]
    return text


def map_safety(raw: Any) -> tuple[Safety, int]:
    reasons: list[str] = []
    dropped = 0
    values, bad = _value_strings(raw)
    for v in values:
        reason = v.casefold()
        if reason in SAFETY_REASONS:
            if reason not in reasons:
                reasons.append(reason)
        else:
            dropped += 1
    return Safety(flagged=bool(reasons), reasons=reasons), dropped + bad


def map_attributes(tax: Taxonomy, category_id: str, answer: dict[str, Any], *,
                   source: Literal["image", "text"]) -> AttributesResult:
    """Map `{"description", "attributes": {handle: [value name, ...]}, "unsafe"}` onto the category.

    Attributes the category does not use, and values the attribute does not have, are dropped and counted.
    Raises MalformedAnswer only when `attributes` is not an object at all.
    """
    raw_attrs = answer.get("attributes")
    if raw_attrs is None:
        # Unconstrained servers sometimes flatten the object; accept handles at the top level.
        raw_attrs = {k: v for k, v in answer.items() if k not in ("description", "unsafe")}
    if not isinstance(raw_attrs, dict):
        raise MalformedAnswer('"attributes" is not an object')
    category = tax.category(category_id)
    allowed = set(category.attribute_handles)
    dropped = 0
    detail: list[str] = []
    by_handle: dict[str, ExtractedAttribute] = {}
    for key, raw_values in raw_attrs.items():
        values, bad = _value_strings(raw_values)
        dropped += bad
        try:
            handle = tax.attribute(str(key)).handle  # handle, friendly id or gid
        except TaxonomyError:
            handle = None
        if handle is None or handle not in allowed:
            dropped += len(values)
            detail += [f"{key}: {v} (attribute not in category)" for v in values]
            continue
        attr = tax.attribute(handle)
        extracted = by_handle.get(handle) or ExtractedAttribute(handle=handle, name=attr.name, values=[])
        seen = {v.value for v in extracted.values}
        for text in values:
            hit = resolve_value(tax, handle, text)
            if hit is None:
                dropped += 1
                detail.append(f"{handle}: {text} (not a taxonomy value)")
                continue
            vh, vid, name, conf = hit
            if vh in seen:
                continue
            seen.add(vh)
            extracted.values.append(ExtractedValue(value=vh, value_id=vid, name=name, confidence=conf,
                                                   source=source))
        if extracted.values:
            by_handle[handle] = extracted
    # Category order, so equal answers give equal extractions whatever order the model wrote keys in.
    attributes = [by_handle[h] for h in category.attribute_handles if h in by_handle]
    safety, safety_dropped = map_safety(answer.get("unsafe"))
    return AttributesResult(attributes, clean_description(answer.get("description")), safety,
                            dropped + safety_dropped, detail)
