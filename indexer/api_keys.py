"""Store API keys as values: the key format, its hash, scopes, expiry and rate strings. Pure functions;
the catalog store keeps the records (indexer/store/keys.py), search_api/auth.py checks requests.

A key reads `ck_<id>_<secret>`: the 12-hex-digit id is visible and not secret (lists and logs name a key by
it), the secret is 192 random bits. Only the SHA-256 of the whole key is kept: with that much entropy a
fast hash is enough (no password-style stretching), and a stolen table opens nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from indexer.models import STORE_RE

SCOPES = ("search", "suggest", "write", "admin")  # admin implies the others for its store
PLATFORM = "*"  # the store of a platform-wide key
KEY_RE = re.compile(r"^ck_([0-9a-f]{12})_([0-9a-f]{48})$")
DURATION_RE = re.compile(r"^([1-9][0-9]{0,4})([smhd])$")
DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class InvalidKeyRequest(ValueError):
    """A key request that cannot be honoured (bad store, scope or expiry)."""


@dataclass(frozen=True)
class ApiKey:
    """A key's record: everything but the key itself (only its hash is kept)."""

    id: str
    store: str
    scopes: frozenset[str]
    name: str
    key_hash: str
    rate: str | None
    created_at: datetime
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        """active | expired | revoked (times naive UTC, as stored)."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


def new_key() -> tuple[str, str]:
    """(id, the whole key) of a fresh random key."""
    key_id = secrets.token_hex(6)
    return key_id, f"ck_{key_id}_{secrets.token_hex(24)}"


def key_id_of(key: str) -> str | None:
    """The id of a well-formed key; None when it is no key of ours."""
    match = KEY_RE.match(key)
    return match.group(1) if match else None


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def hash_matches(key: str, stored_hash: str) -> bool:
    """Constant time: the comparison does not tell how much of a guess was right."""
    return hmac.compare_digest(key_hash(key), stored_hash)


def checked_store(store: str) -> str:
    if store != PLATFORM and not STORE_RE.match(store):
        raise InvalidKeyRequest(f"invalid store {store!r}: a store name ({STORE_RE.pattern}) or {PLATFORM!r}")
    return store


def checked_scopes(scopes: list[str] | tuple[str, ...]) -> frozenset[str]:
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise InvalidKeyRequest(f"scopes must be one or more of {', '.join(SCOPES)}" +
                        (f" (not {', '.join(unknown)})" if unknown else ""))
    return frozenset(scopes)


def parse_duration(text: str) -> timedelta:
    """'30d', '12h', '15m', '90s' as a timedelta."""
    match = DURATION_RE.match(text)
    if not match:
        raise InvalidKeyRequest(f"invalid duration {text!r}: a number and s, m, h or d, as 30d")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})
