"""Photo downloads against a real HTTP server on 127.0.0.1: the cache and its validators, retries, caps,
content sniffing, redirects and the SSRF guard (with and without IMAGE_FETCH_ALLOWLIST)."""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

from extractor.images import MAX_BYTES
from indexer.importers import fixture_path
from indexer.photos.cache import PhotoCache
from indexer.photos.fetch import FETCHES, FetchPolicy, PhotoFetcher
from indexer.photos.guard import Allowlist
from indexer.settings import Settings
from tests.photo_server import PhotoServer, send
from tests.required import service_missing

FAST = FetchPolicy(connect_timeout_s=2, read_timeout_s=0.4, attempt_timeout_s=5, attempts=3, backoff_s=0.01,
                   retry_after_cap_s=3)
PHOTOS = sorted((fixture_path() / "images").rglob("*.jpg"))


@pytest.fixture
def server():
    with PhotoServer() as running:
        yield running


def fetcher(tmp_path, allow: str = "127.0.0.1", policy: FetchPolicy = FAST) -> PhotoFetcher:
    return PhotoFetcher(PhotoCache(tmp_path / "photos"), Allowlist.parse(allow), policy)


def fetch_one(tmp_path, url: str, **kwargs):
    return fetcher(tmp_path, **kwargs).fetch_all([url])[url]


def sequence(*handlers):
    """A route answering with each handler in turn, the last one for ever after."""
    calls = iter(range(10_000))

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handlers[min(next(calls), len(handlers) - 1)](handler)

    return handle


def status(code: int, headers: dict[str, str] | None = None):
    return lambda handler: send(handler, code, b"oops", {"Content-Type": "text/plain", **(headers or {})})


# ------------------------------------------------------------------ photos, cache and validators

def test_fixture_photos_are_fetched_into_the_content_addressed_cache(tmp_path, server):
    urls = server.serve_files(fixture_path() / "images", PHOTOS[:5])
    results = fetcher(tmp_path).fetch_all(urls.values())
    for file, url in urls.items():
        result = results[url]
        assert result.outcome == "fetched" and result.error is None
        assert result.path.read_bytes() == file.read_bytes()
        assert result.path.parent.parent == tmp_path / "photos" / "blobs"
    assert len(server.log) == 5


def test_the_same_url_twice_in_one_call_is_one_request(tmp_path, server):
    url = server.photo("/a.jpg", PHOTOS[0].read_bytes())
    results = fetcher(tmp_path).fetch_all([url, url, url])
    assert list(results) == [url] and len(server.log) == 1


def test_a_fresh_cached_photo_is_used_without_a_request(tmp_path, server):
    url = server.photo("/fresh.jpg", PHOTOS[0].read_bytes(), cache_control="max-age=3600")
    assert fetch_one(tmp_path, url).outcome == "fetched"
    before = FETCHES.labels("cached")._value.get()
    again = fetch_one(tmp_path, url)
    assert again.outcome == "cached" and again.path.read_bytes() == PHOTOS[0].read_bytes()
    assert len(server.log) == 1
    assert FETCHES.labels("cached")._value.get() == before + 1


def test_a_stale_photo_is_revalidated_with_its_etag_and_a_304_downloads_nothing(tmp_path, server):
    url = server.photo("/etag.jpg", PHOTOS[1].read_bytes(), cache_control="no-cache")
    first = fetch_one(tmp_path, url)
    second = fetch_one(tmp_path, url)
    assert (first.outcome, second.outcome) == ("fetched", "revalidated")
    assert second.path == first.path
    plain, conditional = server.requests_for("/etag.jpg")
    assert "if-none-match" not in plain.headers
    assert conditional.headers["if-none-match"] == f'"{hashlib.sha1(PHOTOS[1].read_bytes()).hexdigest()}"'


def test_last_modified_alone_is_revalidated_with_if_modified_since(tmp_path, server):
    url = server.photo("/lm.jpg", PHOTOS[2].read_bytes(), etag=False, cache_control="max-age=0")
    assert fetch_one(tmp_path, url).outcome == "fetched"
    assert fetch_one(tmp_path, url).outcome == "revalidated"
    first, second = server.requests_for("/lm.jpg")
    assert "if-modified-since" not in first.headers and second.headers["if-modified-since"]


