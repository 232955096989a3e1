"""A rate as a merchant writes it: "N/s", "N/min" or "N/h" (pure; the settings validate theirs with it)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

PERIODS_S = {"s": 1.0, "min": 60.0, "h": 3600.0}
RATE_RE = re.compile(r"^\s*([0-9]{1,9})\s*/\s*(s|min|h)\s*$")


@dataclass(frozen=True)
class Rate:
    tokens: int  # the bucket's size: requests allowed at once
    period_s: float  # time to refill a whole bucket

    @property
    def per_s(self) -> float:
        return self.tokens / self.period_s

    def __str__(self) -> str:
        unit = next(name for name, seconds in PERIODS_S.items() if seconds == self.period_s)
        return f"{self.tokens}/{unit}"


@lru_cache(maxsize=1024)
def parse_rate(text: str) -> Rate:
    """`"20/s"` -> Rate(20, 1.0). Raises ValueError naming the accepted forms."""
    match = RATE_RE.match(text or "")
    if not match or int(match.group(1)) < 1:
        raise ValueError(f"invalid rate {text!r}: write N/s, N/min or N/h with N >= 1, e.g. 20/s or 600/min")
    return Rate(int(match.group(1)), PERIODS_S[match.group(2)])
