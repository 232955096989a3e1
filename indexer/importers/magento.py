"""Magento 2 sample-data folders (`fixtures/<Module>SampleData/*.csv` + `images/`), e.g. the Luma catalog.

Two CSV shapes occur and are told apart by their header:
- the import-export format (`sku`, `product_type`, `categories`, `additional_attributes`,
  `configurable_variations`, ...): configurable products with their simple variants folded in;
- the sample-data shorthand (`category`, `name`, `sku`, `price`, one column per attribute), with images in
  sibling `images_*.csv` files (`sku`, `image`): gear, bundle, grouped and downloadable products.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import ValidationError

from indexer.importers.common import (
    IssueLog,
    csv_header,
    entity_text,
    html_to_text,
    parse_price,
    read_csv,
    resolve_image,
    split_values,
    validation_reason,
)
from indexer.models import Product, Variant

# Category trees that group products across the catalog rather than say what a product is.
COLLECTION_ROOTS = {"Collections", "Promotions"}
# additional_attributes keys that are Magento bookkeeping, not product attributes.
NON_ATTRIBUTES = {"has_options", "required_options", "quantity_and_stock_status", "gift_message_available"}
# Columns of the shorthand format that are not attributes.
SHORTHAND_FIELDS = {"category", "name", "sku", "price", "qty", "description", "short_description",
                    "meta_description", "special_price", "attribute_set", "visibility", "url_key",
                    "bundle_options", "associated_sku", "samples_title", "links_title",
                    "links_purchased_separately", "weight", "created_at", "updated_at"}


def is_magento_folder(path: Path) -> bool:
    return path.is_dir() and ((path / "fixtures").is_dir() or path.name == "fixtures")


def read_magento(root: Path, store: str, log: IssueLog) -> Iterator[Product]:
    fixtures = root if root.name == "fixtures" else root / "fixtures"
    images_dir = fixtures.parent / "images"
    tree = _category_tree(fixtures)
    seen: dict[str, Path] = {}
    image_maps: dict[Path, dict[str, list[tuple[Path, int, str]]]] = {}  # per folder, read once
    for csv_path in sorted(fixtures.rglob("*.csv")):
        header = set(csv_header(csv_path))
        if {"sku", "product_type", "name"} <= header:
            products = _read_export(csv_path, store, images_dir, log)
        elif {"sku", "name", "category"} <= header:
            if csv_path.parent not in image_maps:
                image_maps[csv_path.parent] = _image_map(csv_path.parent, log)
            products = _read_shorthand(csv_path, store, images_dir, tree, image_maps[csv_path.parent], log)
        else:
            continue  # categories, attributes, links, reviews, images_*.csv (read with their products)
        for product in products:
            if product.product_id in seen:
                log.warn(csv_path, None, f"product {product.product_id} also in {seen[product.product_id]};"
                                         " the later one is kept")
            seen[product.product_id] = csv_path
            yield product


# --- the import-export format -------------------------------------------------------------------

def _parse_pairs(text: str) -> list[tuple[str, str]]:
    """'a=1,b=x|y' -> [('a', '1'), ('b', 'x|y')]; a piece without '=' continues the previous value."""
    pairs: list[tuple[str, str]] = []
    for piece in (text or "").split(","):
        if "=" in piece:
            key, value = piece.split("=", 1)
            pairs.append((key.strip(), value.strip()))
        elif pairs and piece.strip():
            key, value = pairs[-1]
            pairs[-1] = (key, f"{value},{piece.strip()}")
    return pairs


def _pick_category(paths: list[list[str]]) -> str | None:
    """The most specific path outside the collection trees (falling back to any path)."""
    useful = [p for p in paths if p and p[0] not in COLLECTION_ROOTS] or [p for p in paths if p]
    if not useful:
        return None
    return "/".join(max(useful, key=len))  # max keeps the first of equally deep paths


def _export_category(value: str) -> str | None:
    # Each path starts at a root category ("Default Category"), which says nothing.
    paths = [[s.strip() for s in p.split("/")][1:] for p in (value or "").split(",") if p.strip()]
    return _pick_category(paths)


def _read_export(path: Path, store: str, images_dir: Path, log: IssueLog) -> Iterator[Product]:
    rows = list(read_csv(path, log))
    by_sku = {row["sku"].strip(): (line, row) for line, row in rows if row.get("sku", "").strip()}
    children: set[str] = set()
    for _, row in rows:
        for variation in (row.get("configurable_variations") or "").split("|"):
            sku = dict(_parse_pairs(variation)).get("sku")
            if sku:
                children.add(sku)
    for line, row in rows:
        sku = (row.get("sku") or "").strip()
        if not sku:
            log.error(path, line, "missing sku")
            continue
        if sku in children:
            continue  # a variant, folded into its configurable parent
        if (row.get("store_view_code") or "").strip():
            continue  # a translation/override row of a store view, not a product
        try:
            yield _export_product(path, line, row, by_sku, store, images_dir, log)
        except ValidationError as exc:
            log.error(path, line, f"{sku}: {validation_reason(exc)}")
        except ValueError as exc:
            log.error(path, line, f"{sku}: {exc}")


def _export_product(path: Path, line: int, row: dict[str, str], by_sku: dict, store: str,
                    images_dir: Path, log: IssueLog) -> Product:
    price = parse_price(row.get("price"))
    refs = [row.get("base_image", "")] + (row.get("additional_images") or "").split(",")
    variants: list[Variant] = []
    for variation in (row.get("configurable_variations") or "").split("|"):
        options = dict(_parse_pairs(variation))
        sku = options.pop("sku", "").strip()
        if not sku:
            continue
        child = by_sku.get(sku)
        child_price = parse_price(child[1].get("price")) if child else None
        variants.append(Variant(sku=sku, options=options, price=child_price if child_price is not None else price))
    # One photo per color, from the first variant of each color that names one (color from pixels).
    colors_seen: set[str] = set()
    for variant in variants:
        color = variant.options.get("color")
        child = by_sku.get(variant.sku)
        if color and color not in colors_seen and child and (child[1].get("base_image") or "").strip():
            colors_seen.add(color)
            refs.append(child[1]["base_image"])
    resolved = {ref: img for ref in dict.fromkeys(r.strip() for r in refs if r and r.strip())
                if (img := resolve_image(ref, images_dir, path, line, log))}
    images = list(dict.fromkeys(resolved.values()))
    # A variant's photo is its own row's base image, when that photo is among the product's.
    variants = [v.model_copy(update={"image": resolved.get((by_sku[v.sku][1].get("base_image") or "").strip())})
                if v.sku in by_sku else v for v in variants]
    attributes = {key: values for key, value in _parse_pairs(row.get("additional_attributes", ""))
                  if key not in NON_ATTRIBUTES and (values := _attribute_values(value))}
    html = row.get("description") or ""
    return Product(
        store=store, product_id=row["sku"].strip(), title=entity_text(row.get("name")),
        description=html_to_text(html) or html_to_text(row.get("short_description") or ""),
        description_html=html, product_type=(row.get("attribute_set_code") or "").strip(),
        price=price, variants=variants, images=images, attributes=attributes,
        merchant_category=_export_category(row.get("categories", "")),
        created_at=(row.get("created_at") or "").strip() or None,
    )


def _attribute_values(cell: str) -> list[str]:
    """A multi-value attribute cell; Magento stores the values' names with HTML entities, as it does
    product names ("CoolTech&trade;", "&frac14; zip")."""
    return list(dict.fromkeys(v for v in map(entity_text, split_values(cell, "|")) if v))


# --- the sample-data shorthand ------------------------------------------------------------------

def _category_tree(fixtures: Path) -> dict[str, set[str]]:
    """Category name -> the paths of its possible parents ('' for a root), from every categories.csv."""
    tree: dict[str, set[str]] = {}
    quiet = IssueLog()
    for csv_path in sorted(fixtures.rglob("categories.csv")):
        for _, row in read_csv(csv_path, quiet):
            if row.get("name"):
                tree.setdefault(row["name"].strip(), set()).add((row.get("path") or "").strip())
    return tree


def _shorthand_category(value: str, tree: dict[str, set[str]]) -> str | None:
    """'Gear\\nBags\\nCollections\\nErin Recommends' (category names) -> 'Gear/Bags'."""
    paths: list[list[str]] = []
    for name in split_values(value, ""):
        parents = tree.get(name)
        current = paths[-1] if paths else None
        known_parent = parents is None and name not in COLLECTION_ROOTS
        if current is not None and (known_parent or (parents and "/".join(current) in parents)):
            current.append(name)
        else:
            paths.append([name])
    return _pick_category(paths)


def _image_map(folder: Path, log: IssueLog) -> dict[str, list[tuple[Path, int, str]]]:
    images: dict[str, list[tuple[Path, int, str]]] = {}
    for csv_path in sorted(folder.glob("images_*.csv")):
        for line, row in read_csv(csv_path, log):
            if row.get("sku") and row.get("image"):
                images.setdefault(row["sku"].strip(), []).append((csv_path, line, row["image"].strip()))
    return images


def _read_shorthand(path: Path, store: str, images_dir: Path, tree: dict[str, set[str]],
                    image_map: dict[str, list[tuple[Path, int, str]]], log: IssueLog) -> Iterator[Product]:
    """Products of a shorthand CSV; `image_map` is `_image_map` of its folder (sku -> image refs)."""
    for line, row in read_csv(path, log):
        sku = (row.get("sku") or "").strip()
        if not sku:
            log.error(path, line, "missing sku")
            continue
        try:
            images = [img for src, src_line, ref in image_map.get(sku, [])
                      if (img := resolve_image(ref, images_dir, src, src_line, log))]
            attributes = {key: values for key, value in row.items()
                          if key not in SHORTHAND_FIELDS and (values := _attribute_values(value))}
            html = row.get("description") or ""
            yield Product(
                store=store, product_id=sku, title=entity_text(row.get("name")),
                description=html_to_text(html) or html_to_text(row.get("short_description") or ""),
                description_html=html, product_type=(row.get("attribute_set") or "").strip(),
                price=parse_price(row.get("price")), images=list(dict.fromkeys(images)),
                attributes=attributes, merchant_category=_shorthand_category(row.get("category", ""), tree),
                created_at=(row.get("created_at") or "").strip() or None,
            )
        except ValidationError as exc:
            log.error(path, line, f"{sku}: {validation_reason(exc)}")
        except ValueError as exc:
            log.error(path, line, f"{sku}: {exc}")
