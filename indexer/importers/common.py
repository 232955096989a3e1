"""What every importer shares: the report, the issue log, CSV reading with line numbers, text helpers."""

from __future__ import annotations

import csv
import html
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

csv.field_size_limit(16 * 1024 * 1024)


class ImportReport(BaseModel):
    imported: int = 0  # new products
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # malformed rows or products left out
    errors: list[str] = Field(default_factory=list)  # "file:line: reason" of what was skipped
    warnings: list[str] = Field(default_factory=list)  # imported, but something was dropped (a missing image)


@dataclass
class IssueLog:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skipped: int = 0

    def error(self, path: Path, line: int | None, reason: str, *, skip: bool = True) -> None:
        self.errors.append(f"{_where(path, line)}: {reason}")
        if skip:
            self.skipped += 1

    def warn(self, path: Path, line: int | None, reason: str) -> None:
        self.warnings.append(f"{_where(path, line)}: {reason}")


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line else str(path)


def validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:3]:
        loc = ".".join(str(x) for x in err["loc"]) or "product"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def read_csv(path: Path, log: IssueLog) -> Iterator[tuple[int, dict[str, str]]]:
    """(first line of the record, row) for each well-formed record; malformed ones are logged and skipped.

    A record is malformed when its field count differs from the header's. Quoted fields may span lines,
    so the line reported is where the record starts."""
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            log.error(path, None, "empty file", skip=False)
            return
        except csv.Error as exc:
            log.error(path, 1, f"unreadable header: {exc}", skip=False)
            return
        header = [h.strip() for h in header]
        previous = reader.line_num
        while True:
            start = previous + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                log.error(path, start, f"malformed CSV: {exc}")
                previous = reader.line_num
                continue
            previous = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                log.error(path, start, f"expected {len(header)} fields, got {len(values)}")
                continue
            yield start, dict(zip(header, values, strict=True))


def csv_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as handle:
        try:
            return [h.strip() for h in next(csv.reader(handle))]
        except (StopIteration, csv.Error):
            return []


def parse_price(value: str | None) -> float | None:
    """'52', '34.00', '$1,299.50' -> float; '' -> None; raises ValueError on anything else."""
    text = (value or "").strip().replace(",", "").lstrip("$€£")
    if not text:
        return None
    price = float(text)
    if price < 0 or not math.isfinite(price):
        raise ValueError(f"invalid price {value!r}")
    return price


def is_url(value: str) -> bool:
    return value.startswith(("http://", "https://"))


def resolve_image(ref: str, base: Path, path: Path, line: int | None, log: IssueLog) -> str | None:
    """A URL as it is; a local path made absolute against `base`, or None (with a warning) if missing."""
    ref = ref.strip()
    if not ref:
        return None
    if is_url(ref):
        return ref
    candidate = Path(ref)
    if not candidate.is_absolute() or not candidate.exists():
        candidate = base / ref.lstrip("/")
    if candidate.is_file():
        return str(candidate.resolve())
    log.warn(path, line, f"image not found: {ref}")
    return None


_BLOCK_TAGS = {"p", "br", "li", "ul", "ol", "div", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6",
               "section", "article", "blockquote", "hr"}


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:  # noqa: ANN001
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, one line per block."""
    if not html:
        return ""
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    lines = (re.sub(r"[ \t\r\f\v\u00a0]+", " ", line).strip() for line in "".join(collector.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def entity_text(value: str | None) -> str:
    """A plain-text field that its platform stores with HTML entities (Magento's product names:
    "LumaTech&trade; Tee"), decoded and trimmed, so a shopper never reads "&trade;"."""
    return html.unescape(value or "").strip()


def split_values(value: str, separators: str = "|") -> list[str]:
    """Split a multi-value cell on any of `separators` (and newlines); trimmed, de-duplicated, in order."""
    pattern = "[" + re.escape(separators) + "\n]"
    return list(dict.fromkeys(v.strip() for v in re.split(pattern, value or "") if v.strip()))
