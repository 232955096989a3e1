"""A real HTTP server on 127.0.0.1 for photo-download tests: routes the test defines, fixture photos with
ETag / Last-Modified (answering conditional requests with 304), and a log of every request it got."""

from __future__ import annotations

import hashlib
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]


def send(handler: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
         *, length: int | None = None) -> None:
    """Answer with `body`; `length` declares another Content-Length (a truncated or chunk-less body)."""
    handler.send_response(status)
    headers = dict(headers or {})
    headers.setdefault("Content-Length", str(len(body) if length is None else length))
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.end_headers()
    if body and handler.command != "HEAD":
        handler.wfile.write(body)


def photo_route(data: bytes, *, content_type: str = "image/jpeg", etag: bool = True, last_modified: bool = True,
                cache_control: str | None = None) -> Handler:
    """A photo with validators; a matching If-None-Match or If-Modified-Since gets a 304."""
    tag = f'"{hashlib.sha1(data).hexdigest()}"'
    modified = formatdate(time.time() - 3600, usegmt=True)

    def handle(handler: BaseHTTPRequestHandler) -> None:
        headers = {"Content-Type": content_type}
        if etag:
            headers["ETag"] = tag
        if last_modified:
            headers["Last-Modified"] = modified
        if cache_control:
            headers["Cache-Control"] = cache_control
        if (etag and handler.headers.get("If-None-Match") == tag) or (
                not etag and last_modified and handler.headers.get("If-Modified-Since") == modified):
            send(handler, 304, headers={k: v for k, v in headers.items() if k != "Content-Type"})
            return
        send(handler, 200, data, headers)

    return handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the default backlog of 5 drops connections when many open at once


class PhotoServer:
    """`tls`: an SSLContext with the server's certificate, to serve https."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.routes: dict[str, Handler] = {}
        self.log: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms each)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                with server._lock:
                    server.log.append(Seen("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
                route = server.routes.get(self.path.split("?", 1)[0])
                if route is None:
                    send(self, 404, b"not found", {"Content-Type": "text/plain"})
                else:
                    route(self)

            def log_message(self, *args: object) -> None:  # quiet
                pass

        self.httpd = _Server(("127.0.0.1", 0), _Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> PhotoServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"{self.scheme}://{host}:{self.port}{path}"

    def route(self, path: str, handler: Handler) -> str:
        self.routes[path] = handler
        return self.url(path)

    def photo(self, path: str, data: bytes, **options) -> str:
        return self.route(path, photo_route(data, **options))

    def serve_files(self, root: Path, files: list[Path], prefix: str = "/photos/", **options) -> dict[Path, str]:
        """Each file under `root` served at prefix + its relative path; their URLs by file."""
        return {file: self.photo(prefix + file.relative_to(root).as_posix(), file.read_bytes(), **options)
                for file in files}

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.log if seen.path == path]
