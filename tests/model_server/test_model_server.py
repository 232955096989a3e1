"""The `openai` extractor backend and the LLM query parser against a real llama.cpp server (the packaged
Gemma 3 270M, a base model): the wire path, constrained decoding and the handling of bad answers.

A base 270M model answers badly, so nothing here asserts what it extracts, only what must hold whatever it
answers: every answer opens a JSON object (the grammar is on), every complete answer validates against the
schema that was sent, a truncated or unusable one is retried and then dropped as the backend specifies, and
what ends up in an extraction or a parse is taxonomy or store vocabulary. Token budgets are small to keep
the set near a minute or two on two cores; benchmarks/bench_model_server.py measures with larger ones.
"""

from __future__ import annotations

import importlib.util
import io
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from extractor.models import ProductInput
from extractor.vlm import mapping
from extractor.vlm.openai_backend import OpenAIExtractor
from extractor.vlm.openai_client import OpenAIChatClient
from search_api.query.llm_parse import LLMQueryParser
from search_api.query.llm_schema import SCHEMA_NAME
from tests.sent_schemas import bundles, every_schema, first_token, rejected

pytestmark = pytest.mark.model_server

def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (120, 60, 160)).save(buf, format="JPEG")
    return buf.getvalue()


PRODUCTS = [
    ProductInput(product_id="hoodie", title="Men's black cotton hoodie",
                 description="A warm pullover hoodie in black cotton with a kangaroo pocket."),
    ProductInput(product_id="bottle", title="Stainless steel water bottle 750 ml",
                 description="Insulated bottle that keeps drinks cold for 24 hours."),
    # With a photo, which this text-only model cannot take (llama.cpp answers HTTP 500 to an image): the
    # backend sees that in /v1/models and sends the listing text alone.
    ProductInput(product_id="mat", title="Yoga mat", description="Non-slip purple yoga mat, 6 mm thick.",
                 images=[jpeg()]),
]
QUERIES = ["black hoodie for men under $60", "running shorts not cotton"]


class Recorder:
    """Wraps a `complete(messages, schema, name)` and keeps every (name, schema, raw answer)."""

    def __init__(self, complete) -> None:
        self.inner = complete
        self.calls: list[tuple[str, dict[str, Any], str]] = []
        self.messages: list[list[dict[str, Any]]] = []

    def __call__(self, messages, schema, name):
        self.messages.append(messages)
        raw = self.inner(messages, schema, name)
        self.calls.append((name, schema, raw))
        return raw


def assert_constrained(calls: list[tuple[str, dict[str, Any], str]]) -> int:
    """Every answer is the grammar's: it opens an object, and if it is complete JSON it validates against the
    schema sent (otherwise max_tokens cut it short). Returns how many were complete."""
    complete = 0
    for name, schema, raw in calls:
        assert raw.startswith("{"), (name, raw[:200])
        try:
            answer = json.loads(raw)
        except json.JSONDecodeError:
            continue
        Draft202012Validator(schema).validate(answer)
        complete += 1
    return complete


def extractor(url: str, tax, *, max_tokens: int) -> tuple[OpenAIExtractor, Recorder]:
    ex = OpenAIExtractor(url, None, timeout_s=180, max_retries=1, concurrency=1, max_tokens=max_tokens,
                         taxonomy=tax)
    recorder = Recorder(ex.driver.complete)
    ex.driver.complete = recorder
    return ex, recorder


# ------------------------------------------------------------------------------------------ the server


def test_serves_the_packaged_model_over_the_openai_routes(model_server):
    models = httpx.get(model_server + "/models", timeout=30).json()
    assert [m["id"] for m in models["data"]] == ["gemma-3-270m-q4_k_m"]
    assert httpx.get(model_server.removesuffix("/v1") + "/health", timeout=30).status_code == 200


def test_every_schema_the_code_sends_is_compiled_by_the_server(model_server, tax):
    assert not first_token(model_server, None).startswith("{")  # the probe: free text opens no object
    # The detector sees a rejection: the taxonomy's own schema says uniqueItems, which llguidance refuses.
    own = [("the taxonomy's own schema", tax.json_schema("aa-1-13-13"))]
    assert rejected(model_server, own) == ["the taxonomy's own schema"]

    schemas = every_schema(tax)
    assert len(schemas) > 2000  # every distinct attribute set of the taxonomy, both stages, the query parser
    problems = [label for group in bundles(schemas) for label in rejected(model_server, group)]
    assert problems == []


