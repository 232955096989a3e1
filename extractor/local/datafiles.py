"""Reviewed mapping tables shipped in `extractor/data/` (JSON, so no extra parser is needed)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_data(name: str) -> Any:
    path = resources.files("extractor") / "data" / name
    return json.loads(path.read_text(encoding="utf-8"))
