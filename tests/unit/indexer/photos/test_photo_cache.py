"""How long a cached photo stays fresh, and what a cache entry keeps."""

from __future__ import annotations

from email.utils import formatdate

from indexer.photos.cache import HEURISTIC_MAX_S, MAX_FRESH_S, PhotoCache, freshness_lifetime

NOW = 1_800_000_000.0


def http_date(t: float) -> str:
    return formatdate(t, usegmt=True)


def test_max_age_wins_and_is_capped():
    assert freshness_lifetime({"cache-control": "public, max-age=600", "expires": http_date(NOW + 99)}, NOW) == 600
    assert freshness_lifetime({"cache-control": "max-age=31536000"}, NOW) == MAX_FRESH_S


def test_no_cache_and_no_store_revalidate_every_time():
    assert freshness_lifetime({"cache-control": "no-cache, max-age=600"}, NOW) == 0
    assert freshness_lifetime({"cache-control": "no-store"}, NOW) == 0


def test_expires_counts_from_the_server_date():
    headers = {"date": http_date(NOW - 100), "expires": http_date(NOW + 200)}
    assert freshness_lifetime(headers, NOW) == 300
    assert freshness_lifetime({"expires": "0"}, NOW) == 0


def test_last_modified_heuristic_is_a_tenth_of_its_age_up_to_a_day():
    assert freshness_lifetime({"date": http_date(NOW), "last-modified": http_date(NOW - 1000)}, NOW) == 100
    assert freshness_lifetime({"last-modified": http_date(NOW - 10**8)}, NOW) == HEURISTIC_MAX_S
    assert freshness_lifetime({"etag": '"x"'}, NOW) == 0


def test_entries_keep_validators_and_blobs_are_shared_by_content(tmp_path):
    cache = PhotoCache(tmp_path)
    a = cache.put("https://a.example/1.jpg", b"bytes", {"etag": '"e1"', "last-modified": http_date(NOW)}, now=NOW)
    b = cache.put("https://b.example/2.jpg", b"bytes", {}, now=NOW)
    assert a.blob == b.blob and len(list((tmp_path / "blobs").rglob("*"))) == 2  # one folder, one blob
    assert cache.get("https://a.example/1.jpg").validators() == {"If-None-Match": '"e1"',
                                                                 "If-Modified-Since": http_date(NOW)}
    refreshed = cache.refresh(a, {"cache-control": "max-age=60"}, now=NOW + 10)
    assert refreshed.etag == '"e1"' and refreshed.is_fresh(NOW + 69) and not refreshed.is_fresh(NOW + 70)
    assert cache.get("https://c.example/3.jpg") is None
    cache.blob_path(a.blob).unlink()
    assert cache.get("https://a.example/1.jpg") is None  # a half-deleted cache is a miss
