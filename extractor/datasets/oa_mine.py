"""OA-Mine (ExtractGPT processing): JSONL of {input, category, target_scores{attr: {value: 1}}}."""

from __future__ import annotations

import json
from pathlib import Path


def load(path: str | Path) -> list[dict]:
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            rows.append(json.loads(line))
    return rows
