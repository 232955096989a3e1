"""The openai backend end to end against a real HTTP server speaking the OpenAI wire format."""

from __future__ import annotations

import base64
import io
import json
import socket
import time

import pytest
from PIL import Image

from extractor.base import ExtractorUnavailable
from extractor.models import ProductInput
from extractor.vlm import mapping
from extractor.vlm.openai_backend import OpenAIExtractor, normalize_base_url
from extractor.vlm.openai_client import CompletionTimeout
from extractor.vlm.schema_subset import for_decoding
from tests.stubs.openai_stub import Reply

HOODIE = "aa-1-13-13"


def category(cid: str = HOODIE) -> Reply:
    return Reply(content=json.dumps({"category_id": cid}))


def attributes(description: str = "A black cotton hoodie.", unsafe: list[str] | None = None,
               **values: list[str]) -> Reply:
    return Reply(content=json.dumps({"description": description, "attributes": values,
                                     "unsafe": unsafe or []}))


def extractor(stub, **kw) -> OpenAIExtractor:
    kw.setdefault("backoff_s", 0.01)
    kw.setdefault("timeout_s", 5)
    return OpenAIExtractor(stub.url, kw.pop("model", stub.model), **kw)


@pytest.fixture
def hoodie(make_jpeg) -> ProductInput:
    return ProductInput(product_id="h1", title="Black cotton hoodie for men",
                        description="Warm pullover with kangaroo pocket.",
                        images=[str(make_jpeg("hoodie.jpg", size=(1600, 1200)))])


def test_valid_answers_and_what_the_server_received(stub, hoodie, tax):
    stub.on("product_category", category())
    stub.on("product_attributes", attributes(color=["Black"], fabric=["cotton"], **{"target-gender": ["Male"]}))
    with extractor(stub, max_image_side=512) as ex:
        [out] = ex.extract([hoodie])

    assert out.errors == [] and out.dropped_values == 0
    assert out.extractor == "openai" and out.extractor_version == "1"
    assert out.category.id == HOODIE and out.category.confidence == mapping.CONF_PICKED
    got = {a.handle: [v.value for v in a.values] for a in out.attributes}
    assert got == {"color": ["color__black"], "fabric": ["fabric__cotton"], "target-gender": ["target-gender__male"]}
    assert all(v.source == "image" for a in out.attributes for v in a.values)
    assert out.description == "A black cotton hoodie."

    first, second = stub.chat_requests
    for req in (first, second):
        assert req["model"] == stub.model
        assert req["temperature"] == 0
        assert req["response_format"]["type"] == "json_schema"
        user = req["messages"][-1]["content"]
        assert user[0]["type"] == "text"
        image_url = user[1]["image_url"]["url"]
        head, data = image_url.split(",", 1)
        assert head == "data:image/jpeg;base64"
        sent = Image.open(io.BytesIO(base64.b64decode(data)))
        assert sent.format == "JPEG" and max(sent.size) == 512  # downscaled before sending
    spec = first["response_format"]["json_schema"]
    assert spec["name"] == "product_category"
    assert HOODIE in spec["schema"]["properties"]["category_id"]["enum"]
    assert f"{HOODIE}: {tax.category(HOODIE).full_name}" in first["messages"][-1]["content"][0]["text"]
    spec = second["response_format"]["json_schema"]
    assert spec["name"] == "product_attributes"
    cat_schema = tax.json_schema(HOODIE)
    assert spec["schema"]["properties"]["attributes"]["properties"] == for_decoding(cat_schema)["properties"]
    assert spec["schema"]["properties"]["attributes"]["additionalProperties"] is False
    assert "description" in spec["schema"]["properties"]


def test_malformed_json_then_valid_is_retried(stub, hoodie):
    stub.on("product_category", Reply(content='{"category_id": "aa-1-'), category())
    stub.on("product_attributes", Reply(content="Sorry, I can't help with that."), attributes(color=["Black"]))
    with extractor(stub, max_retries=2) as ex:
        [out] = ex.extract([hoodie])
    assert out.errors == []
    assert out.category.id == HOODIE
    assert [v.name for a in out.attributes for v in a.values] == ["Black"]
    names = [r["response_format"]["json_schema"]["name"] for r in stub.chat_requests]
    assert names == ["product_category"] * 2 + ["product_attributes"] * 2
    retry = stub.chat_requests[1]["messages"]
    assert retry[-2]["role"] == "assistant" and retry[-2]["content"] == '{"category_id": "aa-1-'


def test_broken_envelope_is_retried_like_a_malformed_answer(stub, hoodie):
    stub.on("product_category", Reply(body={"choices": []}), Reply(raw=b"<html>oops</html>"), category())
    with extractor(stub, max_retries=2) as ex:
        [out] = ex.extract([hoodie])
    assert out.errors == [] and out.category.id == HOODIE


def test_out_of_taxonomy_values_are_dropped_and_counted(stub, hoodie):
    stub.on("product_category", category())
    stub.on("product_attributes", attributes(
        color=["Black", "Midnight Galaxy"], fabric=["Unobtainium"], **{"heel-height": ["High"], "vibe": ["cozy"]},
        unsafe=["weapons", "spooky"]))
    with extractor(stub) as ex:
        [out] = ex.extract([hoodie])
    assert [(a.handle, [v.name for v in a.values]) for a in out.attributes] == [("color", ["Black"])]
    assert out.dropped_values == 5
    assert out.safety.flagged and out.safety.reasons == ["weapons"]
    assert out.errors == []


