"""Shopify product CSV exports: one row per variant or extra image, folded into one product per Handle.

Columns as Shopify documents them (Handle, Title, Body (HTML), Vendor, Product Category, Type, Tags,
Option1 Name/Value .. Option3, Variant SKU, Variant Price, Image Src, Image Position, Variant Image,
metafield columns such as `Color (product.metafields.shopify.color-pattern)`); any may be missing but
Handle. `Image Src` may be a URL or a path relative to the CSV file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from indexer.importers.common import (
    IssueLog,
    csv_header,
    html_to_text,
    parse_price,
    read_csv,
    resolve_image,
    split_values,
    validation_reason,
)
from indexer.models import Product, Variant

METAFIELD = re.compile(r"^(?P<label>.+?)\s*\(product\.metafields\.[\w-]+\.[\w-]+\)$")
GOOGLE = re.compile(r"^Google Shopping / (?P<label>Gender|Age Group|Color|Material|Size|Pattern)$", re.I)


def is_shopify_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and "Handle" in csv_header(path)


@dataclass
class _Draft:
    line: int
    head: dict[str, str] | None = None  # the row with the product's own fields (the first with a Title)
    option_names: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    images: list[tuple[float, int, str, int]] = field(default_factory=list)  # position, order, ref, line
    variant_images: dict[int, str] = field(default_factory=dict)  # variant index -> its Variant Image ref
    attributes: dict[str, list[str]] = field(default_factory=dict)


def _attribute_columns(header: list[str]) -> dict[str, str]:
    columns = {}
    for column in header:
        match = METAFIELD.match(column) or GOOGLE.match(column)
        if match:
            columns[column] = match.group("label").strip().lower()
    return columns


def read_shopify(path: Path, store: str, log: IssueLog) -> Iterator[Product]:
    header = csv_header(path)
    if "Handle" not in header:
        log.error(path, 1, "not a Shopify product CSV: no Handle column", skip=False)
        return
    attribute_columns = _attribute_columns(header)
    drafts: dict[str, _Draft] = {}
    for line, row in read_csv(path, log):
        handle = (row.get("Handle") or "").strip()
        if not handle:
            log.error(path, line, "missing Handle")
            continue
        try:
            price, position = _check_row(row)
        except ValueError as exc:
            log.error(path, line, f"{handle}: {exc}")
            continue
        _fold_row(drafts.setdefault(handle, _Draft(line=line)), line, row, price, position, attribute_columns)
    for handle, draft in drafts.items():
        try:
            yield _product(path, store, handle, draft, log)
        except ValidationError as exc:
            log.error(path, draft.line, f"{handle}: {validation_reason(exc)}")


def _get(row: dict[str, str], name: str) -> str:
    return (row.get(name) or "").strip()


def _check_row(row: dict[str, str]) -> tuple[float | None, float]:
    """The row's variant price and image position; ValueError when either is malformed."""
    price = parse_price(row.get("Variant Price"))
    position_text = _get(row, "Image Position")
    try:
        position = float(position_text) if position_text else float("inf")
    except ValueError:
        raise ValueError(f"invalid Image Position {position_text!r}") from None
    return price, position


def _fold_row(draft: _Draft, line: int, row: dict[str, str], price: float | None, position: float,
              attribute_columns: dict[str, str]) -> None:
    if draft.head is None and _get(row, "Title"):
        draft.head = row
        draft.line = line
    for n in (1, 2, 3):
        name = _get(row, f"Option{n} Name")
        if name and len(draft.option_names) < n:
            draft.option_names.extend([""] * (n - 1 - len(draft.option_names)) + [name])
    values = [_get(row, f"Option{n} Value") for n in (1, 2, 3)]
    sku = _get(row, "Variant SKU")
    # Shopify writes a Variant Image only on a variant's row: a catalog of handles, titles and one photo per
    # variant (no SKUs, options or prices) still has its variants.
    variant_row = bool(sku or any(values) or price is not None or _get(row, "Variant Image"))
    if variant_row:
        options = {}
        for name, value in zip(draft.option_names, values, strict=False):
            if name and value and not (name == "Title" and value == "Default Title"):
                options[name.lower()] = value
        draft.variants.append(Variant(sku=sku or f"{_get(row, 'Handle')}-{len(draft.variants) + 1}",
                                      options=options, price=price))
    order = len(draft.images)
    if _get(row, "Image Src"):
        draft.images.append((position, order, _get(row, "Image Src"), line))
    if _get(row, "Variant Image"):
        draft.images.append((float("inf"), order + 1, _get(row, "Variant Image"), line))
        if variant_row:
            draft.variant_images[len(draft.variants) - 1] = _get(row, "Variant Image")
    for column, label in attribute_columns.items():
        for value in split_values(row.get(column) or "", ";,"):
            draft.attributes.setdefault(label, [])
            if value not in draft.attributes[label]:
                draft.attributes[label].append(value)


def _product(path: Path, store: str, handle: str, draft: _Draft, log: IssueLog) -> Product:
    head = draft.head or {}
    if draft.head is None:
        log.warn(path, draft.line, f"{handle}: no row with a Title")
    images = []
    resolved_refs: dict[str, str] = {}
    for _, _, ref, line in sorted(draft.images, key=lambda item: (item[0], item[1])):
        resolved = resolve_image(ref, path.parent, path, line, log)
        if resolved:
            resolved_refs.setdefault(ref, resolved)
        if resolved and resolved not in images:
            images.append(resolved)
    variants = [v.model_copy(update={"image": resolved_refs.get(draft.variant_images.get(i, ""))})
                for i, v in enumerate(draft.variants)]
    prices = [v.price for v in draft.variants if v.price is not None]
    html = head.get("Body (HTML)") or ""
    return Product(
        store=store, product_id=handle, title=_get(head, "Title"), description=html_to_text(html),
        description_html=html, vendor=_get(head, "Vendor"), product_type=_get(head, "Type"),
        tags=split_values(head.get("Tags") or "", ","), price=min(prices) if prices else None,
        variants=variants, images=images, attributes=draft.attributes,
        merchant_category=_get(head, "Product Category") or None,
    )