# ------------------------------------------------------------------------------------------ extraction


def test_two_stage_extraction_through_the_real_server(model_server, tax):
    ex, recorder = extractor(model_server, tax, max_tokens=48)
    with ex:
        results = ex.extract(PRODUCTS)
    assert ex.model == "gemma-3-270m-q4_k_m"  # asked from /v1/models

    names = [name for name, _schema, _raw in recorder.calls]
    assert names.count("product_category") >= len(PRODUCTS) and names.count("product_attributes") >= len(PRODUCTS)
    assert assert_constrained(recorder.calls) >= 1  # at least one whole answer came back under its schema
    parts = [part for messages in recorder.messages for m in messages if isinstance(m["content"], list)
             for part in m["content"]]
    assert parts and all(part["type"] == "text" for part in parts)  # no image to a text-only model
    for product, result in zip(PRODUCTS, results, strict=True):
        shortlist = {c.category_id for c in ex.driver.shortlist(product)}
        assert result.category is not None and result.category.id in shortlist, product.title
        category = tax.category(result.category.id)
        for attribute in result.attributes:
            assert attribute.handle in category.attribute_handles
            assert {v.value for v in attribute.values} <= set(tax.attribute(attribute.handle).value_handles)
        for error in result.errors:  # bad answers were retried once, then dropped, not raised
            assert "unusable model answer after 2 attempts" in error, error
        assert result.timings_ms["total"] > 0


def test_answers_cut_short_are_retried_then_dropped(model_server, tax):
    # Eight tokens never hold a whole answer ({"category_id": "aa-1-13-13"} alone is longer): every
    # answer is invalid JSON, from the real server, whatever the model writes.
    product = PRODUCTS[0]
    ex, recorder = extractor(model_server, tax, max_tokens=8)
    with ex:
        [result] = ex.extract([product])
    assert [name for name, _s, _r in recorder.calls] == ["product_category"] * 2 + ["product_attributes"] * 2
    assert assert_constrained(recorder.calls) == 0
    top = ex.driver.shortlist(product)[0]
    assert result.category.id == top.category_id and result.category.confidence == mapping.CONF_FALLBACK
    assert result.attributes == [] and result.description == ""
    assert len(result.errors) == 2
    assert result.errors[0].startswith("category: unusable model answer after 2 attempts")
    assert result.errors[0].endswith("fell back to the text shortlist")
    assert result.errors[1].startswith("attributes: unusable model answer after 2 attempts")


# ------------------------------------------------------------------------------------------ query parser


def store_vocabulary():
    """The query tests' Luma-like store (tests/unit/search_api/query/vocab_fixture.py)."""
    path = Path(__file__).parents[1] / "unit" / "search_api" / "query" / "vocab_fixture.py"
    spec = importlib.util.spec_from_file_location("vocab_fixture", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.store_vocabulary()


def test_llm_query_parser_through_the_real_server(model_server, tax):
    vocab = store_vocabulary()
    client = OpenAIChatClient(model_server, None, timeout_s=180, max_retries=0, max_tokens=160)
    recorder = Recorder(client.complete)
    client.complete = recorder
    parser = LLMQueryParser(client)
    try:
        parsed = [parser.parse("demo", q, vocab, tax) for q in QUERIES]
    finally:
        parser.close()

    assert [name for name, _s, _r in recorder.calls] == [SCHEMA_NAME] * len(QUERIES)
    assert_constrained(recorder.calls)
    # Each query was read by the model or, for an answer cut short, by the rules; never a server failure.
    outcomes = {k: v for k, v in parser.stats.items() if k != "dropped"}
    assert sum(outcomes.values()) == len(QUERIES)
    assert set(outcomes) <= {"llm", "fallback_malformed", "fallback_empty"}, outcomes
    for query in parsed:
        for f in query.filters:
            if f.field == "category":
                assert set(f.values) <= set(vocab.categories)
            elif f.field.startswith("attr."):
                assert all(vocab.has_value(f.field.removeprefix("attr."), v) for v in f.values)
