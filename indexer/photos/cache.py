"""The photo cache in CATALOG_HOME: downloaded bytes kept by their content hash, and per URL the blob it
last gave with the validators (ETag, Last-Modified) and the freshness the server granted.

Layout: `photos/blobs/ab/<sha256 of the bytes>` and `photos/urls/cd/<sha256 of the URL>.json`. Both are
written to a temporary file and renamed into place, so workers and the CLI can share one cache: a reader
sees a whole entry or none, and two writers of the same URL or bytes write the same thing. A failed fetch
writes nothing, so the next index tries again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

# A server's freshness is honoured up to a week: a merchant who replaces a photo at the same URL sees the
# new one at the next index after that at the latest (a revalidation costs one small request).
MAX_FRESH_S = 7 * 24 * 3600
# Without max-age or Expires, RFC 9111 allows 10% of the time since Last-Modified; capped at a day.
HEURISTIC_FRACTION = 0.1
HEURISTIC_MAX_S = 24 * 3600


@dataclass(frozen=True)
class CacheEntry:
    url: str
    blob: str  # sha256 of the bytes
    size: int
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    stored_at: float = 0.0
    fresh_until: float = 0.0  # epoch seconds; before it the entry is used without a request

    def is_fresh(self, now: float) -> bool:
        return now < self.fresh_until

    def validators(self) -> dict[str, str]:
        """Headers of a conditional request that a 304 answers when the photo has not changed."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


def _http_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def freshness_lifetime(headers: dict[str, str], now: float) -> float:
    """Seconds a response stays fresh, from its (lower-cased) headers: Cache-Control max-age, else Expires,
    else the Last-Modified heuristic; no-cache and no-store mean revalidate every time. We keep no-store
    bytes anyway: the extractor must read the photo, and this is the merchant's own catalog, not a
    shared cache."""
    control = headers.get("cache-control", "").lower()
    if "no-cache" in control or "no-store" in control:
        return 0.0
    match = re.search(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", control)
    if match:
        return min(float(match.group(1)), MAX_FRESH_S)
    date = _http_date(headers.get("date")) or now
    expires = headers.get("expires")
    if expires is not None:
        when = _http_date(expires)  # an invalid Expires ("0") means already expired
        return 0.0 if when is None else max(0.0, min(when - date, MAX_FRESH_S))
    modified = _http_date(headers.get("last-modified"))
    if modified is not None and modified < date:
        return min((date - modified) * HEURISTIC_FRACTION, HEURISTIC_MAX_S)
    return 0.0


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


class PhotoCache:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    @classmethod
    def in_home(cls, catalog_home: Path) -> PhotoCache:
        return cls(Path(catalog_home) / "photos")

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def _entry_path(self, url: str) -> Path:
        key = url_key(url)
        return self.root / "urls" / key[:2] / f"{key}.json"

    def get(self, url: str) -> CacheEntry | None:
        """The URL's entry when both it and its blob are there (a half-deleted cache is a miss)."""
        try:
            entry = CacheEntry(**json.loads(self._entry_path(url).read_text()))
        except (OSError, ValueError, TypeError):
            return None
        if entry.url != url or not self.blob_path(entry.blob).is_file():
            return None
        return entry

    def put(self, url: str, data: bytes, headers: dict[str, str], *, now: float | None = None) -> CacheEntry:
        """Keep fresh bytes for a URL (a 200), with the response's validators and freshness."""
        now = time.time() if now is None else now
        digest = hashlib.sha256(data).hexdigest()
        blob = self.blob_path(digest)
        if not blob.is_file():
            write_atomic(blob, data)
        entry = CacheEntry(url=url, blob=digest, size=len(data), content_type=headers.get("content-type", ""),
                           etag=headers.get("etag"), last_modified=headers.get("last-modified"), stored_at=now,
                           fresh_until=now + freshness_lifetime(headers, now))
        self._put_entry(entry)
        return entry

    def refresh(self, entry: CacheEntry, headers: dict[str, str], *, now: float | None = None) -> CacheEntry:
        """A 304 said the cached bytes are still right: new freshness, and validators if it sent new ones."""
        now = time.time() if now is None else now
        fresh = CacheEntry(**{**asdict(entry), "etag": headers.get("etag") or entry.etag,
                              "last_modified": headers.get("last-modified") or entry.last_modified,
                              "stored_at": now, "fresh_until": now + freshness_lifetime(headers, now)})
        self._put_entry(fresh)
        return fresh

    def _put_entry(self, entry: CacheEntry) -> None:
        write_atomic(self._entry_path(entry.url), json.dumps(asdict(entry)).encode())


def write_atomic(path: Path, data: bytes) -> None:
    """Write through a temporary file and a rename: a reader (another worker, the CLI) never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
