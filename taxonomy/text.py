"""Pure text normalization shared by value matching, value finding and category search.

Both sides of every comparison (taxonomy names, synonyms, free text) go through the same functions, so the
rules only need to be consistent, not linguistically perfect: "hoodie" and "hoodies" must land on the same
key, and so must "men", "mens" and "men's".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters/digits runs, keeping an inner apostrophe so "men's" stays one token (then the possessive is
# stripped) instead of leaving a stray "s" token that would match the size "S".
_TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")

# Words that are plural in form but name a single item; stripping their "s" would merge them with an
# unrelated word ("shorts" -> "short" as in short sleeve, "glasses" -> "glass" the material).
_KEEP = frozenset(
    {
        "shorts", "pants", "jeans", "leggings", "tights", "trousers", "overalls", "briefs", "glasses",
        "sweatpants", "boxers", "pajamas", "pyjamas", "scissors", "goggles", "binoculars", "headphones",
        "earphones", "earbuds", "clothes", "news", "series", "species", "chess", "yes", "bus", "gas",
        "lens", "canvas", "always", "plus", "its", "this", "has", "was", "is", "us", "as",
    }
)  # fmt: skip

_IRREGULAR = {
    "men": "man", "mens": "man", "women": "woman", "womens": "woman", "children": "child",
    "childrens": "child", "kids": "kid", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "geese": "goose", "people": "person", "knives": "knife", "leaves": "leaf", "shelves": "shelf",
    "wolves": "wolf", "halves": "half", "scarves": "scarf", "wives": "wife", "lives": "life",
    "loaves": "loaf", "calves": "calf", "hooves": "hoof", "dice": "die", "ladies": "lady",
    "boys": "boy", "girls": "girl", "babies": "baby", "lenses": "lens",
}  # fmt: skip

# Suffix rules, first match wins. "ie" -> "y" pairs "hoodie"/"hoodies" (both become "hoody") and
# "berry"/"berries" alike.
_ES_SUFFIXES = ("ches", "shes", "sses", "xes", "zzes")


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=65536)
def normalize_token(token: str) -> str:
    """Lowercase, drop a possessive and reduce a plural to its singular key."""
    word = strip_accents(token.lower()).replace("\u2019", "'")
    if word.endswith("'s"):
        word = word[:-2]
    elif word.endswith("s'"):
        word = word[:-1]
    word = word.replace("'", "")
    if not word:
        return word
    irregular = _IRREGULAR.get(word)
    if irregular is not None:
        return irregular
    return _singular(word)


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.isalpha() or word in _KEEP:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("ie") and len(word) > 3:
        return word[:-2] + "y"
    if word.endswith(_ES_SUFFIXES):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "ous")):
        return word[:-1]
    return word


def tokenize(text: str) -> list[tuple[str, int, int]]:
    """(normalized token, start, end) for every word of ``text``; offsets index the original string."""
    out = []
    for m in _TOKEN_RE.finditer(text):
        norm = normalize_token(m.group())
        if norm:
            out.append((norm, m.start(), m.end()))
    return out


def normalize_tokens(text: str) -> list[str]:
    return [t for t in (normalize_token(m.group()) for m in _TOKEN_RE.finditer(text)) if t]


def normalize_phrase(text: str) -> str:
    """Canonical key of a phrase: normalized tokens joined by single spaces."""
    return " ".join(normalize_tokens(text))
