"""VLM extraction in-process through LMDeploy's `pipeline` (TurboMind engine, AWQ weights).

LMDeploy runs on NVIDIA GPUs only and is imported lazily, so this module imports fine everywhere; where
the package is missing, constructing the extractor raises :class:`ExtractorUnavailable` saying what to
install. Prompts, schemas, retries and mapping are the ones the `openai` backend uses (driver.py).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

from extractor.base import ExtractorUnavailable
from extractor.models import Extraction, ProductInput
from extractor.vlm.driver import CompletionError, Messages, TwoStageDriver
from extractor.vlm.openai_client import response_format
from taxonomy import Taxonomy

INSTALL_HINT = (
    "`pip install lmdeploy` on a machine with an NVIDIA GPU and CUDA (LMDeploy has no CPU backend). "
    "Elsewhere use EXTRACTOR_BACKEND=local, or EXTRACTOR_BACKEND=openai with EXTRACTOR_URL pointing at a "
    "`lmdeploy serve api_server` running on a GPU machine."
)


def import_lmdeploy() -> ModuleType:
    try:
        import lmdeploy
    except ImportError as exc:
        raise ExtractorUnavailable(f"the lmdeploy extractor needs the lmdeploy package, which is not "
                                   f"installed ({exc}). Install it with {INSTALL_HINT}") from exc
    except Exception as exc:  # installed but broken here (no CUDA runtime, wrong torch): same remedy
        raise ExtractorUnavailable(f"lmdeploy is installed but cannot be imported here "
                                   f"({type(exc).__name__}: {exc}). It needs {INSTALL_HINT}") from exc
    return lmdeploy


class LMDeployExtractor:
    """Two-stage extraction with an in-process `lmdeploy.pipeline`.

    Requests go through the pipeline one at a time (its synchronous call is not meant for concurrent
    threads); for throughput across many workers, serve the model with `lmdeploy serve api_server`, which
    batches requests continuously, and use the `openai` backend.
    """

    name = "lmdeploy"
    version = "1"

    def __init__(self, model_path: str, *, tp: int = 1, model_format: str = "awq", session_len: int = 8192,
                 cache_max_entry_count: float = 0.5, max_new_tokens: int = 1024, max_retries: int = 2,
                 max_images: int = 1, max_image_side: int = 768, taxonomy: Taxonomy | None = None) -> None:
        self.model_path = model_path
        self.max_new_tokens = max_new_tokens
        self._lm = import_lmdeploy()
        try:
            backend_config = self._lm.TurbomindEngineConfig(
                model_format=model_format, tp=tp, session_len=session_len,
                cache_max_entry_count=cache_max_entry_count)
            self._pipe = self._lm.pipeline(model_path, backend_config=backend_config)
        except Exception as exc:
            raise ExtractorUnavailable(f"LMDeploy could not load the model {model_path!r} "
                                       f"({type(exc).__name__}: {exc})") from exc
        self._lock = threading.Lock()
        self.driver = TwoStageDriver(self.complete, name=self.name, version=self.version, taxonomy=taxonomy,
                                     max_retries=max_retries, max_images=max_images,
                                     max_image_side=max_image_side)

    def extract(self, products: Sequence[ProductInput]) -> list[Extraction]:
        return self.driver.extract_many(products, concurrency=1)

    def complete(self, messages: Messages, schema: dict[str, Any], schema_name: str) -> str:
        gen_config = self._lm.GenerationConfig(
            max_new_tokens=self.max_new_tokens,
            top_k=1,  # greedy: the most likely reading of the product
            response_format=response_format(schema, schema_name),
        )
        try:
            with self._lock:
                # OpenAI-format messages with image_url data URLs: the pipeline accepts them as-is.
                out = self._pipe(messages, gen_config=gen_config)
        except Exception as exc:
            raise CompletionError(f"LMDeploy generation failed: {type(exc).__name__}: {exc}") from exc
        if isinstance(out, list):
            out = out[0] if out else None
        text = getattr(out, "text", out)
        if not isinstance(text, str):
            raise CompletionError("LMDeploy returned no text")
        return text
