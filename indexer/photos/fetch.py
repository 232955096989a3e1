"""Downloads of product photos named by http(s) URL, into the photo cache (cache.py), behind the guard
(guard.py).

httpx AsyncClients (one per host, per call of `fetch_all`), bounded concurrency overall and per host, connect,
read and per-attempt deadlines, bounded retries with backoff on 429, 5xx and network errors (Retry-After
honoured up to a cap), a byte cap while streaming, redirects followed here (at most 3) so that every hop
passes the guard, and bytes kept only when they decode as an image. Each request goes to the address the
guard checked (the URL's host swapped for it; Host header and TLS name unchanged), so DNS rebinding between
the check and the connection cannot reach another address. A fresh cache entry is used without a request; a
stale one is revalidated with its ETag / Last-Modified. Proxies from the environment are not used.
"""

from __future__ import annotations

import asyncio
import functools
import random
import ssl
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urljoin

import httpx
from prometheus_client import Counter

from extractor.images import MAX_BYTES, ImageError, decode_image
from indexer.photos.cache import CacheEntry, PhotoCache
from indexer.photos.guard import Allowlist, PhotoRefused, checked_addresses

Outcome = Literal["fetched", "cached", "revalidated", "stale", "failed"]
# What went wrong, so the suggest endpoint can answer with the right status.
FailureKind = Literal["refused", "too_large", "not_image", "http_error", "unreachable"]

FETCHES = Counter("catalog_image_fetch_total", "Photo downloads by outcome "
                  "(fetched, cached: fresh copy used, revalidated: 304, stale: old copy on error, failed)",
                  ["outcome"])

REDIRECTS = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Bodies of these types are refused unread: an error page or an API answer is never a photo.
NOT_PHOTO_TYPES = ("text/", "application/json", "application/xml", "application/xhtml")
SNIFF_DRAFT = (64, 64)  # JPEGs are verified at 1/8 scale: still reads every byte, so truncation shows
USER_AGENT = "catalog-photo-fetcher/1"

T = TypeVar("T")


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 15.0
    attempt_timeout_s: float = 30.0  # a server trickling bytes within the read timeout still ends here
    concurrency: int = 16
    per_host: int = 6
    attempts: int = 3
    backoff_s: float = 0.5  # doubled per attempt, with jitter
    retry_after_cap_s: float = 10.0  # a longer Retry-After is a failure now, retried at the next index
    max_redirects: int = 3
    max_bytes: int = MAX_BYTES


@dataclass(frozen=True)
class Fetched:
    url: str
    outcome: Outcome
    path: Path | None = None  # the cached bytes, when there are some
    error: str | None = None  # why it failed (or why a stale copy was used)
    kind: FailureKind | None = None

    @property
    def ok(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class _Reply:
    headers: dict[str, str]  # lower-cased names
    body: bytes | None  # None: 304, the cached bytes are still right


class FetchFailed(Exception):
    def __init__(self, kind: FailureKind, message: str, *, transient: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.transient = transient
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Retry-After as seconds: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def backoff_delay(policy: FetchPolicy, attempt: int, failure: FetchFailed) -> float:
    if failure.retry_after is not None:
        return failure.retry_after
    return policy.backoff_s * (2 ** attempt) * random.uniform(0.5, 1.0)


def declared_not_photo(content_type: str) -> bool:
    return content_type.lower().startswith(NOT_PHOTO_TYPES)


def sniff(data: bytes, max_bytes: int) -> None:
    """The bytes must decode as an allowed image under the pixel cap; FetchFailed('not_image') else."""
    try:
        decode_image(data, max_bytes=max_bytes, draft_size=SNIFF_DRAFT)
    except ImageError as exc:
        raise FetchFailed("not_image", str(exc)) from exc


@functools.lru_cache(maxsize=1)
def default_tls() -> ssl.SSLContext:
    """The CA bundle httpx trusts, loaded once per process: loading it costs about 30 ms, once per client."""
    return httpx.create_ssl_context()


def _tls_refused(exc: BaseException) -> bool:
    cause = exc.__cause__ or exc.__context__
    return isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc)


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous code, also from a thread whose event loop is running
    (then on a helper thread: a loop cannot be re-entered)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="photo-fetch")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["value"]


