"""Follow-up turns refine the search the session holds instead of starting over.

Rules, in order:
  - "start over" / "new search" / "something else", or a turn that names a different category AND has its
    own substantial free text, starts fresh: only this turn's filters, text and sort.
  - "remove the price limit", "any color", "no size filter" drop the filters of that field.
  - A new positive value on a field that already has one replaces it ("actually in blue" after "black
    hoodie"), unless the turn says it adds ("also red", "or red", "red too"). A new category replaces the
    category. A new price bound replaces the bound on the same side (a lower bound keeps an upper one).
  - A negated value removes the same positive value, and a positive one the same negation.
  - The retrieval text carries over, plus whatever new words the turn adds; the sort carries over unless
    the turn sets one.
Filters carried over from earlier turns get source "session" (and no span: it indexed an older text).
"""

from __future__ import annotations

import re

from indexer.engines.types import Sort
from search_api.query.models import AppliedFilter, ParsedQuery

_RESET = re.compile(
    r"\b(?:start over|new search|start again|something else|forget (?:it|that|everything)|"
    r"reset)\b",
    re.I,
)
_ADD = re.compile(r"(?:^\s*(?:or|and)\b|\b(?:also|as well|too|plus|either)\b)", re.I)
# "remove the price limit", "any color", "no size filter", "drop the brand", "forget the color"
_DROP = re.compile(
    r"\b(?:remove|drop|clear|forget|ignore|without|no|any|whatever)\s+(?:the\s+|a\s+|that\s+)?"
    r"(price|prices|budget|colou?rs?|sizes?|genders?|materials?|fabrics?|brands?|vendors?|categor(?:y|ies)|"
    r"types?|patterns?|styles?|activit(?:y|ies))"
    r"(?:\s+(?:limit|filter|range|restriction|cap|constraint)s?)?\b",
    re.I,
)
_DROP_FIELDS = {
    "price": ("price",),
    "budget": ("price",),
    "color": ("attr.color",),
    "colour": ("attr.color",),
    "size": ("attr.size",),
    "gender": ("attr.target-gender", "attr.gender"),
    "material": ("attr.material", "attr.fabric"),
    "fabric": ("attr.fabric", "attr.material"),
    "brand": ("vendor",),
    "vendor": ("vendor",),
    "category": ("category",),
    "categorie": ("category",),
    "type": ("category",),
    "pattern": ("attr.pattern",),
    "style": ("attr.style",),
    "activity": ("attr.activity",),
    "activitie": ("attr.activity",),
}
# Conversational words that refine rather than describe products; never retrieval text.
_CUE_WORDS = frozenset({
    "actually", "instead", "rather", "now", "only", "just", "also", "too", "show", "make", "it", "how",
    "about", "what", "maybe", "but", "then", "ok", "okay", "please", "one", "ones", "those", "these",
    "them", "that", "same", "thing", "either", "plus", "well", "as", "or", "and", "prefer", "remove",
    "drop", "clear", "forget", "ignore", "limit", "filter", "let's", "lets", "try", "see", "i", "want",
    "like", "would", "in",
})  # fmt: skip
_FREE_TEXT_MIN_WORDS = 2


def _dropped_fields(raw_text: str) -> set[str]:
    out: set[str] = set()
    for m in _DROP.finditer(raw_text or ""):
        word = m.group(1).lower()
        word = word[:-1] if word.endswith("s") and word[:-1] in _DROP_FIELDS else word
        out.update(_DROP_FIELDS.get(word, ()))
    return out


def _strip_control_words(text: str, raw_text: str) -> str:
    """Drop the words that steered the conversation ("start over", "any color") from the retrieval text."""
    text = _RESET.sub(" ", _DROP.sub(" ", text))
    steering = {w.lower() for m in _DROP.finditer(raw_text) for w in m.group(0).split()}
    steering |= {w.lower() for m in _RESET.finditer(raw_text) for w in m.group(0).split()}
    return " ".join(w for w in text.split() if w.lower() not in steering)


def _content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[^\W_]+(?:'[^\W_]+)?", text) if w.lower() not in _CUE_WORDS]


def _merge_text(previous: str, new: str) -> str:
    words = previous.split()
    have = {w.lower() for w in words}
    for w in new.split():
        if w.lower() not in have:
            words.append(w)
            have.add(w.lower())
    return " ".join(words)


def merge_turn(
    previous: list[AppliedFilter],
    parsed: ParsedQuery,
    raw_text: str,
    *,
    previous_text: str = "",
    previous_sort: Sort | None = None,
) -> tuple[list[AppliedFilter], str, Sort | None]:
    """Combine the session's filters with this turn's parse; returns (filters, retrieval text, sort)."""
    raw_text = raw_text or ""
    new_text = " ".join(_content_words(_strip_control_words(parsed.text, raw_text)))
    new_categories = {v for f in parsed.filters if f.field == "category" and not f.negated for v in f.values}
    old_categories = {v for f in previous if f.field == "category" and not f.negated for v in f.values}
    fresh = bool(_RESET.search(raw_text)) or (
        bool(new_categories)
        and new_categories != old_categories
        and len(new_text.split()) >= _FREE_TEXT_MIN_WORDS
    )
    if fresh or not previous and not previous_text:
        return list(parsed.filters), new_text, parsed.sort

    adding = bool(_ADD.search(raw_text))
    dropped = _dropped_fields(raw_text)
    kept = [f.with_source("session") for f in previous if f.field not in dropped]
    for new in parsed.filters:
        if new.field == "price" and not new.negated:
            kept = [old for old in kept if not _same_price_side(old, new)]
        elif new.negated:
            kept = [
                old
                for old in kept
                if not (old.field == new.field and not old.negated and set(old.values) & set(new.values))
            ]
        else:
            kept = [
                old
                for old in kept
                if not (
                    old.field == new.field
                    and (
                        (old.negated and set(old.values) & set(new.values))
                        or (not old.negated and (not adding or new.field == "category"))
                    )
                )
            ]
    merged: list[AppliedFilter] = []
    seen: set[str] = set()
    for f in [*kept, *parsed.filters]:
        if f.id not in seen:
            seen.add(f.id)
            merged.append(f)
    text = _merge_text(previous_text, new_text)
    sort = parsed.sort if parsed.sort is not None else previous_sort
    return merged, text, sort


def _same_price_side(old: AppliedFilter, new: AppliedFilter) -> bool:
    if old.field != "price" or old.negated:
        return False
    if new.gte is not None and new.lte is not None:
        return True  # a full range replaces every bound
    if old.gte is not None and old.lte is not None:
        return True  # a new one-sided bound replaces an old range
    if (new.lte is not None and old.lte is not None) or (new.gte is not None and old.gte is not None):
        return True
    low = new.gte if new.gte is not None else old.gte
    high = new.lte if new.lte is not None else old.lte
    return low is not None and high is not None and low > high  # "over 100" after "under 40": replace
