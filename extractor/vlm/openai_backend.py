"""VLM extraction through any OpenAI-compatible chat-completions server with image input.

In production that is LMDeploy's `api_server` serving a LLaVA-class model with AWQ weights; it accepts
`response_format={"type": "json_schema", "json_schema": {"name", "schema"}}` and decodes under the schema.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import httpx

from extractor.base import ExtractorUnavailable
from extractor.models import Extraction, ProductInput
from extractor.vlm.driver import CompletionError, Messages, TwoStageDriver
from extractor.vlm.mapping import MalformedAnswer
from taxonomy import Taxonomy

LMDEPLOY_SERVE_COMMAND = (
    "lmdeploy serve api_server <llava-awq-model> --backend turbomind --model-format awq "
    "--server-name 0.0.0.0 --server-port 23333 --tp 1"
)
MAX_RETRY_AFTER_S = 30.0  # a server asking for longer than this is treated like any other failure
MAX_ERROR_BODY = 300


def normalize_base_url(url: str) -> str:
    """`http://host:23333`, `.../v1` and `.../v1/` all mean the same OpenAI base URL."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    return url if url.endswith("/v1") else url + "/v1"


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
        self.base_url = normalize_base_url(base_url)
        self._model = model
        self._model_lock = threading.Lock()
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.concurrency = max(1, concurrency)
        self.max_tokens = max_tokens
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # One pooled client shared by the worker threads (httpx.Client is thread-safe).
        self._client = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency))
        self.driver = TwoStageDriver(self.complete, name=self.name, version=self.version, taxonomy=taxonomy,
                                     max_retries=self.max_retries, max_images=max_images,
                                     max_image_side=max_image_side)

    # ------------------------------------------------------------------ Extractor protocol

    def extract(self, products: Sequence[ProductInput]) -> list[Extraction]:
        return self.driver.extract_many(products, concurrency=self.concurrency)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> OpenAIExtractor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ transport

    def _unavailable(self, exc: Exception) -> ExtractorUnavailable:
        return ExtractorUnavailable(
            f"cannot connect to the OpenAI-compatible model server at {self.base_url} ({exc}). "
            f"Start one there, e.g. `{LMDEPLOY_SERVE_COMMAND}`, or point EXTRACTOR_URL at a running one.")

    @property
    def model(self) -> str:
        """The served model's name: as configured, else the first one the server lists (LMDeploy serves
        exactly one, named after its path unless started with --model-name)."""
        if self._model:
            return self._model
        with self._model_lock:
            if not self._model:
                try:
                    resp = self._client.get("/models")
                    resp.raise_for_status()
                    self._model = str(resp.json()["data"][0]["id"])
                except httpx.ConnectError as exc:
                    raise self._unavailable(exc) from exc
                except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
                    raise ExtractorUnavailable(
                        f"the model server at {self.base_url} did not list a model ({exc}); "
                        "set EXTRACTOR_MODEL to the served model name") from exc
        return self._model

    def complete(self, messages: Messages, schema: dict[str, Any], schema_name: str) -> str:
        """One chat completion constrained by `schema`; the answer's text."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.0,  # extraction wants the most likely reading, not variety
            "max_tokens": self.max_tokens,
            "response_format": response_format(schema, schema_name),
        }
        attempts = self.max_retries + 1
        problem = ""
        for attempt in range(attempts):
            delay = self.backoff_s * (2**attempt)
            try:
                resp = self._client.post("/chat/completions", json=payload)
            except httpx.ConnectError as exc:
                raise self._unavailable(exc) from exc
            except httpx.TimeoutException:
                problem = f"model server timed out after {self.timeout_s:g} s"
            except httpx.TransportError as exc:  # connection reset, protocol error: worth another try
                problem = f"model server connection failed: {type(exc).__name__}: {exc}"
            else:
                if resp.status_code < 400:
                    return _answer_text(resp)
                body = resp.text[:MAX_ERROR_BODY]
                problem = f"model server answered HTTP {resp.status_code}: {body}"
                if resp.status_code != 429 and resp.status_code < 500:
                    # A 4xx other than 429 is about the request itself; sending it again cannot help.
                    raise CompletionError(problem)
                retry_after = _retry_after(resp)
                if retry_after is not None:
                    if retry_after > MAX_RETRY_AFTER_S:
                        break
                    delay = max(delay, retry_after)
            if attempt + 1 < attempts:
                time.sleep(delay)
        raise CompletionError(f"{problem} ({attempts} attempt{'s' if attempts > 1 else ''})")


def response_format(schema: dict[str, Any], schema_name: str) -> dict[str, Any]:
    """OpenAI structured-output form, which LMDeploy's api_server and pipeline both take."""
    return {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema}}


def _retry_after(resp: httpx.Response) -> float | None:
    value = resp.headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _answer_text(resp: httpx.Response) -> str:
    """choices[0].message.content; an envelope we cannot read counts as a malformed answer (retried)."""
    try:
        content = resp.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise MalformedAnswer(f"response is not a chat completion ({type(exc).__name__})") from None
    if not isinstance(content, str):
        raise MalformedAnswer("response has no message content")
    return content