class _Run:
    """What one `fetch_many` call shares: the overall and per-host concurrency bounds, and one client per
    host. Per host, because connections go to checked addresses: a pooled TLS connection to an address
    must never carry a request for another host name than the one its certificate was verified for."""

    def __init__(self, policy: FetchPolicy, verify: ssl.SSLContext) -> None:
        self.policy = policy
        self.verify = verify
        self.overall = asyncio.Semaphore(policy.concurrency)
        self.hosts: defaultdict[str, asyncio.Semaphore] = defaultdict(lambda: asyncio.Semaphore(policy.per_host))
        self.clients: dict[str, httpx.AsyncClient] = {}

    def client(self, host: str) -> httpx.AsyncClient:
        if host not in self.clients:
            policy = self.policy
            timeout = httpx.Timeout(connect=policy.connect_timeout_s, read=policy.read_timeout_s,
                                    write=policy.read_timeout_s, pool=None)
            # trust_env off: a proxy from the environment would connect for us, around the address check.
            self.clients[host] = httpx.AsyncClient(
                timeout=timeout, follow_redirects=False, trust_env=False, verify=self.verify,
                headers={"User-Agent": USER_AGENT, "Accept": "image/*"},
                limits=httpx.Limits(max_connections=policy.per_host))
        return self.clients[host]

    async def aclose(self) -> None:
        await asyncio.gather(*(client.aclose() for client in self.clients.values()))


