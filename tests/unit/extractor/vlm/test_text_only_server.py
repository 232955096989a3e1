"""A server whose model takes no images (llama.cpp without a projector says so in /v1/models) is sent the
listing text alone; one that does not say is sent the photos, as before."""

from __future__ import annotations

from extractor.models import ProductInput
from extractor.vlm.openai_backend import OpenAIExtractor
from tests.stubs.openai_stub import OpenAIStub


def image_parts(stub: OpenAIStub) -> list[dict]:
    return [part for request in stub.chat_requests for message in request["messages"]
            if isinstance(message["content"], list) for part in message["content"] if part["type"] == "image_url"]


def extract(stub: OpenAIStub, make_jpeg):
    product = ProductInput(title="Black cotton hoodie", images=[str(make_jpeg())])
    with OpenAIExtractor(stub.url, None, backoff_s=0.0) as ex:
        return ex.extract([product])[0]


def test_a_text_only_model_gets_no_photos(make_jpeg):
    with OpenAIStub(input_modalities=["text"]) as stub:
        out = extract(stub, make_jpeg)
        assert len(stub.chat_requests) == 2 and image_parts(stub) == []
        assert out.errors == [] and out.image_notes == []
        assert [r["path"] for r in stub.requests if r["method"] == "GET"] == ["/v1/models"]  # asked once


def test_a_vision_model_and_a_server_that_does_not_say_get_the_photo(make_jpeg):
    for modalities in (["text", "image"], None):
        with OpenAIStub(input_modalities=modalities) as stub:
            extract(stub, make_jpeg)
            assert len(image_parts(stub)) == 2  # one photo in each stage