def test_a_changed_photo_replaces_the_cached_one(tmp_path, server):
    server.photo("/same-url.jpg", PHOTOS[0].read_bytes(), cache_control="no-cache")
    url = server.url("/same-url.jpg")
    first = fetch_one(tmp_path, url)
    server.photo("/same-url.jpg", PHOTOS[3].read_bytes(), cache_control="no-cache")
    second = fetch_one(tmp_path, url)
    assert second.outcome == "fetched" and second.path != first.path
    assert second.path.read_bytes() == PHOTOS[3].read_bytes()


def test_a_server_error_while_revalidating_uses_the_copy_we_have(tmp_path, server):
    data = PHOTOS[0].read_bytes()
    server.route("/flaky.jpg", sequence(lambda h: send(h, 200, data, {"Content-Type": "image/jpeg", "ETag": '"x"',
                                                                       "Cache-Control": "no-cache"}),
                                        status(503)))
    url = server.url("/flaky.jpg")
    assert fetch_one(tmp_path, url).outcome == "fetched"
    stale = fetch_one(tmp_path, url)
    assert stale.outcome == "stale" and stale.path.read_bytes() == data and "HTTP 503" in stale.error


# ------------------------------------------------------------------ failures and retries

def test_a_slow_server_times_out_on_read(tmp_path, server):
    def slow(handler):
        time.sleep(1.5)
        send(handler, 200, PHOTOS[0].read_bytes(), {"Content-Type": "image/jpeg"})

    url = server.route("/slow.jpg", slow)
    result = fetch_one(tmp_path, url, policy=FetchPolicy(read_timeout_s=0.3, attempts=2, backoff_s=0.01))
    assert result.outcome == "failed" and result.kind == "unreachable" and "timed out" in result.error
    assert len(server.requests_for("/slow.jpg")) == 2  # retried once, then given up


def test_404_fails_at_once(tmp_path, server):
    result = fetch_one(tmp_path, server.url("/missing.jpg"))
    assert (result.outcome, result.kind, result.error) == ("failed", "http_error", "HTTP 404")
    assert len(server.log) == 1
    assert not any((tmp_path / "photos").rglob("*.json"))  # nothing cached: the next index tries again


def test_500_then_success_is_retried(tmp_path, server):
    data = PHOTOS[4].read_bytes()
    url = server.route("/recover.jpg", sequence(status(500), status(502),
                                                lambda h: send(h, 200, data, {"Content-Type": "image/jpeg"})))
    result = fetch_one(tmp_path, url)
    assert result.outcome == "fetched" and result.path.read_bytes() == data
    assert len(server.requests_for("/recover.jpg")) == 3


def test_persistent_500_fails_after_the_bounded_retries(tmp_path, server):
    result = fetch_one(tmp_path, server.route("/down.jpg", status(500)))
    assert result.outcome == "failed" and result.error == "HTTP 500"
    assert len(server.log) == FAST.attempts


def test_429_waits_for_retry_after(tmp_path, server):
    data = PHOTOS[0].read_bytes()
    url = server.route("/limited.jpg", sequence(status(429, {"Retry-After": "1"}),
                                                lambda h: send(h, 200, data, {"Content-Type": "image/jpeg"})))
    started = time.monotonic()
    result = fetch_one(tmp_path, url)
    assert result.outcome == "fetched" and time.monotonic() - started >= 1.0


def test_a_retry_after_over_the_cap_fails_now_rather_than_waiting(tmp_path, server):
    url = server.route("/later.jpg", status(429, {"Retry-After": "120"}))
    started = time.monotonic()
    result = fetch_one(tmp_path, url)
    assert result.outcome == "failed" and "Retry-After 120 s" in result.error
    assert time.monotonic() - started < 2 and len(server.log) == 1


def test_an_html_page_is_refused_by_its_content_type(tmp_path, server):
    url = server.route("/page.jpg", lambda h: send(h, 200, b"<html>hi</html>", {"Content-Type": "text/html"}))
    result = fetch_one(tmp_path, url)
    assert result.kind == "not_image" and "text/html" in result.error


def test_bytes_that_are_not_an_image_are_refused_whatever_the_header_says(tmp_path, server):
    url = server.route("/fake.jpg", lambda h: send(h, 200, b"GIF89a not really" * 50, {"Content-Type": "image/jpeg"}))
    result = fetch_one(tmp_path, url)
    assert result.kind == "not_image" and "not an image" in result.error


