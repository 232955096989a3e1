"""make_extractor: backend names to extractors, lazily imported."""

from __future__ import annotations

import sys
import types

import pytest

from extractor.base import ExtractorUnavailable
from extractor.factory import make_extractor
from extractor.vlm.openai_backend import OpenAIExtractor


def test_openai_backend_with_url_and_model():
    ex = make_extractor("openai", url="http://gpu-box:23333", model="llava-v1.6-awq")
    try:
        assert isinstance(ex, OpenAIExtractor)
        assert ex.name == "openai" and ex.base_url == "http://gpu-box:23333/v1" and ex.model == "llava-v1.6-awq"
    finally:
        ex.close()


def test_openai_backend_defaults_to_local_api_server():
    ex = make_extractor("OpenAI")
    try:
        assert ex.base_url == "http://127.0.0.1:23333/v1"
    finally:
        ex.close()


def test_local_backend_is_imported_lazily_with_models_dir(monkeypatch, tmp_path):
    made = {}

    class FakeLocal:
        name = "local"

        def __init__(self, models_dir=None):
            made["models_dir"] = models_dir

    monkeypatch.setitem(sys.modules, "extractor.local", types.SimpleNamespace(LocalExtractor=FakeLocal))
    ex = make_extractor("local", models_dir=tmp_path)
    assert isinstance(ex, FakeLocal) and made["models_dir"] == tmp_path


def test_lmdeploy_backend_missing_package(monkeypatch):
    monkeypatch.setitem(sys.modules, "lmdeploy", None)
    with pytest.raises(ExtractorUnavailable, match="pip install lmdeploy"):
        make_extractor("lmdeploy", model="/models/llava-awq")


def test_lmdeploy_backend_needs_a_model():
    with pytest.raises(ValueError, match="EXTRACTOR_MODEL"):
        make_extractor("lmdeploy")


def test_unknown_backend():
    with pytest.raises(ValueError, match="unknown extractor backend 'gpt'.*local, openai, lmdeploy"):
        make_extractor("gpt")
