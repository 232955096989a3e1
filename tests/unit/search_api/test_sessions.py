from __future__ import annotations

import os
import threading
import uuid

import pytest

from indexer.engines.types import Sort
from search_api.query.parse import attribute_filter, price_filter
from search_api.sessions import (
    MemorySessionStore,
    RedisSessionStore,
    SessionState,
    make_session_store,
    new_session_id,
    valid_session_id,
)
from tests.required import service_missing

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def _state(store: str = "demo") -> SessionState:
    return SessionState(
        store=store,
        filters=[attribute_filter("color", "color__black", "Black"), price_filter(lte=40, source="session")],
        text="zip pockets",
        sort=Sort("price", descending=True),
        turns=2,
    )


@pytest.fixture
def redis_store():
    store = RedisSessionStore(REDIS_URL, ttl_s=60, prefix=f"test:session:{uuid.uuid4().hex}:")
    if not store.ping():
        service_missing(f"no Redis at {REDIS_URL}")
    yield store
    keys = list(store._redis.scan_iter(f"{store.prefix}*"))
    if keys:
        store._redis.delete(*keys)
    store.close()


@pytest.fixture(params=["memory", "redis"])
def session_store(request):
    if request.param == "memory":
        return MemorySessionStore(max_entries=100, ttl_s=60)
    return request.getfixturevalue("redis_store")


def test_round_trip(session_store):
    sid = new_session_id()
    assert session_store.get(sid) is None
    session_store.put(sid, _state())
    assert session_store.get(sid, "demo") == _state().model_copy(
        update={"updated_at": session_store.get(sid).updated_at}
    )
    assert session_store.get(sid).filters[1].id == "price:lte:40"


def test_session_is_bound_to_its_store(session_store):
    sid = new_session_id()
    session_store.put(sid, _state("store-a"))
    assert session_store.get(sid, "store-b") is None
    assert session_store.get(sid, "store-a") is not None


def test_invalid_ids(session_store):
    assert session_store.get("../../etc") is None
    assert session_store.get("x" * 200) is None
    with pytest.raises(ValueError):
        session_store.put("bad id!", _state())
    assert valid_session_id(new_session_id()) and not valid_session_id("")


def test_delete(session_store):
    sid = new_session_id()
    session_store.put(sid, _state())
    session_store.delete(sid)
    assert session_store.get(sid) is None


def test_redis_sets_ttl_and_ignores_corrupt_values(redis_store):
    sid = new_session_id()
    redis_store.put(sid, _state())
    assert 0 < redis_store._redis.ttl(redis_store._key(sid)) <= 60
    redis_store._redis.set(redis_store._key(sid), b"{not json")
    assert redis_store.get(sid) is None


def test_memory_ttl_expires():
    now = [1000.0]
    store = MemorySessionStore(ttl_s=10, clock=lambda: now[0])
    store.put("s1", _state())
    now[0] += 9
    assert store.get("s1") is not None  # a read extends the session
    now[0] += 9
    assert store.get("s1") is not None
    now[0] += 11
    assert store.get("s1") is None
    assert len(store) == 0


def test_memory_lru_is_bounded():
    store = MemorySessionStore(max_entries=3)
    for i in range(3):
        store.put(f"s{i}", _state())
    assert store.get("s0") is not None  # s0 is now the most recent
    store.put("s3", _state())
    assert [store.get(f"s{i}") is not None for i in range(4)] == [True, False, True, True]
    assert len(store) == 3


def test_memory_is_thread_safe():
    store = MemorySessionStore(max_entries=50)

    def work(n: int) -> None:
        for i in range(200):
            store.put(f"t{n}-{i}", _state())
            store.get(f"t{n}-{i - 1}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(store) == 50


def test_stored_state_is_a_copy():
    store = MemorySessionStore()
    state = _state()
    store.put("s", state)
    state.text = "changed"
    assert store.get("s").text == "zip pockets"


def test_make_session_store():
    assert isinstance(make_session_store(None), MemorySessionStore)
    assert isinstance(make_session_store(""), MemorySessionStore)
    assert isinstance(make_session_store(REDIS_URL), RedisSessionStore)
