"""The query parser a search service uses: the deterministic rules (default) or an LLM (QUERY_PARSER=llm).

Both return the same `ParsedQuery`; the service calls `parse(store, text, vocab, taxonomy)` and does not
know which one it has. The rules parser is `parse_query` itself, so choosing it costs nothing.
"""

from __future__ import annotations

from typing import Any, Protocol

from search_api.query.models import ParsedQuery
from search_api.query.parse import parse_query
from search_api.query.vocabulary import StoreVocabulary


class QueryParser(Protocol):
    name: str

    def parse(self, store: str, text: str, vocab: StoreVocabulary, taxonomy: Any = None) -> ParsedQuery:
        """Filters, sort and retrieval text of one store's query; never raises on odd input."""

    def close(self) -> None: ...


class RulesQueryParser:
    """The deterministic parser (`search_api.query.parse`): pure, tens of microseconds a query."""

    name = "rules"

    def parse(self, store: str, text: str, vocab: StoreVocabulary, taxonomy: Any = None) -> ParsedQuery:
        return parse_query(text, vocab, taxonomy)

    def close(self) -> None:
        pass


def make_query_parser(settings: Any) -> QueryParser:
    """The parser QUERY_PARSER names. The LLM one is imported only when chosen (it brings an HTTP client)."""
    if settings.query_parser == "llm":
        from search_api.query.llm_parse import LLMQueryParser

        return LLMQueryParser.from_settings(settings)
    return RulesQueryParser()
