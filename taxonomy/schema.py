"""JSON Schema for the attribute values of one taxonomy category."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taxonomy.models import TaxonomyError

if TYPE_CHECKING:
    from taxonomy.core import Taxonomy

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def json_schema(tax: Taxonomy, category_id: str) -> dict[str, Any]:
    """Schema of an object whose keys are the category's attribute handles and whose values are arrays of
    that attribute's value names (several may apply: a two-tone shirt is Black and White).

    Pure: the result depends only on the taxonomy and the id. ``Taxonomy.json_schema`` caches it.
    """
    cat = tax.category(category_id)
    properties: dict[str, Any] = {}
    for handle in cat.attribute_handles:
        attr = tax.attributes.get(handle)
        if attr is None:  # pragma: no cover - the build script resolves every link
            raise TaxonomyError(f"category {category_id!r} names unknown attribute {handle!r}", handle)
        names = list(dict.fromkeys(tax.values[v].name for v in attr.value_handles))
        properties[handle] = {
            "title": attr.name,
            "description": attr.description,
            "type": "array",
            "items": {"type": "string", "enum": names},
            "uniqueItems": True,
        }
    return {
        "$schema": DRAFT,
        "$id": f"{cat.gid}/attributes",
        "title": f"{cat.full_name} attributes",
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
