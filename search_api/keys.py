"""Issuing and showing store API keys: the plain functions `catalog keys` and `/v1/keys` share."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from indexer.api_keys import ApiKey, InvalidKeyRequest, checked_scopes, checked_store, parse_duration
from indexer.store.types import as_utc, utcnow
from search_api.rates import parse_rate


class KeyPublic(BaseModel):
    """A key's record as shown: never the key, never its hash."""

    id: str
    store: str
    scopes: list[str]
    name: str
    rate: str | None
    state: str  # active | expired | revoked
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class KeyCreated(KeyPublic):
    key: str  # shown this once; only its hash is kept


def shown(record: ApiKey) -> KeyPublic:
    return KeyPublic(id=record.id, store=record.store, scopes=sorted(record.scopes), name=record.name,
                     rate=record.rate, state=record.state(utcnow()), created_at=as_utc(record.created_at),
                     last_used_at=as_utc(record.last_used_at), expires_at=as_utc(record.expires_at),
                     revoked_at=as_utc(record.revoked_at))


def issue_key(catalog, *, store: str, scopes: list[str], name: str = "", expires: str | None = None,
              rate: str | None = None) -> KeyCreated:
    """A new key (the store need not hold products yet: a merchant's first PUT makes it). Raises
    InvalidKeyRequest on a bad store name, scope, expiry ("30d") or rate ("20/s"), having stored nothing."""
    checked_store(store)
    scope_set = checked_scopes(scopes)
    if rate is not None:
        try:
            parse_rate(rate)
        except ValueError as exc:
            raise InvalidKeyRequest(str(exc)) from exc
    expires_at = utcnow() + parse_duration(expires) if expires else None
    record, key = catalog.create_key(store, scope_set, name=name, rate=rate, expires_at=expires_at)
    return KeyCreated(**shown(record).model_dump(), key=key)


def key_line(key: KeyPublic) -> str:
    """One line of `catalog keys list`: the id first, then what the key is (never the key)."""
    last = key.last_used_at.strftime("%Y-%m-%d %H:%M") if key.last_used_at else "never"
    expires = f" expires={key.expires_at:%Y-%m-%d %H:%M}" if key.expires_at else ""
    return (f"{key.id}  store={key.store}  scopes={','.join(key.scopes)}  name={key.name or '-'}  "
            f"rate={key.rate or 'default'}  last_used={last}  {key.state}{expires}")
