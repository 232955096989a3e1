"""A scriptable OpenAI-wire-format chat-completions server for tests (stdlib http.server, real sockets).

    with OpenAIStub() as stub:
        stub.on("product_category", Reply(content='{"category_id": "aa-1-13-13"}'))
        stub.on("product_attributes", Reply(status=500), Reply(content=json.dumps({...})))
        OpenAIExtractor(stub.url, stub.model).extract([...])
        stub.chat_requests  # the JSON bodies it received

Replies are scripted per JSON-schema name (`response_format.json_schema.name`) and consumed in order; the
last one keeps answering. Without a script the stub answers validly from the schema itself: the first
enum of a category schema, empty attribute lists.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    content: str | None = None  # wrapped in a chat.completion envelope
    body: Any = None  # a JSON body sent as is (instead of `content`)
    raw: bytes | None = None  # raw bytes sent as is
    delay: float = 0.0  # seconds to wait before answering (timeouts)
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[dict[str, Any]], Reply]


def completion(content: str, model: str = "stub") -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": int(time.time()), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def schema_of(request: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    spec = (request.get("response_format") or {}).get("json_schema") or {}
    return spec.get("name", ""), spec.get("schema") or {}


def default_answer(request: dict[str, Any]) -> str:
    """A valid answer built from the request's schema."""
    _name, schema = schema_of(request)
    props = schema.get("properties", {})
    if "category_id" in props:
        return json.dumps({"category_id": props["category_id"]["enum"][0]})
    handles = props.get("attributes", {}).get("properties", {})
    return json.dumps({"description": "A product.", "attributes": {h: [] for h in handles}, "unsafe": []})


class OpenAIStub:
    def __init__(self, model: str = "stub-llava-awq", input_modalities: list[str] | None = None) -> None:
        self.model = model
        # Listed in /v1/models as llama.cpp does (`architecture.input_modalities`) when given; LMDeploy does not.
        self.input_modalities = input_modalities
        self.requests: list[dict[str, Any]] = []  # every request: method, path, headers, json
        self.responder: Responder | None = None  # overrides the scripts when set
        self._scripts: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True  # a handler asleep in a "slow" reply must not block shutdown
        # A short poll interval keeps shutdown (once per test) fast.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="openai-stub", daemon=True)

    # ------------------------------------------------------------------ control

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/v1"

    def on(self, schema_name: str, *replies: Reply) -> None:
        with self._lock:
            self._scripts[schema_name] = list(replies)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r["json"] for r in self.requests if r["path"].endswith("/chat/completions")]

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> OpenAIStub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ serving

    def _reply_for(self, request: dict[str, Any]) -> Reply:
        if self.responder is not None:
            return self.responder(request)
        name, _schema = schema_of(request)
        with self._lock:
            script = self._scripts.get(name)
            if script:
                return script.pop(0) if len(script) > 1 else script[0]
        return Reply(content=default_answer(request))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
                pass

            def _send(self, status: int, payload: bytes, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout): fine
                    pass

            def do_GET(self) -> None:
                stub.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers),
                                      "json": None})
                if self.path.rstrip("/").endswith("/models"):
                    listed: dict[str, Any] = {"id": stub.model, "object": "model"}
                    if stub.input_modalities is not None:
                        listed["architecture"] = {"input_modalities": stub.input_modalities}
                    body = {"object": "list", "data": [listed]}
                    self._send(200, json.dumps(body).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    request = json.loads(raw)
                except ValueError:
                    request = {"_unparsed": raw.decode("utf-8", "replace")}
                with stub._lock:
                    stub.requests.append({"method": "POST", "path": self.path,
                                          "headers": dict(self.headers), "json": request})
                    stub.in_flight += 1
                    stub.max_in_flight = max(stub.max_in_flight, stub.in_flight)
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    with stub._lock:
                        stub.in_flight -= 1
                    self._send(404, b'{"error": "not found"}')
                    return
                try:
                    reply = stub._reply_for(request)
                    if reply.delay:
                        time.sleep(reply.delay)
                    if reply.raw is not None:
                        payload = reply.raw
                    elif reply.body is not None:
                        payload = json.dumps(reply.body).encode()
                    elif reply.content is not None:
                        payload = json.dumps(completion(reply.content, stub.model)).encode()
                    else:
                        payload = json.dumps({"error": {"message": f"stub status {reply.status}"}}).encode()
                finally:
                    # Counted out before the answer is sent: once it is, the client may send its next
                    # request before this thread runs again, which would count one request twice.
                    with stub._lock:
                        stub.in_flight -= 1
                self._send(reply.status, payload, reply.headers)

        return Handler