class PhotoFetcher:
    def __init__(self, cache: PhotoCache, allowlist: Allowlist | None = None,
                 policy: FetchPolicy | None = None, *, clock: Callable[[], float] = time.time,
                 verify: ssl.SSLContext | None = None) -> None:
        self.cache = cache
        self.allowlist = allowlist or Allowlist()
        self.policy = policy or FetchPolicy()
        self.clock = clock
        self.verify = verify  # a context trusting a private CA; None: httpx's CA bundle (default_tls)

    @classmethod
    def from_settings(cls, settings) -> PhotoFetcher:
        policy = FetchPolicy(connect_timeout_s=settings.image_fetch_connect_timeout_s,
                             read_timeout_s=settings.image_fetch_read_timeout_s,
                             concurrency=settings.image_fetch_concurrency, per_host=settings.image_fetch_per_host)
        return cls(PhotoCache.in_home(settings.catalog_home), Allowlist.parse(settings.image_fetch_allowlist),
                   policy)

    def fetch_all(self, urls: Iterable[str],
                  progress: Callable[[Fetched], None] | None = None) -> dict[str, Fetched]:
        """Every distinct URL fetched (or taken from the cache), by URL; never raises for one URL."""
        urls = list(dict.fromkeys(urls))
        return run_sync(self.fetch_many(urls, progress)) if urls else {}

    async def fetch_many(self, urls: list[str],
                         progress: Callable[[Fetched], None] | None = None) -> dict[str, Fetched]:
        run = _Run(self.policy, self.verify or default_tls())

        async def one(url: str) -> Fetched:
            result = await self._fetch_one(run, url)
            FETCHES.labels(result.outcome).inc()
            if progress is not None:
                progress(result)
            return result

        try:
            results = await asyncio.gather(*(one(url) for url in dict.fromkeys(urls)))
        finally:
            await run.aclose()
        return {result.url: result for result in results}

    async def _fetch_one(self, run: _Run, url: str) -> Fetched:
        entry = self.cache.get(url)
        if entry is not None and entry.is_fresh(self.clock()):
            return Fetched(url, "cached", self.cache.blob_path(entry.blob))
        try:
            return await self._with_retries(run, url, entry)
        except FetchFailed as exc:
            if entry is not None and exc.transient:
                # The server blinked while we revalidated: the copy we have is the best there is.
                return Fetched(url, "stale", self.cache.blob_path(entry.blob), error=str(exc))
            return Fetched(url, "failed", error=str(exc), kind=exc.kind)

    async def _with_retries(self, run: _Run, url: str,
                            entry: CacheEntry | None) -> Fetched:
        policy = self.policy
        for attempt in range(policy.attempts):
            try:
                return await self._follow(run, url, entry)
            except FetchFailed as exc:
                failure = exc
            if not failure.transient or attempt + 1 == policy.attempts:
                raise failure
            delay = backoff_delay(policy, attempt, failure)
            if delay > policy.retry_after_cap_s:
                raise FetchFailed(failure.kind, f"{failure} (Retry-After {delay:.0f} s is over the "
                                  f"{policy.retry_after_cap_s:g} s we wait)", transient=True)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def _follow(self, run: _Run, url: str,
                      entry: CacheEntry | None) -> Fetched:
        """One attempt: the URL and its redirects, each hop checked by the guard."""
        current, seen = url, {url}
        for _hop in range(self.policy.max_redirects + 1):
            location = await self._request(run, url, current, entry)
            if isinstance(location, Fetched):
                return location
            current = urljoin(current, location)
            if current in seen:
                raise FetchFailed("http_error", f"redirect loop at {current}")
            seen.add(current)
        raise FetchFailed("http_error", f"more than {self.policy.max_redirects} redirects")

    async def _request(self, run: _Run, url: str, current: str,
                       entry: CacheEntry | None) -> Fetched | str:
        """The photo (Fetched) or the next hop's Location."""
        try:
            scheme, host, _port, addresses = await checked_addresses(current, self.allowlist)
        except PhotoRefused as exc:
            raise FetchFailed("refused", f"{current}: {exc}" if current != url else str(exc)) from exc
        target = httpx.URL(current)
        headers = {"Host": target.netloc.decode("ascii"), **(entry.validators() if entry else {})}
        # Connect to the checked address itself (no second DNS lookup that could answer differently);
        # TLS still verifies the certificate for the host name (sni_hostname).
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        client = run.client(host.lower())
        deadline = self.policy.attempt_timeout_s
        async with run.overall, run.hosts[host.lower()]:
            try:
                # The deadline starts once a slot is ours: waiting behind other photos is not the server's fault.
                async with asyncio.timeout(deadline):
                    reply = await self._exchange(client, host, target, addresses, headers, extensions, entry)
            except TimeoutError:
                raise FetchFailed("unreachable", f"no complete answer within {deadline:g} s", transient=True) from None
        if isinstance(reply, str):
            return reply
        # Decoding and the cache's file writes run on a thread: the other downloads go on meanwhile.
        if reply.body is None:
            entry = await asyncio.to_thread(self.cache.refresh, entry, reply.headers, now=self.clock())
            return Fetched(url, "revalidated", self.cache.blob_path(entry.blob))
        entry = await asyncio.to_thread(self._keep, url, reply.body, reply.headers)
        return Fetched(url, "fetched", self.cache.blob_path(entry.blob))

    def _keep(self, url: str, data: bytes, headers: dict[str, str]) -> CacheEntry:
        sniff(data, self.policy.max_bytes)
        return self.cache.put(url, data, headers, now=self.clock())

    async def _exchange(self, client: httpx.AsyncClient, host: str, target: httpx.URL, addresses: list,
                        headers: dict[str, str], extensions: dict, entry: CacheEntry | None) -> _Reply | str:
        """One request to the first address that accepts a connection."""
        for position, address in enumerate(addresses):
            pinned = target.copy_with(host=str(address))
            try:
                async with client.stream("GET", pinned, headers=headers, extensions=extensions) as response:
                    return await self._read(response, entry)
            except httpx.ConnectError as exc:
                if _tls_refused(exc):  # a certificate that does not fit will not fit on a retry either
                    raise FetchFailed("unreachable", f"TLS to {host} failed: {exc}") from exc
                if position + 1 == len(addresses):
                    raise FetchFailed("unreachable", f"cannot connect to {host}: {exc or 'refused'}",
                                      transient=True) from exc
            except httpx.TimeoutException as exc:
                raise FetchFailed("unreachable", f"timed out ({type(exc).__name__})", transient=True) from exc
            except httpx.TransportError as exc:
                raise FetchFailed("unreachable", f"incomplete answer from {host}: {exc or type(exc).__name__}",
                                  transient=True) from exc
        raise AssertionError("unreachable")  # pragma: no cover - every address returns or raises

    async def _read(self, response: httpx.Response, entry: CacheEntry | None) -> _Reply | str:
        """The reply (a photo's bytes, or None for 'not modified') or a redirect's Location."""
        status = response.status_code
        headers = {k.lower(): v for k, v in response.headers.items()}
        if status in REDIRECTS:
            location = headers.get("location")
            if not location:
                raise FetchFailed("http_error", f"HTTP {status} redirect without a Location")
            return location
        if status == 304 and entry is not None:
            return _Reply(headers, None)
        if status in RETRY_STATUSES:
            raise FetchFailed("http_error", f"HTTP {status}", transient=True,
                              retry_after=retry_after_seconds(headers.get("retry-after"), self.clock()))
        if status != 200:
            raise FetchFailed("http_error", f"HTTP {status}")
        content_type = headers.get("content-type", "")
        if declared_not_photo(content_type):
            raise FetchFailed("not_image", f"served as {content_type.split(';')[0]}, not an image")
        limit = self.policy.max_bytes
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchFailed("too_large", f"{declared} bytes, over the {limit} byte limit")
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body.extend(chunk)
            if len(body) > limit:  # a server may send more than it declared, or declare nothing
                raise FetchFailed("too_large", f"over the {limit} byte limit")
        return _Reply(headers, bytes(body))
