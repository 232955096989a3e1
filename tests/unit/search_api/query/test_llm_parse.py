"""The optional LLM query parser against a real HTTP server speaking the OpenAI wire format (the stub), the
small Luma-like store vocabulary and the real taxonomy."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest
from jsonschema import Draft202012Validator
from vocab_fixture import HOODIES

from extractor.vlm.openai_client import OpenAIChatClient
from indexer.engines.types import Hit, Hits, Sort
from indexer.settings import Settings
from search_api.models import SearchRequest
from search_api.query.llm_parse import LLMQueryParser
from search_api.query.llm_schema import (
    CONF_LLM,
    SCHEMA_NAME,
    query_schema,
    without_enums,
)
from search_api.query.parse import parse_query
from search_api.query.parsers import RulesQueryParser, make_query_parser
from search_api.query.vocabulary import StoreVocabulary
from search_api.service import SearchService
from search_api.sessions import make_session_store
from tests.stubs.openai_stub import OpenAIStub, Reply

QUERY = "black hoodie for men under $60, not cotton"


def answer(category=None, attributes=(), price_min=None, price_max=None, sort=None, text="") -> Reply:
    return Reply(content=json.dumps({
        "category": category,
        "attributes": [{"attribute": a, "value": v, "negated": n} for a, v, n in attributes],
        "price_min": price_min, "price_max": price_max, "sort": sort, "text": text,
    }))


GOOD = answer("Hoodies", [("color", "Black", False), ("target-gender", "men", False), ("material", "cotton", True)],
              price_max=60)


@pytest.fixture
def stub() -> Iterator[OpenAIStub]:
    with OpenAIStub() as server:
        yield server


def llm_parser(stub: OpenAIStub, *, timeout_s: float = 5.0, **kw) -> LLMQueryParser:
    client = OpenAIChatClient(stub.url, stub.model, timeout_s=timeout_s, max_retries=0, backoff_s=0.0)
    return LLMQueryParser(client, **kw)


# ------------------------------------------------------------------------------------------ schema


def test_schema_is_draft_2020_12_with_the_stores_names_as_enums(vocab):
    schema = query_schema(vocab)
    Draft202012Validator.check_schema(schema)
    props = schema["properties"]
    assert set(props["category"]["enum"]) == {*vocab.categories.values(), None}
    assert props["attributes"]["items"]["properties"]["attribute"]["enum"] == sorted(vocab.attributes)
    assert props["sort"]["enum"] == ["price_asc", "price_desc", "newest", None]
    assert set(schema["required"]) == set(props) and schema["additionalProperties"] is False

    valid = json.loads(GOOD.content)
    Draft202012Validator(schema).validate(valid)
    # A name outside the store violates the enums but not the shape: it is dropped, not the whole answer.
    outside = {**valid, "category": "Sneakers"}
    assert not Draft202012Validator(schema).is_valid(outside)
    assert Draft202012Validator(without_enums(schema)).is_valid(outside)
    assert not Draft202012Validator(schema).is_valid({**valid, "price_max": "60"})


def test_schema_of_a_store_without_attributes_allows_none():
    schema = query_schema(StoreVocabulary(categories={HOODIES: "Hoodies"}))
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["attributes"] == {"type": "array", "maxItems": 0}
    assert "enum" not in json.dumps(schema["properties"]["attributes"])


# ------------------------------------------------------------------------------------------ answers


def test_valid_answer_becomes_the_applied_filters(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, GOOD)
    parser = llm_parser(stub)
    parsed = parser.parse("s1", QUERY, vocab, taxonomy)

    got = [(f.id, f.span, QUERY[f.span[0]:f.span[1]] if f.span else None) for f in parsed.filters]
    assert got == [
        ("attr.color:color__black", (0, 5), "black"),
        (f"category:{HOODIES}", (6, 12), "hoodie"),
        ("attr.target-gender:target-gender__male", (17, 20), "men"),  # "men" read as Male, as the rules do
        ("price:lte:60", (21, 30), "under $60"),
        ("not:attr.material:material__cotton", (32, 42), "not cotton"),
    ]
    assert all(f.confidence == CONF_LLM == 0.8 and f.source == "parsed" for f in parsed.filters)
    assert [f.label for f in parsed.filters][:2] == ["Color: Black", "Category: Hoodies"]
    # The same filters as the deterministic parser reads from this query.
    assert {f.id for f in parsed.filters} == {f.id for f in parse_query(QUERY, vocab, taxonomy).filters}
    assert parsed.text == "" and parsed.sort is None
    assert parser.stats == {"llm": 1}

    [request] = stub.chat_requests
    assert request["model"] == stub.model and request["temperature"] == 0
    assert request["response_format"]["type"] == "json_schema"
    spec = request["response_format"]["json_schema"]
    assert spec["name"] == SCHEMA_NAME and spec["schema"] == query_schema(vocab)
    assert "Hoodies" in spec["schema"]["properties"]["category"]["enum"]
    system, user = request["messages"]
    assert system["role"] == "system" and "color: Black, Blue" in system["content"]
    assert user == {"role": "user", "content": QUERY}


def test_sort_text_and_a_span_that_is_not_in_the_query(stub, vocab, taxonomy):
    q = "newest grey yoga pants for kids"
    stub.on(SCHEMA_NAME, answer("Pants", [("color", "Gray", False), ("age-group", "Kids", False)], sort="newest",
                                text="yoga pants sweatpants"))
    parsed = llm_parser(stub).parse("s1", q, vocab, taxonomy)
    assert parsed.sort == Sort("created_at", descending=True)
    by_id = {f.id: f.span for f in parsed.filters}
    # "Gray" is not written in the query ("grey"): the filter stands, without a span.
    assert by_id == {"category:aa-1-12": (17, 22), "attr.color:color__gray": None,
                     "attr.age-group:age-group__kids": (27, 31)}
    assert [f.id for f in parsed.filters][-1] == "attr.color:color__gray"  # spanless last
    assert parsed.text == "yoga pants"  # "sweatpants" is the model's word, not the shopper's


def test_out_of_vocabulary_names_are_dropped_and_counted(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, answer("Sneakers", [("color", "Midnight Galaxy", False), ("vibe", "cozy", False),
                                             ("color", "grey", False)], sort="popular", text="hoodie"))
    parser = llm_parser(stub)
    parsed = parser.parse("s1", "cozy grey hoodie", vocab, taxonomy)
    assert [f.id for f in parsed.filters] == ["attr.color:color__gray"]  # "grey" -> Gray via the rules' synonyms
    assert parsed.sort is None and parsed.text == "hoodie"
    assert parser.stats["dropped"] == 4 and parser.stats["llm"] == 1


def test_price_bound_without_a_number_in_the_query_is_dropped(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, answer("Hoodies", price_max=30, sort="price_asc"))
    parser = llm_parser(stub)
    parsed = parser.parse("s1", "cheap hoodie", vocab, taxonomy)
    assert [f.id for f in parsed.filters] == [f"category:{HOODIES}"]
    assert parsed.sort == Sort("price") and parser.stats["dropped"] == 1


def test_price_range_is_ordered_and_spans_both_numbers(stub, vocab, taxonomy):
    q = "hoodie between $40 and 20 dollars"
    stub.on(SCHEMA_NAME, answer("Hoodies", price_min=40, price_max=20))
    [_, price] = llm_parser(stub).parse("s1", q, vocab, taxonomy).filters
    assert price.id == "price:gte:20:lte:40" and q[price.span[0]:price.span[1]] == "between $40 and 20"


# ------------------------------------------------------------------------------------------ fallbacks


@pytest.mark.parametrize("reply", [
    Reply(content='{"category": "Hood'),  # cut off
    Reply(content="Sorry, I can't help with that."),
    Reply(content=json.dumps({"category": "Hoodies"})),  # not the schema's shape
    Reply(content=json.dumps({**json.loads(GOOD.content), "attributes": {"color": "Black"}})),
    Reply(body={"choices": []}),  # not a chat completion
], ids=["truncated", "prose", "missing-fields", "wrong-type", "envelope"])
def test_malformed_answer_falls_back_to_the_rules(stub, vocab, taxonomy, reply):
    stub.on(SCHEMA_NAME, reply, GOOD)
    parser = llm_parser(stub)
    assert parser.parse("s1", QUERY, vocab, taxonomy) == parse_query(QUERY, vocab, taxonomy)
    assert parser.stats == {"fallback_malformed": 1}
    # A bad answer is neither cached nor a reason to stop asking: the next query asks again.
    assert parser.parse("s1", QUERY, vocab, taxonomy).filters[0].confidence == CONF_LLM
    assert len(stub.chat_requests) == 2


def test_http_500_falls_back_once_then_the_rules_answer_for_the_cooldown(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, Reply(status=500), GOOD)
    now = [100.0]
    parser = llm_parser(stub, cooldown_s=10.0, clock=lambda: now[0])
    rules = parse_query(QUERY, vocab, taxonomy)
    assert parser.parse("s1", QUERY, vocab, taxonomy) == rules
    assert len(stub.chat_requests) == 1  # no retry on the real-time path
    assert parser.parse("s1", QUERY, vocab, taxonomy) == rules
    assert len(stub.chat_requests) == 1
    assert parser.stats == {"fallback_server_error": 1, "fallback_cooldown": 1}
    now[0] += 10.0
    assert parser.parse("s1", QUERY, vocab, taxonomy).filters[0].confidence == CONF_LLM
    assert len(stub.chat_requests) == 2


def test_slow_server_falls_back_within_the_timeout(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, Reply(content=GOOD.content, delay=2.0))
    parser = llm_parser(stub, timeout_s=0.2)
    started = time.monotonic()
    parsed = parser.parse("s1", QUERY, vocab, taxonomy)
    assert time.monotonic() - started < 1.5  # the client's timeout, not the server's delay
    assert parsed == parse_query(QUERY, vocab, taxonomy)
    assert parser.stats == {"fallback_timeout": 1}


def test_no_server_falls_back(vocab, taxonomy):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    parser = LLMQueryParser(OpenAIChatClient(f"http://127.0.0.1:{port}", "m", timeout_s=1, max_retries=0))
    assert parser.parse("s1", QUERY, vocab, taxonomy) == parse_query(QUERY, vocab, taxonomy)
    assert parser.stats == {"fallback_unavailable": 1}


def test_an_answer_that_reads_nothing_falls_back(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, answer("Sneakers", text="sneakers"))
    parser = llm_parser(stub)
    q = "red hoodie"
    assert parser.parse("s1", q, vocab, taxonomy) == parse_query(q, vocab, taxonomy)
    assert parser.stats == {"dropped": 1, "fallback_empty": 1}


# ------------------------------------------------------------------------------------------ cache


def test_cache_answers_a_repeated_query_without_a_request(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, GOOD)
    parser = llm_parser(stub)
    first = parser.parse("s1", QUERY, vocab, taxonomy)
    again = "  Black Hoodie for MEN under $60,   not cotton"
    second = parser.parse("s1", again, vocab, taxonomy)
    assert len(stub.chat_requests) == 1
    assert [f.id for f in second.filters] == [f.id for f in first.filters]
    color = second.filters[0]
    assert again[color.span[0]:color.span[1]] == "Black"  # spans index this query's text
    assert parser.stats == {"llm": 1, "cache": 1}
    # Stores never share answers.
    parser.parse("s2", QUERY, vocab, taxonomy)
    assert len(stub.chat_requests) == 2


def test_cache_is_bounded_least_recently_used_first(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, answer("Hoodies", text="hoodie"))
    parser = llm_parser(stub, cache_size=2)
    for q in ("hoodie a", "hoodie b", "hoodie a", "hoodie c", "hoodie a", "hoodie b"):
        parser.parse("s1", q, vocab, taxonomy)
    # "b" was evicted by "c" ("a" was used more recently), so it is asked twice.
    asked = [r["messages"][-1]["content"] for r in stub.chat_requests]
    assert asked == ["hoodie a", "hoodie b", "hoodie c", "hoodie b"]


# ------------------------------------------------------------------------------------------ wiring


def test_settings_choose_the_parser_and_default_to_the_extractors_server():
    assert isinstance(make_query_parser(Settings()), RulesQueryParser)
    parser = make_query_parser(Settings(QUERY_PARSER="llm", EXTRACTOR_URL="http://gpu:23333", EXTRACTOR_MODEL="llava",
                                        QUERY_PARSER_TIMEOUT="0.5"))
    try:
        assert isinstance(parser, LLMQueryParser)
        client = parser.client
        assert client.base_url == "http://gpu:23333/v1" and client.model == "llava"
        assert client.timeout_s == 0.5 and client.max_retries == 0
    finally:
        parser.close()
    parser = make_query_parser(Settings(QUERY_PARSER="llm", QUERY_PARSER_URL="http://llm:8000/v1",
                                        QUERY_PARSER_MODEL="qwen", EXTRACTOR_URL="http://gpu:23333",
                                        EXTRACTOR_MODEL="llava"))
    try:
        assert parser.client.base_url == "http://llm:8000/v1" and parser.client.model == "qwen"
    finally:
        parser.close()


class FakeLexical:
    """One hit for any query; remembers the filters and texts it was asked with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def stores(self) -> set[str]:
        return {"s1"}

    def search(self, store, text, flt, limit=10, sort=None) -> Hits:
        self.calls.append((text, flt))
        return Hits(total=1, hits=[Hit("p1", 1.0)])

    def facets(self, store, text, flt, field) -> list:
        return []

    def facets_many(self, store, text, flt, fields) -> dict:
        return {}

    def price_counts(self, store, text, flt, ranges) -> list:
        return [0] * len(ranges)


