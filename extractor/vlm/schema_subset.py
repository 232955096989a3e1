"""The JSON Schema subset that every schema sent to a model server keeps to, and the one rewrite it needs.

Guided decoding turns a `response_format` schema into a grammar, and each server does it with its own
engine: llama.cpp with llguidance (`catalog model-server`, the default here) or with its GBNF converter
(llama.cpp started with `--jinja`), vLLM with xgrammar, outlines or llguidance, LMDeploy with its own
guided-decoding backends. What one engine rejects another may accept or silently ignore, so the code
relies only on keywords all of them compile:

- annotations: `$schema`, `$id`, `title`, `description` (ignored by the grammar);
- structure: `type` (a name or a list of names, for nullable fields), `properties`, `required`,
  `additionalProperties: false`, `items`, `enum` (never empty; strings, plus `null` for nullable fields);
- bounds: `maxItems`, `minLength`, `maxLength`, `minimum`.

Everything else is kept out, because a real server mishandles it:

- `uniqueItems`: llguidance cannot compile it, and llama.cpp then decodes *without any constraint* (the
  request still succeeds); xgrammar and outlines ignore it. The taxonomy's schema says it (a value is
  listed once), so :func:`for_decoding` swaps it for a `maxItems` bound and `extractor.vlm.mapping`
  removes duplicates instead.
- an empty `enum`: llama.cpp's GBNF path answers HTTP 400, llguidance decodes unconstrained.
- `format`, `pattern`, `patternProperties`, `oneOf`/`anyOf`/`allOf`, `$ref`, `const`, `minItems`: unused;
  support differs between engines (llguidance rejects unknown formats, GBNF has no `patternProperties`).

Large enums are not refused: llguidance compiles the largest schema the code sends (the query schema of
the whole taxonomy as one store, 270 KB with its ~10,600 category names) in a few hundred milliseconds and
took an enum of 20,000 strings. llama.cpp's GBNF path compiles them too, but every token decoded inside an
enum's strings costs several times more there, which is why `catalog model-server` does not use it by
default. tests/model_server checks every schema the code can send against the real server;
benchmarks/bench_model_server.py measures compile and decode times. Not run here (no GPU): vLLM and
LMDeploy; the subset keeps to keywords their engines document.
"""

from __future__ import annotations

from typing import Any

# Keywords the code may send (see the module docstring); `outside_subset` reports any other.
KEYWORDS = frozenset({
    "$schema", "$id", "title", "description",
    "type", "properties", "required", "additionalProperties", "items", "enum",
    "maxItems", "minLength", "maxLength", "minimum",
})
# At most this many values per attribute in an answer: without `uniqueItems` nothing else stops a model
# that repeats itself ("Red", "Blue", "Red", ...) before max_tokens; a product rarely has more.
MAX_VALUES_PER_ATTRIBUTE = 8


def for_decoding(schema: Any) -> Any:
    """`schema` rewritten into the subset: every `uniqueItems` array of enum values becomes one bounded by
    `maxItems` (at most MAX_VALUES_PER_ATTRIBUTE, never more than the enum has). Pure; returns a copy."""
    if isinstance(schema, list):
        return [for_decoding(v) for v in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: for_decoding(v) for k, v in schema.items() if k != "uniqueItems"}
    if schema.get("uniqueItems") and schema.get("type") == "array" and "maxItems" not in schema:
        choices = len((schema.get("items") or {}).get("enum") or ()) or MAX_VALUES_PER_ATTRIBUTE
        out["maxItems"] = min(choices, MAX_VALUES_PER_ATTRIBUTE)
    return out


def outside_subset(schema: Any, path: str = "#") -> list[str]:
    """Where `schema` uses a keyword outside the subset, or an empty enum: JSON-pointer-like paths."""
    problems: list[str] = []
    if isinstance(schema, list):
        for i, v in enumerate(schema):
            problems += outside_subset(v, f"{path}/{i}")
        return problems
    if not isinstance(schema, dict):
        return problems
    for key, value in schema.items():
        where = f"{path}/{key}"
        if key not in KEYWORDS:
            problems.append(where)
        elif key == "properties":
            for name, sub in value.items():
                problems += outside_subset(sub, f"{where}/{name}")
        elif key == "items":
            problems += outside_subset(value, where)
        elif key == "enum" and not value:
            problems.append(f"{where} (empty)")
    return problems
