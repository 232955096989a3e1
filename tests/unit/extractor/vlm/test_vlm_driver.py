"""The shared two-stage driver, with a fake `complete` callable in place of a model."""

from __future__ import annotations

import json
import threading
import time

import pytest

from extractor.base import ExtractorUnavailable
from extractor.models import ProductInput
from extractor.vlm import mapping, prompts
from extractor.vlm.driver import CompletionError, TwoStageDriver
from extractor.vlm.schema_subset import for_decoding

HOODIE = "aa-1-13-13"
HOODIE_PRODUCT = ProductInput(product_id="p1", title="Black cotton hoodie for men",
                              description="A warm pullover hoodie.")


class FakeModel:
    """Answers by schema name from scripted lists (last answer repeats); records every call."""

    def __init__(self, **scripts: list[object]) -> None:
        self.scripts = {k: list(v) for k, v in scripts.items()}
        self.calls: list[tuple[list[dict], dict, str]] = []
        self.lock = threading.Lock()

    def __call__(self, messages, schema, name):
        with self.lock:
            self.calls.append((messages, schema, name))
            script = self.scripts.get(name) or [None]
            answer = script.pop(0) if len(script) > 1 else script[0]
        if isinstance(answer, BaseException):
            raise answer
        if callable(answer):
            return answer(messages, schema)
        if answer is None:  # a valid default from the schema
            props = schema["properties"]
            if "category_id" in props:
                return json.dumps({"category_id": props["category_id"]["enum"][0]})
            return json.dumps({"description": "", "attributes": {}, "unsafe": []})
        return answer if isinstance(answer, str) else json.dumps(answer)

    def names(self) -> list[str]:
        return [name for _m, _s, name in self.calls]


def attrs(**values: list[str]) -> dict:
    return {"description": "A hoodie.", "attributes": values, "unsafe": []}


def make(model: FakeModel, tax, **kw) -> TwoStageDriver:
    return TwoStageDriver(model, name="fake", version="9", taxonomy=tax, **kw)


def test_two_stages_category_then_that_categorys_schema(tax):
    model = FakeModel(product_category=[{"category_id": HOODIE}],
                      product_attributes=[attrs(color=["Black"], fabric=["Cotton"])])
    out = make(model, tax).extract_one(HOODIE_PRODUCT)
    assert model.names() == ["product_category", "product_attributes"]
    cat_schema = model.calls[0][1]
    assert HOODIE in cat_schema["properties"]["category_id"]["enum"]
    assert len(cat_schema["properties"]["category_id"]["enum"]) == 10
    attr_schema = model.calls[1][1]
    assert attr_schema["properties"]["attributes"]["properties"] == for_decoding(tax.json_schema(HOODIE))["properties"]
    assert out.category.id == HOODIE and out.errors == []
    assert {a.handle: [v.name for v in a.values] for a in out.attributes} == {"color": ["Black"],
                                                                             "fabric": ["Cotton"]}
    assert all(v.source == "text" for a in out.attributes for v in a.values)  # no image was sent
    assert out.extractor == "fake" and out.extractor_version == "9" and out.taxonomy_version == tax.version
    assert {"images", "category", "attributes", "total"} <= set(out.timings_ms)


def test_malformed_answer_is_retried_with_a_correction(tax):
    model = FakeModel(product_category=["not json at all", {"category_id": HOODIE}],
                      product_attributes=['{"description": "x", "attributes": {"color": ["Bla', attrs(color=["Black"])])
    out = make(model, tax, max_retries=2).extract_one(HOODIE_PRODUCT)
    assert model.names() == ["product_category"] * 2 + ["product_attributes"] * 2
    retry_messages = model.calls[1][0]
    assert retry_messages[-2] == {"role": "assistant", "content": "not json at all"}
    assert "not usable" in retry_messages[-1]["content"]
    assert out.errors == [] and out.category.confidence == mapping.CONF_PICKED
    assert [v.name for a in out.attributes for v in a.values] == ["Black"]


def test_malformed_answers_are_bounded_then_fall_back(tax):
    model = FakeModel(product_category=["nope"], product_attributes=["[]"])
    out = make(model, tax, max_retries=1).extract_one(HOODIE_PRODUCT)
    assert model.names() == ["product_category"] * 2 + ["product_attributes"] * 2
    assert out.category.id == HOODIE and out.category.confidence == mapping.CONF_FALLBACK
    assert out.attributes == []
    assert len(out.errors) == 2
    assert out.errors[0].startswith("category: unusable model answer after 2 attempts")
    assert out.errors[1].startswith("attributes: unusable model answer after 2 attempts")


