"""The in-process lmdeploy backend: missing-package message, and its calls into a fake `lmdeploy`."""

from __future__ import annotations

import json
import sys
import types

import pytest

from extractor.base import ExtractorUnavailable
from extractor.models import ProductInput
from extractor.vlm.lmdeploy_backend import LMDeployExtractor
from extractor.vlm.schema_subset import for_decoding

HOODIE = "aa-1-13-13"


def test_missing_lmdeploy_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "lmdeploy", None)  # makes `import lmdeploy` raise ImportError
    with pytest.raises(ExtractorUnavailable) as info:
        LMDeployExtractor("/models/llava-v1.6-vicuna-7b-awq")
    message = str(info.value)
    assert "`pip install lmdeploy`" in message
    assert "CUDA" in message
    assert "EXTRACTOR_BACKEND=openai" in message


class FakeResponse:
    def __init__(self, text: str) -> None:
        self.text = text


def fake_lmdeploy(answers: dict[str, list[str]], calls: list) -> types.ModuleType:
    """Records the documented API as used: pipeline(model, backend_config=TurbomindEngineConfig(...)),
    pipe(messages, gen_config=GenerationConfig(response_format=...)) -> Response(.text)."""
    module = types.ModuleType("lmdeploy")

    class TurbomindEngineConfig:
        def __init__(self, **kw):
            self.kw = kw

    class GenerationConfig:
        def __init__(self, **kw):
            self.kw = kw

    class Pipeline:
        def __call__(self, messages, gen_config):
            calls.append(("infer", messages, gen_config.kw))
            name = gen_config.kw["response_format"]["json_schema"]["name"]
            script = answers[name]
            answer = script.pop(0) if len(script) > 1 else script[0]
            if answer == "RAISE":
                raise RuntimeError("CUDA out of memory")
            return FakeResponse(answer)

    def pipeline(model_path, backend_config=None, **kw):
        calls.append(("pipeline", model_path, backend_config.kw))
        return Pipeline()

    module.TurbomindEngineConfig = TurbomindEngineConfig
    module.GenerationConfig = GenerationConfig
    module.pipeline = pipeline
    return module


def test_two_stages_through_the_pipeline(monkeypatch, make_jpeg, tax):
    calls: list = []
    answers = {
        "product_category": ["{oops", json.dumps({"category_id": HOODIE})],
        "product_attributes": [json.dumps({"description": "Hoodie.", "attributes": {"color": ["Black", "Plaid"]},
                                           "unsafe": []})],
    }
    monkeypatch.setitem(sys.modules, "lmdeploy", fake_lmdeploy(answers, calls))
    ex = LMDeployExtractor("/models/llava-awq", tp=2)
    [out] = ex.extract([ProductInput(title="Black cotton hoodie", images=[str(make_jpeg())])])

    assert calls[0] == ("pipeline", "/models/llava-awq",
                        {"model_format": "awq", "tp": 2, "session_len": 8192, "cache_max_entry_count": 0.5})
    infers = [c for c in calls if c[0] == "infer"]
    assert len(infers) == 3  # the malformed category answer was retried once
    gen = infers[-1][2]
    assert gen["top_k"] == 1
    assert gen["response_format"]["type"] == "json_schema"
    schema = gen["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["attributes"]["properties"] == for_decoding(tax.json_schema(HOODIE))["properties"]
    image_part = infers[0][1][-1]["content"][1]
    assert image_part["image_url"]["url"].startswith("data:image/jpeg;base64,")

    assert out.extractor == "lmdeploy" and out.errors == []
    assert out.category.id == HOODIE
    assert [v.name for a in out.attributes for v in a.values] == ["Black"]
    assert out.dropped_values == 1  # "Plaid" is a pattern, not a color


def test_generation_failure_becomes_a_product_error(monkeypatch, tax):
    calls: list = []
    monkeypatch.setitem(sys.modules, "lmdeploy", fake_lmdeploy({"product_category": ["RAISE"]}, calls))
    [out] = LMDeployExtractor("/models/llava-awq").extract([ProductInput(title="Black cotton hoodie")])
    assert out.errors == ["category: LMDeploy generation failed: RuntimeError: CUDA out of memory"]
    assert out.category.id == HOODIE  # the text shortlist's best guess, at low confidence


def test_model_that_fails_to_load_is_unavailable(monkeypatch):
    module = fake_lmdeploy({}, [])

    def broken(model_path, backend_config=None):
        raise FileNotFoundError(model_path)

    module.pipeline = broken
    monkeypatch.setitem(sys.modules, "lmdeploy", module)
    with pytest.raises(ExtractorUnavailable, match="could not load the model '/nope'"):
        LMDeployExtractor("/nope")
