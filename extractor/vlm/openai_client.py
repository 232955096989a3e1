"""One HTTP client for any OpenAI-compatible chat-completions server, shared by every caller of one.

The VLM extractor (`openai_backend`) and the optional LLM query parser (`search_api.query.llm_parse`)
both send one JSON-schema-constrained chat completion and read back the answer's text; they differ only
in budgets (a batch extraction waits 30 s and retries, a shopper's query waits about a second and does
not), so those are constructor arguments here rather than a second transport.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx

from extractor.base import ExtractorUnavailable
from extractor.vlm.driver import CompletionError, Messages
from extractor.vlm.mapping import MalformedAnswer

LMDEPLOY_SERVE_COMMAND = (
    "lmdeploy serve api_server <llava-awq-model> --backend turbomind --model-format awq "
    "--server-name 0.0.0.0 --server-port 23333 --tp 1"
)
MAX_RETRY_AFTER_S = 30.0  # a server asking for longer than this is treated like any other failure
MAX_ERROR_BODY = 300


class CompletionTimeout(CompletionError, TimeoutError):
    """The last attempt timed out. A caller on a real-time budget tells it apart from a server error; the
    extraction driver raises it (a `TimeoutError`: transient) for the task's retry."""


def normalize_base_url(url: str) -> str:
    """`http://host:23333`, `.../v1` and `.../v1/` all mean the same OpenAI base URL."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    return url if url.endswith("/v1") else url + "/v1"


def response_format(schema: dict[str, Any], schema_name: str) -> dict[str, Any]:
    """OpenAI structured-output form, which LMDeploy's api_server and pipeline both take."""
    return {"type": "json_schema", "json_schema": {"name": schema_name, "schema": schema}}


class OpenAIChatClient:
    """Chat completions under a JSON schema, with bounded retries.

    Transport failures are retried with exponential backoff (timeouts, HTTP 5xx and 429, dropped
    connections) up to `max_retries`, then raise :class:`CompletionError` (:class:`CompletionTimeout`
    when the last attempt timed out); a 4xx other than 429 is not retried. A refused connection means no
    server: :class:`ExtractorUnavailable`, naming `url_setting` so the message says which variable to fix.
    An answer envelope that cannot be read raises :class:`MalformedAnswer`, which callers treat like an
    answer that is not the JSON asked for.
    """

    def __init__(self, base_url: str, model: str | None = None, *, timeout_s: float = 30.0,
                 max_retries: int = 2, backoff_s: float = 0.5, max_connections: int = 4,
                 max_tokens: int = 1024, api_key: str | None = None,
                 url_setting: str = "EXTRACTOR_URL", model_setting: str = "EXTRACTOR_MODEL") -> None:
        self.base_url = normalize_base_url(base_url)
        self._model = model
        self._model_lock = threading.Lock()
        self._accepts_images: bool | None = None
        self._listing: Any = None
        self.timeout_s = timeout_s
        self.max_retries = max(0, max_retries)
        self.backoff_s = backoff_s
        self.max_tokens = max_tokens
        self.url_setting = url_setting
        self.model_setting = model_setting
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        # One pooled client shared by the caller's threads (httpx.Client is thread-safe).
        self._http = httpx.Client(
            base_url=self.base_url, headers=headers, timeout=httpx.Timeout(timeout_s),
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections))

    def close(self) -> None:
        self._http.close()

    def _unavailable(self, exc: Exception) -> ExtractorUnavailable:
        return ExtractorUnavailable(
            f"cannot connect to the OpenAI-compatible model server at {self.base_url} ({exc}). "
            f"Start one there, e.g. `{LMDEPLOY_SERVE_COMMAND}`, or point {self.url_setting} at a running one.")

    @property
    def model(self) -> str:
        """The served model's name: as configured, else the first one the server lists (LMDeploy serves
        exactly one, named after its path unless started with --model-name)."""
        if self._model:
            return self._model
        with self._model_lock:
            if not self._model:
                try:
                    self._model = str(self._models()["data"][0]["id"])
                except httpx.ConnectError as exc:
                    raise self._unavailable(exc) from exc
                except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError) as exc:
                    raise ExtractorUnavailable(
                        f"the model server at {self.base_url} did not list a model ({exc}); "
                        f"set {self.model_setting} to the served model name") from exc
        return self._model

    def accepts_images(self) -> bool:
        """False only when the server's model listing says the model takes no images: llama.cpp lists
        `architecture.input_modalities`, and answers HTTP 500 to an image sent to a text-only model.
        Servers that do not say (LMDeploy) are taken to accept them. Asked once."""
        if self._accepts_images is None:
            try:
                modalities = self._models()["data"][0]["architecture"]["input_modalities"]
                self._accepts_images = "image" in modalities
            except httpx.ConnectError as exc:
                raise self._unavailable(exc) from exc
            except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
                self._accepts_images = True
        return self._accepts_images

    def _models(self) -> Any:
        """The server's /models listing, fetched once (both `model` and `accepts_images` read it)."""
        if self._listing is None:
            resp = self._http.get("/models")
            resp.raise_for_status()
            self._listing = resp.json()
        return self._listing

    def complete(self, messages: Messages, schema: dict[str, Any], schema_name: str) -> str:
        """One chat completion constrained by `schema`; the answer's text."""
        payload = {
            "model": self.model,
            "messages": messages,
            "temperature": 0.0,  # both callers want the most likely reading, not variety
            "max_tokens": self.max_tokens,
            "response_format": response_format(schema, schema_name),
        }
        attempts = self.max_retries + 1
        problem = ""
        timed_out = False
        for attempt in range(attempts):
            delay = self.backoff_s * (2**attempt)
            timed_out = False
            try:
                resp = self._http.post("/chat/completions", json=payload)
            except httpx.ConnectError as exc:
                raise self._unavailable(exc) from exc
            except httpx.TimeoutException:
                problem = f"model server timed out after {self.timeout_s:g} s"
                timed_out = True
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
        error = CompletionTimeout if timed_out else CompletionError
        raise error(f"{problem} ({attempts} attempt{'s' if attempts > 1 else ''})")


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
