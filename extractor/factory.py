"""Pick an extractor backend by name (EXTRACTOR_BACKEND): local (CPU), openai, lmdeploy."""

from __future__ import annotations

from pathlib import Path

from extractor.base import Extractor

BACKENDS = ("local", "openai", "lmdeploy")
DEFAULT_OPENAI_URL = "http://127.0.0.1:23333/v1"  # LMDeploy api_server's default port


def make_extractor(backend: str, *, url: str | None = None, model: str | None = None,
                   models_dir: str | Path | None = None, timeout_s: float | None = None) -> Extractor:
    """An extractor for `backend`. Imports are lazy: choosing `openai` never loads torch, and `lmdeploy`
    is only imported (and must be installed) when chosen.

    - local: `models_dir` is where the CPU models cache derived data.
    - openai: `url` is the server's base URL (EXTRACTOR_URL), `model` the served model name
      (EXTRACTOR_MODEL; asked from the server when not given), `timeout_s` one request's limit
      (EXTRACTOR_TIMEOUT; the backend's default when not given).
    - lmdeploy: `model` is the model path or hub id (EXTRACTOR_MODEL) loaded in-process.
    """
    name = (backend or "").strip().lower()
    if name == "local":
        from extractor.local import LocalExtractor

        return LocalExtractor(models_dir=Path(models_dir) if models_dir is not None else None)
    if name == "openai":
        from extractor.vlm.openai_backend import OpenAIExtractor

        return OpenAIExtractor(url or DEFAULT_OPENAI_URL, model,
                               **({"timeout_s": timeout_s} if timeout_s is not None else {}))
    if name == "lmdeploy":
        from extractor.vlm.lmdeploy_backend import LMDeployExtractor

        if not model:
            raise ValueError("the lmdeploy backend needs a model path (EXTRACTOR_MODEL), "
                             "e.g. a LLaVA checkpoint quantized with `lmdeploy lite auto_awq`")
        return LMDeployExtractor(model)
    raise ValueError(f"unknown extractor backend {backend!r}; choose one of: {', '.join(BACKENDS)}")
