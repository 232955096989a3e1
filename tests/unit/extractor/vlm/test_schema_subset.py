"""Every schema the code can send keeps to the documented JSON Schema subset (`extractor.vlm.schema_subset`).

The real-server check of the same schemas is tests/model_server; this one needs no server and covers every
category of the taxonomy in a second."""

from __future__ import annotations

import copy

from jsonschema import Draft202012Validator

from extractor.vlm.schema_subset import MAX_VALUES_PER_ATTRIBUTE, for_decoding, outside_subset
from tests.sent_schemas import every_schema


def test_every_schema_the_code_sends_is_in_the_subset(tax):
    schemas = every_schema(tax)
    assert len(schemas) > 2000  # every distinct attribute set of the taxonomy, not a sample
    problems = {label: where for label, schema in schemas if (where := outside_subset(schema))}
    assert problems == {}
    for _label, schema in schemas[:10]:
        Draft202012Validator.check_schema(schema)


def test_for_decoding_bounds_lists_instead_of_unique_items(tax):
    original = tax.json_schema("aa-1-13-13")
    before = copy.deepcopy(original)
    rewritten = for_decoding(original)
    assert original == before  # the taxonomy's cached schema is not touched
    Draft202012Validator.check_schema(rewritten)
    color = rewritten["properties"]["color"]
    assert "uniqueItems" not in color and color["maxItems"] == MAX_VALUES_PER_ATTRIBUTE
    assert color["items"] == original["properties"]["color"]["items"]
    small = {"type": "array", "items": {"type": "string", "enum": ["A", "B"]}, "uniqueItems": True}
    assert for_decoding(small) == {"type": "array", "items": {"type": "string", "enum": ["A", "B"]}, "maxItems": 2}


def test_outside_subset_names_what_servers_mishandle():
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "string", "enum": []}, "uniqueItems": True},
            "b": {"type": "string", "format": "color"},
        },
        "patternProperties": {"^x": {"type": "string"}},
    }
    assert sorted(outside_subset(schema)) == [
        "#/patternProperties", "#/properties/a/items/enum (empty)", "#/properties/a/uniqueItems",
        "#/properties/b/format",
    ]
