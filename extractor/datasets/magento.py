"""Magento 2 sample-data fixtures folder (fixtures/*/*.csv + images/) -> products with gold labels."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from extractor.local.datafiles import load_data
from extractor.models import ProductInput


@dataclass
class GoldProduct:
    sku: str
    product: ProductInput
    magento_category: str
    accept: list[str]
    ancestors: list[str]
    gender: str | None
    material: list[str]
    pattern: list[str]
    variant_photos: list[tuple[str, str]] = field(default_factory=list)  # (image path, Magento colour)


def _parse_additional(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(","):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def _match_category(paths: list[str]) -> str | None:
    table = load_data("magento_categories.json")["categories"]
    for path in paths:
        path = path.replace("\n", "/").removeprefix("Default Category/")
        for key in table:
            if path == key or path.startswith(key + "/"):
                return key
    return None


COLLECTION_ROOTS = ("Collections", "Promotions")


def merchant_path(paths: list[str]) -> str | None:
    """The merchant's own category path, as the catalog importer reads it: the most specific path
    outside the collection trees, without the root ("Default Category/Men/Tops/Tees" -> "Men/Tops/Tees")."""
    split = [[s.strip() for s in p.replace("\n", "/").removeprefix("Default Category/").split("/") if s.strip()]
             for p in paths if p.strip() and p.strip() != "Default Category"]
    useful = [p for p in split if p and p[0] not in COLLECTION_ROOTS] or [p for p in split if p]
    return "/".join(max(useful, key=len)) if useful else None


def _shorthand_path(value: str) -> str | None:
    """'Gear\nBags\nCollections\nErin Recommends' -> 'Gear/Bags' (a collection root starts a new path)."""
    paths: list[list[str]] = []
    for name in (n.strip() for n in (value or "").split("\n")):
        if not name:
            continue
        if name in COLLECTION_ROOTS or not paths:
            paths.append([name])
        else:
            paths[-1].append(name)
    return merchant_path(["/".join(p) for p in paths])


def _gold(name: str, key: str) -> tuple[list[str], list[str]]:
    row = load_data("magento_categories.json")["categories"][key]
    accept, lowered = list(row["accept"]), name.lower()
    for rule in row.get("name_rules", []):
        if any(w in lowered for w in rule["words"]):
            accept = list(rule["accept"])
            break
    return accept, list(row["ancestors"])


def load(folder: str | Path) -> list[GoldProduct]:
    root = Path(folder)
    fixtures = root / "fixtures" if (root / "fixtures").is_dir() else root
    images = root / "images"
    out: list[GoldProduct] = []
    conf = fixtures / "ConfigurableSampleData" / "products.csv"
    if conf.exists():
        rows = list(csv.DictReader(conf.open(encoding="utf-8")))
        by_sku = {r["sku"]: r for r in rows}
        for r in rows:
            if r["product_type"] != "configurable":
                continue
            key = _match_category(r["categories"].split(","))
            if not key:
                continue
            attrs = _parse_additional(r["additional_attributes"])
            photos: list[tuple[str, str]] = []
            seen: set[str] = set()
            for variant in r["configurable_variations"].split("|"):
                v = _parse_additional(variant)
                child = by_sku.get(v.get("sku", ""))
                color = v.get("color")
                if child and color and child.get("base_image") and child["base_image"] not in seen:
                    seen.add(child["base_image"])
                    photos.append((str(images) + child["base_image"], color))
            accept, ancestors = _gold(r["name"], key)
            gender = key.split("/")[0] if key.split("/")[0] in ("Men", "Women") else None
            out.append(GoldProduct(
                sku=r["sku"],
                product=ProductInput(product_id=r["sku"], title=r["name"], description=r["description"],
                                     images=[str(images) + r["base_image"]] if r["base_image"] else [],
                                     product_type=r.get("attribute_set_code") or "",
                                     merchant_category=merchant_path(r["categories"].split(","))),
                magento_category=key, accept=accept, ancestors=ancestors, gender=gender,
                material=[m for m in attrs.get("material", "").split("|") if m],
                pattern=[m for m in attrs.get("pattern", "").split("|") if m], variant_photos=photos))
    simple = fixtures / "CatalogSampleData" / "SimpleProduct"
    for path in sorted(simple.glob("products_gear_*.csv")) if simple.is_dir() else []:
        image_file = path.with_name(path.name.replace("products_", "images_"))
        image_for: dict[str, str] = {}
        if image_file.exists():
            for row in csv.DictReader(image_file.open(encoding="utf-8")):
                image_for.setdefault(row["sku"], row["image"])
        for r in csv.DictReader(path.open(encoding="utf-8")):
            key = _match_category([r["category"]])
            if not key:
                continue
            accept, ancestors = _gold(r["name"], key)
            genders = [g for g in (r.get("gender") or "").split("\n") if g]
            img = image_for.get(r["sku"])
            photos = [(str(images) + img, r["color"])] if img and r.get("color") else []
            out.append(GoldProduct(
                sku=r["sku"],
                product=ProductInput(product_id=r["sku"], title=r["name"].strip(), description=r["description"],
                                     images=[str(images) + img] if img else [],
                                     product_type=r.get("attribute_set") or "",
                                     merchant_category=_shorthand_path(r.get("category") or "")),
                magento_category=key, accept=accept, ancestors=ancestors,
                gender=genders[0] if len(genders) == 1 else None,
                material=[m for m in (r.get("material") or "").split("\n") if m],
                pattern=[m for m in (r.get("pattern") or "").split("\n") if m], variant_photos=photos))
    return out
