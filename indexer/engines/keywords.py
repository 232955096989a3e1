"""How documents and filter terms become exact keyword values, shared by every engine adapter.

Every engine stores the same keyword values under the same logical keys, so one neutral filter
means the same thing everywhere (and a congruence test can compare ids):
  - "category": every id of `category_path` (root first), so a term on one id matches its subtree
    and facet counts roll up the tree;
  - "attrs": "<handle>=<value>" strings, one multi-valued key for all attributes (one payload
    index in Qdrant, one field in tantivy instead of a schema field per attribute handle);
  - "flagged": "true" / "false" strings. qdrant-edge-py 0.9 turns a Python bool in `MatchValue`
    into the integer 1/0, which never matches a stored bool, so booleans are keywords everywhere.
"""

from __future__ import annotations

from indexer.documents import IndexDocument
from indexer.filters import ATTR_PREFIX, FilterError, check_field

# Neutral filter field -> logical keyword key (attr.<handle> all map onto "attrs").
FIELD_KEYS = {"product_id": "product_id", "vendor": "vendor", "product_type": "product_type",
              "tags": "tags", "category": "category", "flagged": "flagged"}
ATTRS_KEY = "attrs"


def attr_key(handle: str, value: str) -> str:
    return f"{handle}={value}"


def bool_key(value: bool) -> str:
    return "true" if value else "false"


def keyword_values(doc: IndexDocument) -> dict[str, list[str]]:
    """The exact keyword values a document holds, per logical key (lists deduplicated, order kept)."""
    return {
        "store": [doc.store],
        "product_id": [doc.product_id],
        "vendor": [doc.vendor],
        "product_type": [doc.product_type],
        "tags": list(dict.fromkeys(doc.tags)),
        "category": list(dict.fromkeys(doc.category_path)),
        "attrs": list(dict.fromkeys(attr_key(a.handle, a.value) for a in doc.attributes)),
        "flagged": [bool_key(doc.flagged)],
    }


def term(field: str, value: str | bool) -> tuple[str, str]:
    """(logical key, encoded value) for an Eq/In term on a neutral filter field.

    A bool is only meaningful on "flagged" and a string never is there: the reference evaluator
    would silently match nothing, so we reject the mix instead of answering an empty page.
    """
    check_field(field)
    if field == "flagged":
        if not isinstance(value, bool):
            raise FilterError(f"'flagged' takes true/false, not {value!r}")
        return "flagged", bool_key(value)
    if isinstance(value, bool):
        raise FilterError(f"{field!r} takes strings, not a boolean")
    if field.startswith(ATTR_PREFIX):
        return ATTRS_KEY, attr_key(field[len(ATTR_PREFIX):], value)
    return FIELD_KEYS[field], value


def facet_key(field: str) -> tuple[str, str]:
    """(logical key, value prefix to strip) for a facet over a neutral field."""
    check_field(field)
    if field.startswith(ATTR_PREFIX):
        return ATTRS_KEY, attr_key(field[len(ATTR_PREFIX):], "")
    return FIELD_KEYS[field], ""