def test_a_truncated_jpeg_is_refused(tmp_path, server):
    data = PHOTOS[0].read_bytes()
    url = server.route("/half.jpg", lambda h: send(h, 200, data[: len(data) // 2], {"Content-Type": "image/jpeg"}))
    result = fetch_one(tmp_path, url)
    assert result.kind == "not_image" and "truncated" in result.error


def test_a_body_shorter_than_its_content_length_is_an_incomplete_answer(tmp_path, server):
    data = PHOTOS[0].read_bytes()

    def cut(handler):
        send(handler, 200, data[:1000], {"Content-Type": "image/jpeg"}, length=len(data))
        handler.close_connection = True

    result = fetch_one(tmp_path, server.route("/cut.jpg", cut))
    assert result.outcome == "failed" and result.kind == "unreachable" and "incomplete" in result.error


def test_a_declared_oversize_body_is_refused_unread(tmp_path, server):
    def huge(handler):
        send(handler, 200, b"", {"Content-Type": "image/jpeg", "Content-Length": str(MAX_BYTES + 1)})
        handler.close_connection = True

    result = fetch_one(tmp_path, server.route("/huge.jpg", huge))
    assert result.kind == "too_large" and str(MAX_BYTES + 1) in result.error


def test_an_undeclared_oversize_body_is_cut_at_the_cap(tmp_path, server):
    assert FetchPolicy().max_bytes == MAX_BYTES

    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Connection", "close")  # no Content-Length: the body runs until the close
        handler.end_headers()
        handler.close_connection = True
        chunk = b"\xff" * 65536
        try:
            for _ in range(MAX_BYTES // len(chunk) + 20):
                handler.wfile.write(chunk)
        except OSError:  # the client hung up at the cap
            pass

    result = fetch_one(tmp_path, server.route("/endless.jpg", endless))
    assert result.kind == "too_large" and f"over the {MAX_BYTES} byte limit" in result.error


def test_concurrency_per_host_is_bounded(tmp_path, server):
    data = PHOTOS[0].read_bytes()
    lock, active, peak = threading.Lock(), [0], [0]

    def counted(handler):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.15)
        with lock:
            active[0] -= 1
        send(handler, 200, data, {"Content-Type": "image/jpeg"})

    urls = [server.route(f"/c{i}.jpg", counted) for i in range(12)]
    policy = FetchPolicy(per_host=3, concurrency=16)
    results = fetcher(tmp_path, policy=policy).fetch_all(urls)
    assert all(r.outcome == "fetched" for r in results.values())
    assert peak[0] == 3


def test_waiting_for_a_slot_does_not_count_against_the_deadline(tmp_path, server):
    data = PHOTOS[0].read_bytes()

    def steady(handler):
        time.sleep(0.2)
        send(handler, 200, data, {"Content-Type": "image/jpeg"})

    urls = [server.route(f"/q{i}.jpg", steady) for i in range(6)]
    policy = FetchPolicy(per_host=1, attempt_timeout_s=0.5, attempts=1)  # 6 x 0.2 s in a row: 1.2 s in all
    results = fetcher(tmp_path, policy=policy).fetch_all(urls)
    assert [r.outcome for r in results.values()] == ["fetched"] * 6


def test_a_server_trickling_bytes_meets_the_attempt_deadline(tmp_path, server):
    def trickle(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "image/jpeg")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            for _ in range(100):
                handler.wfile.write(b"\xff" * 10)
                handler.wfile.flush()
                time.sleep(0.05)  # always within the read timeout, never done
        except OSError:
            pass

    policy = FetchPolicy(read_timeout_s=1, attempt_timeout_s=0.6, attempts=1)
    result = fetch_one(tmp_path, server.route("/trickle.jpg", trickle), policy=policy)
    assert result.outcome == "failed" and "no complete answer within 0.6 s" in result.error


# ------------------------------------------------------------------ redirects

def test_redirects_are_followed_up_to_three(tmp_path, server):
    url = server.photo("/final.jpg", PHOTOS[0].read_bytes())
    for hop in (3, 2, 1):
        target = "/final.jpg" if hop == 3 else f"/hop{hop + 1}"
        server.route(f"/hop{hop}", lambda h, t=target: send(h, 302, headers={"Location": t}))
    result = fetch_one(tmp_path, server.url("/hop1"))
    assert result.outcome == "fetched" and url in [server.url(s.path) for s in server.log]
    # The cache entry belongs to the URL asked for.
    assert fetcher(tmp_path).cache.get(server.url("/hop1")) is not None


def test_a_fourth_redirect_is_refused(tmp_path, server):
    for hop in range(1, 6):
        server.route(f"/r{hop}", lambda h, n=hop: send(h, 301, headers={"Location": f"/r{n + 1}"}))
    result = fetch_one(tmp_path, server.url("/r1"))
    assert result.kind == "http_error" and "more than 3 redirects" in result.error
    assert [s.path for s in server.log] == ["/r1", "/r2", "/r3", "/r4"]


def test_a_redirect_loop_is_refused(tmp_path, server):
    server.route("/ping", lambda h: send(h, 302, headers={"Location": "/pong"}))
    server.route("/pong", lambda h: send(h, 302, headers={"Location": server.url("/ping")}))
    result = fetch_one(tmp_path, server.url("/ping"))
    assert result.outcome == "failed" and "redirect loop" in result.error


def test_a_redirect_to_a_private_address_is_refused_after_the_allowed_hop(tmp_path, server):
    """Only the host name `localhost` is allowed: its first hop passes by name, the redirect to the
    loopback address 127.0.0.1 must be checked again and refused, and never requested."""
    server.photo("/inside.jpg", PHOTOS[0].read_bytes())
    server.route("/jump", lambda h: send(h, 302, headers={"Location": server.url("/inside.jpg")}))
    direct = fetch_one(tmp_path, server.url("/inside.jpg", host="localhost"), allow="localhost")
    assert direct.outcome == "fetched"
    assert server.log[-1].headers["host"] == f"localhost:{server.port}"  # pinned address, original Host
    result = fetch_one(tmp_path / "other", server.url("/jump", host="localhost"), allow="localhost")
    assert result.outcome == "failed" and result.kind == "refused"
    assert "127.0.0.1" in result.error and "loopback" in result.error
    assert [s.path for s in server.log] == ["/inside.jpg", "/jump"]


# ------------------------------------------------------------------ the guard

@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/photo.jpg", "gopher://127.0.0.1/",
                                 "data:image/png;base64,AAAA", "//127.0.0.1/x.jpg"])
def test_other_schemes_are_refused(tmp_path, server, url):
    result = fetch_one(tmp_path, url)
    assert result.outcome == "failed" and result.kind == "refused" and "only http and https" in result.error
    assert server.log == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "2130706433", "[::ffff:127.0.0.1]"])
