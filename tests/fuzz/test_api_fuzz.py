"""Every route fuzzed from the app's own OpenAPI schema (schemathesis, in process over ASGI).

Each operation gets a bounded number of generated requests: with the store's admin key, without a key, with
another store's key, with a search-only key, and malformed (schemathesis' negative mode: wrong types, missing
fields, values outside the schema). Every response must be no 5xx, an error in the one documented body
({"error": {"code", "message"}}), and what the schema says: a documented status code, content type and body.

(Schemathesis' own pytest plugin, `schema.parametrize()`, does not run under pytest 9: it writes the removed
`Function._nodeid`. So each operation is a pytest parameter here and its cases come from the operation's
Hypothesis strategy, which is the same generation.)
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def _operations() -> dict[str, dict]:
    from search_api.app import create_app

    paths = create_app().openapi()["paths"]  # the schema alone: no runtime is built
    return {f"{method.upper()} {path}": operation for path, methods in paths.items()
            for method, operation in methods.items()}


OPERATIONS = _operations()
LABELS = list(OPERATIONS)
# Negative mode needs something to get wrong: a parameter or a body.
WITH_INPUT = [label for label, op in OPERATIONS.items() if op.get("parameters") or "requestBody" in op]
WITH_JSON_BODY = [label for label, op in OPERATIONS.items()
                  if "application/json" in op.get("requestBody", {}).get("content", {})]


def error_body_is_documented(ctx, response, case) -> bool | None:
    """Every 4xx/5xx is {"error": {"code": str, "message": str}} and nothing else."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} is not JSON: {response.content[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(body, dict) and set(body) == {"error"}, f"not the error body: {body!r}"[:300]
    assert isinstance(error, dict) and set(error) == {"code", "message"}, f"not the error body: {body!r}"[:300]
    assert isinstance(error["code"], str) and isinstance(error["message"], str), body
    return True


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          error_body_is_documented]


def fuzz(schema, label: str, *, examples: int, key: str | None, store: str = "demo",
         mode: GenerationMode = GenerationMode.POSITIVE, also=None) -> None:
    """`examples` generated requests to one operation, each sent and checked."""
    operation = schema.find_operation_by_label(label)
    assert operation is not None, label
    fixed = {"store": store} if "{store}" in operation.path else None
    headers = {"Authorization": f"Bearer {key}"} if key else None
    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)

    @given(case=strategy)
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None, phases=[Phase.explicit, Phase.generate])
    def run(case):
        if not key and case.headers:  # "without a key" means none at all, not one generated from the schema
            case.headers = {k: v for k, v in case.headers.items() if k.lower() != "authorization"}
        response = case.call_and_validate(headers=headers, checks=CHECKS)
        if also is not None:
            also(case, response)

    run()


@pytest.mark.parametrize("label", LABELS)
def test_with_the_stores_admin_key(label, fuzz_app, api_schema):
    fuzz(api_schema, label, examples=12, key=fuzz_app.keys.demo_admin)


PUBLIC = ("/search", "/images/{n}")  # demo's search is public: these answer a caller without a key


@pytest.mark.parametrize("label", LABELS)
def test_without_a_key(label, fuzz_app, api_schema):
    def only_public_search(case, response):
        if response.status_code < 400 or response.status_code == 404:
            assert case.operation.path.endswith(PUBLIC), (label, response.status_code)

    fuzz(api_schema, label, examples=4, key=None, also=only_public_search if "{store}" in label else None)


@pytest.mark.parametrize("label", LABELS)
def test_with_another_stores_key(label, fuzz_app, api_schema):
    def refused_without_telling(case, response):
        # A key of store `other` opens nothing of demo's but what anyone may read (demo's public search,
        # where it counts as no key), and the answer does not say whether demo exists.
        if case.operation.path.endswith(PUBLIC):
            return
        assert response.status_code in (400, 403, 413, 422), (label, response.status_code, response.text[:200])

    fuzz(api_schema, label, examples=4, key=fuzz_app.keys.other_admin,
         also=refused_without_telling if "{store}" in label else None)


@pytest.mark.parametrize("label", LABELS)
def test_with_a_search_only_key(label, fuzz_app, api_schema):
    fuzz(api_schema, label, examples=4, key=fuzz_app.keys.demo_search)


@pytest.mark.parametrize("label", WITH_INPUT)
def test_malformed_requests(label, fuzz_app, api_schema):
    fuzz(api_schema, label, examples=8, key=fuzz_app.keys.demo_admin, mode=GenerationMode.NEGATIVE)


def _send(fuzz_app, label: str, body: bytes, content_type: str = "application/json"):
    from fastapi.testclient import TestClient

    method, path = label.split(" ", 1)
    path = path.replace("{store}", "demo").replace("{product_id}", "p1")
    client = TestClient(fuzz_app.app)  # the fuzz fixture's runtime: no lifespan of its own
    return client.request(method, path, content=body, headers={
        "Authorization": f"Bearer {fuzz_app.keys.demo_admin}", "Content-Type": content_type})


def assert_error(response, status: int, schema) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    declared = OPERATIONS[f"{response.request.method} {_template(response.request.url.path)}"]["responses"]
    assert str(status) in declared, (status, sorted(declared))
    return body["error"]


def _template(path: str) -> str:
    for label in OPERATIONS:
        template = label.split(" ", 1)[1]
        if template.replace("{store}", "demo").replace("{product_id}", "p1") == path:
            return template
    raise AssertionError(path)


@pytest.mark.parametrize("label", WITH_JSON_BODY)
def test_a_huge_body_is_a_413_on_every_json_route(label, fuzz_app, api_schema):
    from search_api.limits import JSON_MAX_BYTES

    body = b'{"q": "' + b"x" * JSON_MAX_BYTES + b'"}'
    error = assert_error(_send(fuzz_app, label, body), 413, api_schema)
    assert error["code"] == "request_too_large"


@pytest.mark.parametrize("label", WITH_JSON_BODY)
@pytest.mark.parametrize(("body", "status"), [(b'{"q": ', 422), (b"[1, 2", 422), (b"null", 422), (b'"text"', 422),
                                              (b"{}" * 1000, 422), (b"\xff\xfe{", 400)])  # not even UTF-8: 400
def test_a_malformed_json_body_is_refused_in_the_error_body(label, body, status, fuzz_app, api_schema):
    error = assert_error(_send(fuzz_app, label, body), status, api_schema)
    assert error["code"] == "invalid_request"


@pytest.mark.parametrize("spec", [
    {"field": "", "op": "in", "values": []}, {"field": "price", "op": "in", "values": []},
    {"field": "price", "op": "range"}, {"field": "price", "op": "range", "gte": 9, "lte": 1},
    {"field": "attr.color", "op": "eq", "values": ["a", "b"]}])
def test_a_filter_the_search_cannot_apply_is_a_422_not_a_500(spec, fuzz_app, api_schema):
    # The one 500 from schemathesis against `make demo`: {"filters": [{"field": "", "op": "in", ...}]}.
    response = _send(fuzz_app, "POST /v1/stores/{store}/search", json.dumps({"filters": [spec]}).encode())
    assert "filters.0" in assert_error(response, 422, api_schema)["message"]
