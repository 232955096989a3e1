"""The optional LLM query parser (QUERY_PARSER=llm): an OpenAI-compatible model reads the shopper's query
under a JSON schema built from the store's vocabulary (`llm_schema`), and its answer is validated into
the same `ParsedQuery` the rules give.

It is on the shopper's real-time path, so it never makes a search fail or come back empty: an answer
that is not JSON or not of the schema's shape, a timeout (QUERY_PARSER_TIMEOUT, one attempt, no retry),
a server error or no server at all gives the deterministic rules' parse of that query instead, logged and
counted. After a transport failure the rules answer alone for `cooldown_s`, so a dead server costs one
timeout per cooldown, not one per query. Answers are cached per (store, normalized query) in a bounded
LRU; a cached answer is validated again against the store's current vocabulary on every use.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

from prometheus_client import Counter

from extractor.base import ExtractorUnavailable
from extractor.vlm.driver import CompletionError, Messages
from extractor.vlm.mapping import MalformedAnswer
from extractor.vlm.openai_client import CompletionTimeout
from search_api.query.llm_schema import (
    SCHEMA_NAME,
    StorePrompt,
    answer_object,
    prepare,
    query_messages,
    read_answer,
)
from search_api.query.models import ParsedQuery
from search_api.query.parse import cut_query, parse_query
from search_api.query.vocabulary import StoreVocabulary

log = logging.getLogger(__name__)

PARSES = Counter("catalog_query_parses_total", "Queries read by the LLM query parser, by outcome "
                 "(llm, cache, or fallback_<why> when the rules answered)", ["outcome"])
DROPPED = Counter("catalog_query_parser_dropped_total",
                  "Categories and values an LLM answer named that the store does not hold")

DEFAULT_TIMEOUT_S = 1.5
DEFAULT_CACHE_SIZE = 4096
DEFAULT_COOLDOWN_S = 10.0
MAX_ANSWER_TOKENS = 384  # an answer is a few short fields; a bound keeps a rambling model inside the timeout


class ChatClient(Protocol):
    """What the parser needs of `extractor.vlm.openai_client.OpenAIChatClient`."""

    def complete(self, messages: Messages, schema: dict[str, Any], schema_name: str) -> str: ...

    def close(self) -> None: ...


class LLMQueryParser:
    name = "llm"

    def __init__(self, client: ChatClient, *, cache_size: int = DEFAULT_CACHE_SIZE,
                 cooldown_s: float = DEFAULT_COOLDOWN_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._cache_size = max(0, cache_size)
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._prompts: dict[str, StorePrompt] = {}
        self._lock = threading.Lock()
        self._down_until = 0.0
        # Outcomes and dropped names of this instance (the Prometheus counters are process-wide).
        self.stats: collections.Counter[str] = collections.Counter()

    @classmethod
    def from_settings(cls, settings: Any) -> LLMQueryParser:
        from extractor.factory import DEFAULT_OPENAI_URL
        from extractor.vlm.openai_client import OpenAIChatClient

        url = settings.query_parser_url or settings.extractor_url or DEFAULT_OPENAI_URL
        # EXTRACTOR_MODEL names the model on EXTRACTOR_URL's server; on another server it would be wrong,
        # and without one the server is asked for its model.
        model = settings.query_parser_model or (
            settings.extractor_model if not settings.query_parser_url and settings.extractor_url else None)
        client = OpenAIChatClient(url, model, timeout_s=settings.query_parser_timeout_s, max_retries=0,
                                  max_connections=16, max_tokens=MAX_ANSWER_TOKENS,
                                  url_setting="QUERY_PARSER_URL", model_setting="QUERY_PARSER_MODEL")
        return cls(client)

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------------ parsing

    def parse(self, store: str, text: str, vocab: StoreVocabulary, taxonomy: Any = None) -> ParsedQuery:
        text = cut_query(text)
        if not text.strip():
            return parse_query(text, vocab, taxonomy)
        prompt = self._prompt(store, vocab)
        key = (store, " ".join(text.lower().split()))
        answer = self._cached(key)
        fresh = answer is None
        if answer is None:
            answer = self._ask(prompt, text)
            if answer is None:
                return parse_query(text, vocab, taxonomy)
            self._remember(key, answer)
        reading = read_answer(answer, text, prompt, taxonomy)
        if fresh and reading.dropped:
            with self._lock:
                self.stats["dropped"] += len(reading.dropped)
            DROPPED.inc(len(reading.dropped))
            log.info("LLM query parser dropped names outside store %s: %s", store, "; ".join(reading.dropped))
        parsed = reading.parsed
        if not (parsed.filters or parsed.sort or parsed.text) and any(c.isalnum() for c in text):
            # The answer read nothing from a query with words (or only names the store lacks): searching
            # for everything would ignore the shopper, the rules at least keep their words.
            self._count("fallback_empty")
            return parse_query(text, vocab, taxonomy)
        self._count("llm" if fresh else "cache")
        return parsed

    def _ask(self, prompt: StorePrompt, text: str) -> dict[str, Any] | None:
        """The model's answer of the schema's shape, or None (counted and logged) when the rules answer."""
        if self._clock() < self._down_until:
            self._count("fallback_cooldown")
            return None
        try:
            raw = self.client.complete(query_messages(prompt, text), prompt.schema, SCHEMA_NAME)
            return answer_object(raw, prompt)
        except MalformedAnswer as exc:  # this answer only: the next query may be answered well
            return self._fail("malformed", exc, cool=False)
        except CompletionTimeout as exc:
            return self._fail("timeout", exc)
        except CompletionError as exc:
            return self._fail("server_error", exc)
        except ExtractorUnavailable as exc:
            return self._fail("unavailable", exc)
        except Exception as exc:  # an optional component must never fail a search: rules, and a traceback
            log.exception("LLM query parser failed")
            return self._fail("error", exc)

    def _fail(self, reason: str, exc: Exception, *, cool: bool = True) -> None:
        if cool:
            self._down_until = self._clock() + self._cooldown_s
        self._count(f"fallback_{reason}")
        log.warning("LLM query parser fell back to the rules (%s): %s", reason, exc)
        return None

    def _count(self, outcome: str) -> None:
        with self._lock:  # several request threads share the parser
            self.stats[outcome] += 1
        PARSES.labels(outcome).inc()

    # ------------------------------------------------------------------ caches

    def _prompt(self, store: str, vocab: StoreVocabulary) -> StorePrompt:
        """The store's schema and prompt, rebuilt when the store's vocabulary is (a new object)."""
        prompt = self._prompts.get(store)
        if prompt is None or prompt.vocab is not vocab:
            prompt = prepare(vocab)
            self._prompts[store] = prompt
        return prompt

    def _cached(self, key: tuple[str, str]) -> dict[str, Any] | None:
        with self._lock:
            answer = self._cache.get(key)
            if answer is not None:
                self._cache.move_to_end(key)
            return answer

    def _remember(self, key: tuple[str, str], answer: dict[str, Any]) -> None:
        if not self._cache_size:
            return
        with self._lock:
            self._cache[key] = answer
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
