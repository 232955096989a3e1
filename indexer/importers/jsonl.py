"""Our own JSONL: one Product object per line; `store` is optional and always set to the target store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from indexer.importers.common import IssueLog, resolve_image, validation_reason
from indexer.models import Product


def is_jsonl(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in (".jsonl", ".ndjson")


def read_jsonl(path: Path, store: str, log: IssueLog) -> Iterator[Product]:
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        for number, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                log.error(path, number, f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            if not isinstance(data, dict):
                log.error(path, number, f"expected a JSON object, got {type(data).__name__}")
                continue
            data["store"] = store
            try:
                product = Product.model_validate(data)
            except ValidationError as exc:
                log.error(path, number, validation_reason(exc))
                continue
            resolved = {ref: img for ref in product.images
                        if (img := resolve_image(ref, path.parent, path, number, log))}
            # A variant's image is one of the product's, so it resolves the same way (or not at all).
            variants = [v.model_copy(update={"image": resolved.get(v.image or "")}) for v in product.variants]
            yield product.model_copy(update={"images": list(dict.fromkeys(resolved.values())), "variants": variants})