def test_without_the_allowlist_loopback_is_refused(tmp_path, server, host):
    server.photo("/x.jpg", PHOTOS[0].read_bytes())
    settings = Settings(CATALOG_HOME=tmp_path, IMAGE_FETCH_ALLOWLIST="")
    url = f"http://{host}:{server.port}/x.jpg"
    result = PhotoFetcher.from_settings(settings).fetch_all([url])[url]
    assert result.outcome == "failed" and result.kind == "refused" and "loopback" in result.error
    assert server.log == []


def test_the_allowlist_comes_from_the_settings(tmp_path, server):
    url = server.photo("/ok.jpg", PHOTOS[0].read_bytes())
    settings = Settings(CATALOG_HOME=tmp_path, IMAGE_FETCH_ALLOWLIST="127.0.0.0/8")
    assert PhotoFetcher.from_settings(settings).fetch_all([url])[url].outcome == "fetched"
    assert (tmp_path / "photos" / "blobs").is_dir()


# ------------------------------------------------------------------ https: pinned address, checked name

@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for the name `localhost` only (made with the openssl command)."""
    if shutil.which("openssl") is None:
        service_missing("no openssl command to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


@pytest.fixture
def tls_server(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    with PhotoServer(tls=context) as running:
        running.photo("/secure.jpg", PHOTOS[0].read_bytes())
        yield running


def test_https_connects_to_the_checked_address_and_verifies_the_host_name(tmp_path, tls_server, certificate):
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    url = tls_server.url("/secure.jpg", host="localhost")
    good = PhotoFetcher(PhotoCache(tmp_path / "a"), Allowlist.parse("localhost"), FAST, verify=trust).fetch_all([url])
    assert good[url].outcome == "fetched", good[url].error
    assert tls_server.log[-1].headers["host"] == f"localhost:{tls_server.port}"
    # The same server by address: the certificate names `localhost`, not 127.0.0.1, so TLS must refuse it
    # (the pinned connection still checks the certificate against the name in the URL).
    by_address = tls_server.url("/secure.jpg")
    bad = PhotoFetcher(PhotoCache(tmp_path / "b"), Allowlist.parse("127.0.0.1"), FAST,
                       verify=trust).fetch_all([by_address])[by_address]
    assert bad.outcome == "failed" and "CERTIFICATE_VERIFY_FAILED" in bad.error
    assert bad.error.startswith("TLS to 127.0.0.1 failed")  # not retried: it will not fit any better later