def test_completion_failure_gives_partial_result_and_skips_stage_two(tax):
    model = FakeModel(product_category=[CompletionError("model server timed out after 1 s (3 attempts)")])
    out = make(model, tax).extract_one(HOODIE_PRODUCT)
    assert model.names() == ["product_category"]
    assert out.category.id == HOODIE and out.category.confidence == mapping.CONF_FALLBACK
    assert out.errors == ["category: model server timed out after 1 s (3 attempts)"]


def test_stage_two_failure_keeps_the_category(tax):
    model = FakeModel(product_attributes=[CompletionError("HTTP 500")])
    out = make(model, tax).extract_one(HOODIE_PRODUCT)
    assert out.category.id == HOODIE and out.category.confidence == mapping.CONF_PICKED
    assert out.errors == ["attributes: HTTP 500"]


def test_counts_unknown_category_and_values_together(tax):
    model = FakeModel(product_category=[{"category_id": "no-such-id"}],
                      product_attributes=[attrs(color=["Black", "Chartreuse-ish glitter"], shoe_size=["9"])])
    out = make(model, tax).extract_one(HOODIE_PRODUCT)
    assert out.category.id == HOODIE and out.category.confidence == mapping.CONF_FALLBACK
    assert out.dropped_values == 1 + 1 + 1
    assert out.errors == []


def test_unexpected_exception_is_isolated_to_its_product(tax):
    def explode(messages, schema):
        if "Broken" in messages[-1]["content"][0]["text"]:
            raise RuntimeError("boom")
        return json.dumps({"category_id": schema["properties"]["category_id"]["enum"][0]})

    model = FakeModel(product_category=[explode])
    products = [HOODIE_PRODUCT, ProductInput(product_id="p2", title="Broken hoodie"), HOODIE_PRODUCT]
    out = make(model, tax).extract_many(products, concurrency=3)
    assert [bool(o.errors) for o in out] == [False, True, False]
    assert out[1].errors == ["extraction failed: RuntimeError: boom"]


def test_unavailable_server_fails_the_whole_batch(tax):
    model = FakeModel(product_category=[ExtractorUnavailable("cannot connect")])
    with pytest.raises(ExtractorUnavailable, match="cannot connect"):
        make(model, tax).extract_many([HOODIE_PRODUCT] * 5, concurrency=2)


def test_nothing_to_extract_from_makes_no_call(tax):
    model = FakeModel()
    out = make(model, tax).extract_one(ProductInput(product_id="empty", images=[b"garbage"]))
    assert model.calls == []
    assert out.category is None
    assert out.errors == ["nothing to extract from: no title, no description and no usable image"]
    assert out.image_notes[0].issue == "unreadable" and out.image_notes[0].image == 0


def test_image_only_product_chooses_among_verticals(tax, make_jpeg):
    model = FakeModel(product_category=[{"category_id": "aa"}])
    out = make(model, tax).extract_one(ProductInput(images=[str(make_jpeg())]))
    roots = [c.id for c in tax.categories.values() if c.parent_id is None]
    assert model.calls[0][1]["properties"]["category_id"]["enum"] == roots
    assert out.category.id == "aa"
    content = model.calls[0][0][-1]["content"]
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"].startswith("data:image/jpeg;base64,")
    assert all(v.source == "image" for a in out.attributes for v in a.values)


def test_batch_keeps_order_and_bounds_concurrency(tax):
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def slow(messages, schema):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.02)
        with lock:
            state["now"] -= 1
        title = messages[-1]["content"][0]["text"].split("\n")[0]
        return json.dumps({"description": title, "attributes": {}, "unsafe": []})

    model = FakeModel(product_attributes=[slow])
    products = [ProductInput(product_id=str(i), title=f"hoodie number {i}") for i in range(8)]
    out = make(model, tax).extract_many(products, concurrency=3)
    assert [o.description for o in out] == [f"Title: hoodie number {i}" for i in range(8)]
    assert 1 < state["max"] <= 3


def test_prompts_share_one_builder():
    # Both backends send the system prompt and OpenAI-format content parts.
    msgs = prompts.attributes_messages(HOODIE_PRODUCT, "Hoodies", {"properties": {}}, [])
    assert msgs[0] == {"role": "system", "content": prompts.SYSTEM_PROMPT}
    assert msgs[1]["content"][0]["type"] == "text"
