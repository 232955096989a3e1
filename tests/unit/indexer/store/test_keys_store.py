"""Store API keys in the catalog store (SQLite and PostgreSQL): only a hash kept, revocation, last use, a
store's public-search flag; and the key values themselves (indexer.api_keys)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from indexer.api_keys import (
    InvalidKeyRequest,
    checked_scopes,
    checked_store,
    hash_matches,
    key_hash,
    key_id_of,
    parse_duration,
)
from indexer.models import Product
from indexer.store.types import utcnow


def test_a_key_is_kept_as_its_hash_and_read_back_by_its_id(catalog):
    record, key = catalog.create_key("shop", frozenset({"write", "suggest"}), name="pos", rate="20/s")
    assert key_id_of(key) == record.id and record.key_hash == key_hash(key) and hash_matches(key, record.key_hash)
    read = catalog.get_key(record.id)
    assert (read.store, read.scopes, read.name, read.rate) == ("shop", {"write", "suggest"}, "pos", "20/s")
    assert read.key_hash == key_hash(key) and read.state(utcnow()) == "active" and read.last_used_at is None
    assert catalog.get_key("000000000000") is None
    platform, _ = catalog.create_key("*", frozenset({"admin"}))
    assert [k.id for k in catalog.list_keys("shop")] == [record.id]
    assert {k.id for k in catalog.list_keys()} == {record.id, platform.id}


def test_revoking_keeps_the_record_and_the_first_time(catalog):
    record, _ = catalog.create_key("shop", frozenset({"search"}))
    first = catalog.revoke_key(record.id)
    assert first.state(utcnow()) == "revoked" and first.revoked_at is not None
    assert catalog.revoke_key(record.id).revoked_at == first.revoked_at
    assert catalog.revoke_key("000000000000") is None


def test_expiry_and_last_use(catalog):
    record, _ = catalog.create_key("shop", frozenset({"search"}), expires_at=utcnow() + timedelta(hours=1))
    assert catalog.get_key(record.id).state(utcnow() + timedelta(hours=2)) == "expired"
    at = utcnow().replace(microsecond=0)
    catalog.touch_keys({record.id: at})
    assert catalog.get_key(record.id).last_used_at == at


def test_public_search_is_a_store_setting_off_by_default(catalog):
    assert catalog.public_search("shop") is False and catalog.set_public_search("shop", True) is False
    catalog.upsert_products([Product(store="shop", product_id="p", title="Tee")])
    assert catalog.public_search("shop") is False
    assert catalog.set_public_search("shop", True) and catalog.public_search("shop") is True
    assert catalog.set_public_search("shop", False) and catalog.public_search("shop") is False


def test_key_values():
    assert key_id_of("ck_0123456789ab_" + "f" * 48) == "0123456789ab"
    for bad in ("", "ck_0123456789ab", "ck_0123456789AB_" + "f" * 48, "ck_0123456789ab_" + "f" * 47, "Bearer x"):
        assert key_id_of(bad) is None
    assert parse_duration("30d") == timedelta(days=30) and parse_duration("15m") == timedelta(minutes=15)
    assert checked_scopes(["write", "suggest"]) == {"write", "suggest"} and checked_store("*") == "*"
    for bad in (lambda: parse_duration("forever"), lambda: parse_duration("0d"), lambda: checked_scopes([]),
                lambda: checked_scopes(["root"]), lambda: checked_store("Bad Name")):
        with pytest.raises(InvalidKeyRequest):
            bad()
