"""Every distinct JSON schema the code can send to a model server, labelled, for the subset check
(tests/unit/extractor/vlm/test_schema_subset.py) and the real-server check (tests/model_server,
benchmarks/bench_model_server.py), with the helpers that check them against a llama.cpp server.

- stage 2 of the extraction: one per distinct attribute set of a category (the grammar depends on nothing
  else: titles and descriptions are annotations), 2,362 in the shipped taxonomy;
- stage 1: the category pick over the verticals (the shortlist of an image-only listing, the largest) and
  over a real text shortlist;
- the LLM query parser: a store with no attributes (its `maxItems: 0` list) and the largest store there can
  be, the whole taxonomy as one store (every category name and every value in the enums).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from extractor.models import ProductInput
from extractor.vlm import prompts
from extractor.vlm.driver import TwoStageDriver
from extractor.vlm.openai_client import response_format
from search_api.query.llm_schema import query_schema
from search_api.query.vocabulary import StoreVocabulary
from taxonomy import Taxonomy

Labelled = list[tuple[str, dict[str, Any]]]
# Unconstrained, the model goes on with the listing's text; under any object schema its first token is "{".
PROBE = "Title: Yoga mat\nDescription:"
MAX_BUNDLE_BYTES = 400_000  # llguidance refuses grammars of a few MB: bundles stay well below


def attribute_schemas(tax: Taxonomy) -> Labelled:
    first_of: dict[tuple[str, ...], str] = {}
    for category in tax.categories.values():
        first_of.setdefault(tuple(category.attribute_handles), category.id)
    return [(f"attributes of {cid}", prompts.attributes_schema(tax.json_schema(cid))) for cid in first_of.values()]


def category_schemas(tax: Taxonomy) -> Labelled:
    driver = TwoStageDriver(lambda *_: "", name="schemas", version="0", taxonomy=tax)
    verticals = driver.shortlist(ProductInput())  # no text: every root category
    shortlist = driver.shortlist(ProductInput(title="Men's black cotton hoodie"))
    return [("category of verticals", prompts.category_schema(verticals)),
            ("category of a text shortlist", prompts.category_schema(shortlist))]


def whole_taxonomy_vocabulary(tax: Taxonomy) -> StoreVocabulary:
    return StoreVocabulary(
        attributes={a.handle: {vh: tax.values[vh].name for vh in a.value_handles} for a in tax.attributes.values()},
        categories={c.id: c.name for c in tax.categories.values()},
    )


def query_schemas(tax: Taxonomy) -> Labelled:
    return [("query of a store without attributes", query_schema(StoreVocabulary())),
            ("query of the whole taxonomy as one store", query_schema(whole_taxonomy_vocabulary(tax)))]


def every_schema(tax: Taxonomy) -> Labelled:
    return [*category_schemas(tax), *query_schemas(tax), *attribute_schemas(tax)]


# ------------------------------------------------------------------ checking them against a real server


def first_token(url: str, schema: dict[str, Any] | None) -> str:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": PROBE}], "max_tokens": 1, "temperature": 0}
    if schema is not None:
        body["response_format"] = response_format(schema, "probe")
    resp = httpx.post(url + "/chat/completions", json=body, timeout=120)
    resp.raise_for_status()
    return resp.json()["choices"][0]["message"]["content"]


def bundle(labelled: Labelled) -> dict[str, Any]:
    """Several schemas as the properties of one object: one request compiles them all."""
    inner = {f"s{i}": {k: v for k, v in schema.items() if k not in ("$schema", "$id")}
             for i, (_label, schema) in enumerate(labelled)}
    return {"type": "object", "properties": inner, "required": list(inner), "additionalProperties": False}


def rejected(url: str, labelled: Labelled) -> list[str]:
    """The labels of the schemas the server does not compile. llama.cpp answers a schema llguidance rejects
    without any constraint (HTTP 200), so "compiled" means the first token is forced to open the object;
    a bundle that fails is split until the culprits are single schemas."""
    if first_token(url, bundle(labelled)).startswith("{"):
        return []
    if len(labelled) == 1:
        return [labelled[0][0]]
    half = len(labelled) // 2
    return rejected(url, labelled[:half]) + rejected(url, labelled[half:])


def bundles(labelled: Labelled) -> list[Labelled]:
    """`labelled` cut into groups of at most MAX_BUNDLE_BYTES of schema (a bigger schema goes alone)."""
    out: list[Labelled] = [[]]
    size = 0
    for item in labelled:
        n = len(json.dumps(item[1]))
        if out[-1] and size + n > MAX_BUNDLE_BYTES:
            out.append([])
            size = 0
        out[-1].append(item)
        size += n
    return out
