"""The OpenAPI schema says what errors each route answers, in the one error body (search_api.errors).

FastAPI documents only a 422 with its own `{"detail": [...]}` shape, which no route of ours sends. Here every
operation gets the error responses it can give, each with the ErrorBody schema, from what the route is:
- every route: 422 (a parameter or body the schema refuses) and 500 (a bug; the body still says so);
- a route with a body: 400 (a body that cannot be parsed) and 413 (over the body cap, search_api.limits);
- a route behind a key (it declares the Bearer security): 401, 403 and 429 (search_api.auth, ratelimit);
- a route with path parameters: 404 (an unknown store, product, job, key, category);
- the photo routes: 415 (a file that is not a photo we read); suggest: 503 (every place taken).
A route that answers something else declares it itself with `responses=`; what it declares wins.
"""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from search_api.limits import UPLOAD_PATHS


class ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str  # stable, for programs: not_found, unauthorized, rate_limited, invalid_request, ...
    message: str  # for people


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


DESCRIPTIONS = {
    400: "The body could not be parsed",
    401: "No key, a malformed one, or an expired or revoked key",
    403: "The key does not open this store or lacks the scope",
    404: "Not found (an unknown store, or what the path names)",
    413: "The request body is over this route's limit",
    415: "A file that is not a photo in a format we read",
    422: "A parameter or the body is invalid",
    429: "Over the key's (or the address's) rate limit; see Retry-After",
    500: "Internal error",
    503: "The server is at capacity; see Retry-After",
}
REF = "#/components/schemas/ErrorBody"


def error_statuses(path: str, operation: dict) -> list[int]:
    statuses = [422, 500]
    if "requestBody" in operation:
        statuses += [400, 413]
    if operation.get("security"):
        statuses += [401, 403, 429]
    if any(parameter.get("in") == "path" for parameter in operation.get("parameters", [])):
        statuses.append(404)
    if UPLOAD_PATHS.match(path.replace("{store}", "s")):
        statuses.append(415)
        if path.endswith("/suggest"):
            statuses.append(503)
    return sorted(statuses)


def document_errors(app: FastAPI) -> None:
    """Make `app.openapi()` list each operation's error responses with the ErrorBody schema."""
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components["ErrorBody"] = body
        for name in ("HTTPValidationError", "ValidationError"):  # FastAPI's 422 shape, which we never send
            components.pop(name, None)
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status in error_statuses(path, operation):
                    declared = responses.get(str(status)) or {}
                    if declared.get("content") and "HTTPValidationError" not in str(declared):
                        continue  # the route said what it answers
                    responses[str(status)] = {
                        "description": declared.get("description") or DESCRIPTIONS[status],
                        "content": {"application/json": {"schema": {"$ref": REF}}}}
        return schema

    app.openapi = openapi
