"""VLM extraction through any OpenAI-compatible chat-completions server with image input.

In production that is LMDeploy's `api_server` serving a LLaVA-class model with AWQ weights; it accepts
`response_format={"type": "json_schema", "json_schema": {"name", "schema"}}` and decodes under the schema.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from extractor.models import Extraction, ProductInput
from extractor.vlm.driver import Messages, TwoStageDriver
from extractor.vlm.openai_client import (
    LMDEPLOY_SERVE_COMMAND,
    OpenAIChatClient,
    normalize_base_url,
    response_format,
)
from taxonomy import Taxonomy

log = logging.getLogger(__name__)

# The transport moved to `openai_client` (the LLM query parser shares it); these names stay importable here.
__all__ = ["LMDEPLOY_SERVE_COMMAND", "OpenAIExtractor", "normalize_base_url", "response_format"]


class OpenAIExtractor:
    """Two-stage extraction (category, then attributes) against an OpenAI-compatible VLM server.

    Transport failures are retried here with exponential backoff (timeouts, HTTP 5xx and 429, dropped
    connections), malformed answers in the shared driver; both bounded by `max_retries`. A refused
    connection means no server: :class:`ExtractorUnavailable`, for the whole batch.
    """

    name = "openai"
    version = "1"

    def __init__(self, base_url: str, model: str | None = None, *, timeout_s: float = 30.0,
                 max_retries: int = 2, concurrency: int = 4, max_image_side: int = 768,
                 max_images: int = 1, max_tokens: int = 1024, backoff_s: float = 0.5,
                 api_key: str | None = None, taxonomy: Taxonomy | None = None) -> None:
        # One pooled client shared by the worker threads (httpx.Client is thread-safe).
        self._client = OpenAIChatClient(base_url, model, timeout_s=timeout_s, max_retries=max_retries,
                                        backoff_s=backoff_s, max_connections=max(1, concurrency),
                                        max_tokens=max_tokens, api_key=api_key)
        self.base_url = self._client.base_url
        self.max_retries = self._client.max_retries
        self.concurrency = max(1, concurrency)
        self.driver = TwoStageDriver(self.complete, name=self.name, version=self.version, taxonomy=taxonomy,
                                     max_retries=self.max_retries, max_images=max_images,
                                     max_image_side=max_image_side)

    # ------------------------------------------------------------------ Extractor protocol

    def extract(self, products: Sequence[ProductInput]) -> list[Extraction]:
        if self.driver.max_images and not self._client.accepts_images():
            # A text-only model (`catalog model-server` without --mmproj) would refuse every product with
            # a photo; it reads the listing text instead.
            log.info("the model at %s takes no images: extracting from text only", self.base_url)
            self.driver.max_images = 0
        return self.driver.extract_many(products, concurrency=self.concurrency)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    @property
    def model(self) -> str:
        """The served model's name: as configured, else the first one the server lists."""
        return self._client.model

    def complete(self, messages: Messages, schema: dict[str, Any], schema_name: str) -> str:
        """One chat completion constrained by `schema`; the answer's text (see `OpenAIChatClient`)."""
        return self._client.complete(messages, schema, schema_name)
