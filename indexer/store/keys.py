"""Store API keys (hashed: indexer/api_keys.py) and a store's public-search flag."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select, update

from indexer.api_keys import ApiKey, key_hash, new_key
from indexer.store import schema
from indexer.store.base import StoreBase
from indexer.store.types import utcnow

K = schema.api_keys


def _record(row) -> ApiKey:
    return ApiKey(id=row.id, store=row.store, scopes=frozenset(row.scopes.split(",")), name=row.name,
                  key_hash=row.key_hash, rate=row.rate, created_at=row.created_at, last_used_at=row.last_used_at,
                  expires_at=row.expires_at, revoked_at=row.revoked_at)


class KeysMixin(StoreBase):
    def create_key(self, store: str, scopes: frozenset[str], *, name: str = "", rate: str | None = None,
                   expires_at: datetime | None = None) -> tuple[ApiKey, str]:
        """A new key's record and the key itself: the only time it exists outside the caller's hands."""
        key_id, key = new_key()
        row = {"id": key_id, "store": store, "scopes": ",".join(sorted(scopes)), "name": name,
               "key_hash": key_hash(key), "rate": rate, "created_at": utcnow(), "expires_at": expires_at}
        with self._write() as conn:
            conn.execute(K.insert(), row)
        record = ApiKey(id=key_id, store=store, scopes=frozenset(scopes), name=name, key_hash=row["key_hash"],
                        rate=rate, created_at=row["created_at"], expires_at=expires_at)
        return record, key

    def get_key(self, key_id: str) -> ApiKey | None:
        with self._read() as conn:
            row = conn.execute(select(K).where(K.c.id == key_id)).first()
        return _record(row) if row is not None else None

    def list_keys(self, store: str | None = None) -> list[ApiKey]:
        """The keys of a store (all keys when None), oldest first; revoked ones too."""
        query = select(K).order_by(K.c.created_at, K.c.id)
        if store is not None:
            query = query.where(K.c.store == store)
        with self._read() as conn:
            return [_record(row) for row in conn.execute(query)]

    def revoke_key(self, key_id: str) -> ApiKey | None:
        """Revoke the key (kept, marked); None when there is no such key. Revoking twice keeps the first time."""
        with self._write() as conn:
            conn.execute(update(K).where(K.c.id == key_id, K.c.revoked_at.is_(None)).values(revoked_at=utcnow()))
            row = conn.execute(select(K).where(K.c.id == key_id)).first()
        return _record(row) if row is not None else None

    def touch_keys(self, used: dict[str, datetime]) -> None:
        """Record when keys were last used (callers batch and throttle this: not a write per request)."""
        if not used:
            return
        with self._write() as conn:
            conn.execute(update(K).where(K.c.id == bindparam("key_id")).values(last_used_at=bindparam("at")),
                         [{"key_id": k, "at": at} for k, at in used.items()])

    def set_public_search(self, store: str, public: bool) -> bool:
        """False when there is no such store (nothing changed)."""
        S = schema.stores
        with self._write() as conn:
            result = conn.execute(update(S).where(S.c.name == store).values(public_search=public))
        return result.rowcount > 0

    def public_search(self, store: str) -> bool:
        """Whether anyone may search the store without a key; False for a store that does not exist."""
        S = schema.stores
        with self._read() as conn:
            return bool(conn.scalar(select(S.c.public_search).where(S.c.name == store)))