class FakeDocuments:
    def __init__(self, vocab: StoreVocabulary) -> None:
        self.vocab = vocab

    def vocabulary(self, store: str) -> StoreVocabulary:
        return self.vocab

    def category_groups(self, store: str) -> dict:
        return {}

    def get_many(self, store, ids) -> dict:
        return {}


def test_search_service_reads_queries_with_the_configured_llm_parser(stub, vocab, taxonomy):
    stub.on(SCHEMA_NAME, answer(attributes=[("color", "Lavender", False)], text="hoodie"))
    settings = Settings(QUERY_PARSER="llm", QUERY_PARSER_URL=stub.url, QUERY_PARSER_MODEL=stub.model)
    lexical = FakeLexical()
    service = SearchService(lexical, None, None, taxonomy, FakeDocuments(vocab), make_session_store(None),
                            parser=make_query_parser(settings))
    try:
        q = "hoodie in that purple-ish shade"  # no color name the rules know: only the model reads one
        assert not any(f.field == "attr.color" for f in parse_query(q, vocab, taxonomy).filters)
        response = service.search("s1", SearchRequest(q=q, mode="lexical"))
        [applied] = [f for f in response.applied_filters if f.field == "attr.color"]
        assert applied.id == "attr.color:color__lavender" and applied.confidence == CONF_LLM
        assert "color__lavender" in repr(lexical.calls[0][1])

        lexical.calls.clear()
        assert service.rank("s1", q, mode="lexical") == ["p1"]
        assert "color__lavender" in repr(lexical.calls[0][1])
        assert len(stub.chat_requests) == 1  # rank was answered from the cache
        assert service.parser.stats == {"llm": 1, "cache": 1}
    finally:
        service.close()