def test_unknown_category_falls_back_to_top_shortlist_candidate(stub, hoodie, tax):
    stub.on("product_category", category("xx-404"))
    stub.on("product_attributes", attributes(color=["Black"]))
    with extractor(stub) as ex:
        [out] = ex.extract([hoodie])
    assert out.category.id == HOODIE
    assert out.category.confidence == mapping.CONF_FALLBACK
    assert out.dropped_values == 1
    # Stage 2 still ran, with the fallback category's schema.
    spec = stub.chat_requests[1]["response_format"]["json_schema"]["schema"]
    assert spec["properties"]["attributes"]["properties"] == for_decoding(tax.json_schema(HOODIE))["properties"]


def test_slow_server_times_out_bounded_and_reports(stub, hoodie):
    stub.on("product_category", Reply(content=json.dumps({"category_id": HOODIE}), delay=2.0))
    started = time.monotonic()
    # Raised (a TimeoutError: the task retries with backoff, then dead-letters), not stored as a fallback guess.
    with extractor(stub, timeout_s=0.2, max_retries=1) as ex, pytest.raises(CompletionTimeout) as raised:
        ex.extract([hoodie])
    elapsed = time.monotonic() - started
    assert isinstance(raised.value, TimeoutError)
    assert len(stub.chat_requests) == 2  # one try + one retry, and no stage 2 after a dead stage 1
    assert elapsed < 1.8  # bounded by the client timeout, not the server's delay
    assert str(raised.value) == "model server timed out after 0.2 s (2 attempts)"


def test_http_500_is_retried_then_succeeds(stub, hoodie):
    stub.on("product_category", Reply(status=500), Reply(status=503), category())
    with extractor(stub, max_retries=2) as ex:
        [out] = ex.extract([hoodie])
    assert out.errors == [] and out.category.confidence == mapping.CONF_PICKED
    assert len(stub.chat_requests) == 4


def test_http_500_forever_gives_an_error_not_a_crash(stub, hoodie):
    stub.on("product_category", Reply(status=500))
    with extractor(stub, max_retries=2) as ex:
        out = ex.extract([hoodie, hoodie])
    assert len(stub.chat_requests) == 6  # 3 attempts per product, bounded
    for o in out:
        assert o.errors and o.errors[0].startswith("category: model server answered HTTP 500")
        assert "(3 attempts)" in o.errors[0]


def test_http_400_is_not_retried(stub, hoodie):
    stub.on("product_category", Reply(status=400, body={"error": {"message": "response_format unsupported"}}))
    with extractor(stub, max_retries=3) as ex:
        [out] = ex.extract([hoodie])
    assert len(stub.chat_requests) == 1
    assert "HTTP 400" in out.errors[0] and "response_format unsupported" in out.errors[0]


def test_retry_after_is_honoured_on_429(stub, hoodie):
    stub.on("product_category", Reply(status=429, headers={"Retry-After": "0.3"}), category())
    started = time.monotonic()
    with extractor(stub, max_retries=1, backoff_s=0.0) as ex:
        [out] = ex.extract([hoodie])
    assert time.monotonic() - started >= 0.3
    assert out.errors == []


def test_server_down_raises_unavailable_naming_url_and_command(hoodie):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ex = OpenAIExtractor(f"http://127.0.0.1:{port}", "llava", timeout_s=2)
    with pytest.raises(ExtractorUnavailable) as info:
        ex.extract([hoodie, hoodie])
    message = str(info.value)
    assert f"http://127.0.0.1:{port}/v1" in message
    assert "lmdeploy serve api_server" in message and "--model-format awq" in message


def test_model_name_is_asked_from_the_server_when_not_configured(stub, hoodie):
    with extractor(stub, model=None) as ex:
        [out] = ex.extract([hoodie])
        assert ex.model == stub.model
    assert out.errors == []
    assert [r["path"] for r in stub.requests if r["method"] == "GET"] == ["/v1/models"]
    assert all(r["model"] == stub.model for r in stub.chat_requests)


def test_concurrency_limit_holds_over_a_batch(stub, make_jpeg):
    stub.on("product_category", Reply(content=json.dumps({"category_id": HOODIE}), delay=0.1))
    products = [ProductInput(product_id=str(i), title=f"hoodie {i}") for i in range(8)]
    with extractor(stub, concurrency=3) as ex:
        out = ex.extract(products)
    assert len(out) == 8 and all(o.errors == [] for o in out)
    assert 1 < stub.max_in_flight <= 3


def test_one_failing_product_does_not_fail_the_batch(stub, hoodie):
    def respond(request):
        text = request["messages"][-1]["content"][0]["text"]
        if "cursed" in text:
            return Reply(status=500)
        name = request["response_format"]["json_schema"]["name"]
        return category() if name == "product_category" else attributes(color=["Black"])

    stub.responder = respond
    products = [hoodie, ProductInput(product_id="x", title="cursed hoodie"), hoodie]
    with extractor(stub, max_retries=1, concurrency=2) as ex:
        out = ex.extract(products)
    assert [bool(o.errors) for o in out] == [False, True, False]
    assert [len(o.attributes) for o in out] == [1, 0, 1]


@pytest.mark.parametrize("url", ["http://h:23333", "http://h:23333/", "http://h:23333/v1", "h:23333/v1/"])
def test_base_url_forms(url):
    assert normalize_base_url(url) == "http://h:23333/v1"
