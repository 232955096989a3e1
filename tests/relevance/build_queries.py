#!/usr/bin/env python3
"""Derive the judged relevance query set from the Magento 2 Luma sample-data CSVs.

Usage:
    python tests/relevance/build_queries.py /work/shared/data/magento-luma [-o tests/relevance/queries.jsonl]

Every query is a rule over the catalog attributes (see README.md for the grading rules):
    grade 2 = fully relevant  (matches every constraint of the query)
    grade 1 = partially relevant (right product type but one soft constraint missed, e.g. wrong colour or
              wrong gender, or a close substitute)
    unlisted = 0
The rules are plain Python functions over `Product` records, so a reviewer can read and re-run them.
"""
from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


@dataclass
class Product:
    id: str                      # Magento sku of the configurable parent / stand-alone product
    name: str
    source: str                  # apparel | gear | bundle | grouped | download
    categories: list[str]        # full paths without "Default Category/" (apparel) or gear path
    leaf: str                    # main leaf category: Hoodies & Sweatshirts, Jackets, Tees, Tanks,
                                 # Bras & Tanks, Pants, Shorts, Bags, Fitness Equipment, Watches, ...
    gender: set[str]             # {"Men"}, {"Women"}, or gear gender values; empty = unspecified
    price: float | None
    colors: set[str] = field(default_factory=set)   # union of the variant colours
    material: set[str] = field(default_factory=set)
    pattern: set[str] = field(default_factory=set)
    climate: set[str] = field(default_factory=set)
    style: set[str] = field(default_factory=set)    # style_general | style_bottom | style_bags
    activity: set[str] = field(default_factory=set)
    category_gear: set[str] = field(default_factory=set)
    features: set[str] = field(default_factory=set)  # features_bags
    flags: set[str] = field(default_factory=set)    # eco_collection, performance_fabric, sale, new
    description: str = ""

    @property
    def text(self) -> str:
        return f"{self.name} {self.description}".lower()


def _clean(s: str) -> str:
    s = html.unescape(s or "")
    s = re.sub(r"<[^>]+>", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _vals(s: str, sep: str) -> set[str]:
    return {_clean(v) for v in (s or "").split(sep) if _clean(v)}


def _price(s: str) -> float | None:
    try:
        return float(s)
    except (TypeError, ValueError):
        return None


def _parse_additional(s: str) -> dict[str, str]:
    # "material=Wool|Fleece,pattern=Solid,climate=Cool|Spring,eco_collection=Yes"
    out = {}
    for part in re.split(r",(?=[a-z_]+=)", s or ""):
        if "=" in part:
            k, v = part.split("=", 1)
            out[k] = v
    return out


def load_apparel(root: Path) -> list[Product]:
    rows = list(csv.DictReader(open(root / "fixtures/ConfigurableSampleData/products.csv", encoding="utf-8")))
    out = []
    for r in rows:
        if r["product_type"] != "configurable":
            continue
        cats = [c.replace("Default Category/", "") for c in r["categories"].split(",")
                if c.startswith("Default Category/")]
        main = next(c for c in cats if c.startswith(("Men/", "Women/")))
        a = _parse_additional(r["additional_attributes"])
        colors = set()
        for var in r["configurable_variations"].split("|"):
            kv = dict(x.split("=", 1) for x in var.split(",") if "=" in x)
            if kv.get("color"):
                colors.add(kv["color"])
        flags = {k for k in ("eco_collection", "performance_fabric", "sale", "new", "erin_recommends")
                 if a.get(k) == "Yes"}
        out.append(Product(
            id=r["sku"], name=_clean(r["name"]), source="apparel", categories=cats,
            leaf=main.split("/")[-1], gender={main.split("/")[0]}, price=_price(r["price"]),
            colors=colors, material=_vals(a.get("material"), "|"), pattern=_vals(a.get("pattern"), "|"),
            climate=_vals(a.get("climate"), "|"),
            style=_vals(a.get("style_general"), "|") | _vals(a.get("style_bottom"), "|"),
            flags=flags, description=_clean(r["description"]),
        ))
    return out


def _gear_row(r: dict, source: str) -> Product:
    cats = [c.strip() for c in r.get("category", "").split("\n") if c.strip()]
    leaf = cats[1] if len(cats) > 1 else cats[0]
    flags = {k for k in ("eco_collection", "performance_fabric", "sale", "new", "erin_recommends")
             if (r.get(k) or "").strip() == "1"}
    return Product(
        id=r["sku"], name=_clean(r["name"]), source=source, categories=["/".join(cats)], leaf=leaf,
        gender=_vals(r.get("gender"), "\n"), price=_price(r.get("price")),
        colors={r["color"]} if r.get("color") else set(),
        material=_vals(r.get("material"), "\n"), pattern=_vals(r.get("pattern"), "\n"),
        style=_vals(r.get("style_bags"), "\n"), activity=_vals(r.get("activity"), "\n"),
        category_gear=_vals(r.get("category_gear"), "\n"), features=_vals(r.get("features_bags"), "\n"),
        flags=flags, description=_clean(r.get("description")),
    )


def load_gear(root: Path) -> list[Product]:
    fx = root / "fixtures"
    out = []
    for f in sorted((fx / "CatalogSampleData/SimpleProduct").glob("products_gear_*.csv")):
        out += [_gear_row(r, "gear") for r in csv.DictReader(open(f, encoding="utf-8"))]
    for f, src in [("BundleSampleData/yoga_bundle.csv", "bundle"),
                   ("GroupedProductSampleData/yoga_grouped.csv", "grouped"),
                   ("DownloadableSampleData/products_training_video_download.csv", "download")]:
        out += [_gear_row(r, src) for r in csv.DictReader(open(fx / f, encoding="utf-8"))]
    return out


def load_catalog(root: Path) -> list[Product]:
    prods = load_apparel(root) + load_gear(root)
    ids = [p.id for p in prods]
    assert len(ids) == len(set(ids)), "duplicate ids"
    return prods


# --------------------------------------------------------------------------------------------------
# Constraint helpers. Each returns 2 (satisfied), 1 (near miss) or 0 (violated).
# --------------------------------------------------------------------------------------------------

OK, NEAR, NO = 2, 1, 0


def b(cond: bool, near: bool = False) -> int:
    """2 if cond, else 1 if near, else 0."""
    return OK if cond else (NEAR if near else NO)


# product types (category based; apparel gender comes from the Men/Women category path)
def is_hoodie(p):   return p.leaf == "Hoodies & Sweatshirts"      # the catalog's own grouping
def is_jacket(p):   return p.leaf == "Jackets"
def is_tee(p):      return p.leaf == "Tees"
def is_tank(p):     return p.leaf == "Tanks" or (p.leaf == "Bras & Tanks" and "Tank" in p.style)
def is_bra(p):      return p.leaf == "Bras & Tanks" and "Bra" in p.style
def is_top(p):      return any("/Tops/" in c for c in p.categories)
def is_pants(p):    return p.leaf == "Pants"
def is_shorts(p):   return p.leaf == "Shorts"
def is_bottom(p):   return any("/Bottoms/" in c for c in p.categories)
def is_apparel(p):  return p.source == "apparel"
def is_bag(p):      return p.leaf == "Bags"
def is_watch(p):    return p.leaf == "Watches"
def is_fitness(p):  return p.leaf == "Fitness Equipment"
def is_video(p):    return p.source == "download"


def name_has(p, pattern: str) -> bool:
    return re.search(pattern, p.name, re.I) is not None


def text_has(p, pattern: str) -> bool:
    """Regex over name + description (used for activity words that apparel has no attribute for)."""
    return re.search(pattern, p.text, re.I) is not None


RUNNING = r"\brun(s|ning|ner|ners)?\b|\bjog"
YOGA = r"\byoga\b|\bbikram\b|\bpilates\b"


def gender(p, g: str) -> int:
    """Apparel: Men/Women category path. Gear: `gender` attribute (unisex items count for both).
    Wrong gender is a near miss; gear without a gender attribute counts as a match."""
    if not p.gender:
        return OK
    return b(g in p.gender or "Unisex" in p.gender, near=True)


def color(p, c: str) -> int:
    """A product matches a colour if ANY of its variants has it; otherwise near miss."""
    return b(c in p.colors, near=True)


def material(p, m: str) -> int:
    return b(any(m.lower() in x.lower() for x in p.material), near=True)


def no_material(p, m: str) -> int:
    """Negation: the excluded material must be absent (hard)."""
    return b(not any(m.lower() in x.lower() for x in p.material))


def no_color(p, c: str) -> int:
    """Negated colour: 2 = no variant has it; 1 = it has the colour but other colours too; 0 = only it."""
    if c not in p.colors:
        return OK
    return NEAR if len(p.colors) > 1 else NO


def style(p, *s: str) -> int:
    return b(any(x in p.style for x in s), near=True)


def pattern(p, s: str) -> int:
    return b(s in p.pattern, near=True)


def climate(p, *c: str) -> int:
    return b(any(x in p.climate for x in c), near=True)


def eco(p) -> int:
    return b("eco_collection" in p.flags or any("Eco Friendly" in c for c in p.categories), near=True)


def price(p, lo: float | None = None, hi: float | None = None, slack: float = 0.10,
          lo_strict: bool = False, hi_strict: bool = False) -> int:
    """2 inside [lo, hi] ("under"/"over" are strict); 1 within 10 % outside the range; 0 otherwise.
    Products without a price (bundle, grouped) never match a price query."""
    if p.price is None:
        return NO
    x = p.price
    lo_ok = lo is None or (x > lo if lo_strict else x >= lo)
    hi_ok = hi is None or (x < hi if hi_strict else x <= hi)
    if lo_ok and hi_ok:
        return OK
    near_lo = lo is None or x >= lo * (1 - slack)
    near_hi = hi is None or x <= hi * (1 + slack)
    return b(False, near=near_lo and near_hi)


def combine(*constraints: int) -> int:
    """2 if every constraint is satisfied; 1 if exactly one is a near miss and the rest are
    satisfied; 0 otherwise (any violated constraint, or two near misses)."""
    if any(c == NO for c in constraints):
        return NO
    misses = sum(c == NEAR for c in constraints)
    return OK if misses == 0 else (NEAR if misses == 1 else NO)


# --------------------------------------------------------------------------------------------------
# Reusable product-type rules (2 = the type, 1 = a close substitute)
# --------------------------------------------------------------------------------------------------

def t(cond: bool, near: bool = False) -> int:
    return b(cond, near)


def yoga_pants(p):
    """Pants (incl. capris/leggings/tights) marketed for yoga, or leggings; other pants are substitutes."""
    return t(is_pants(p) and (text_has(p, YOGA) or "Leggings" in p.style), near=is_pants(p))


def leggings(p):
    full = is_pants(p) and ("Leggings" in p.style or name_has(p, r"legging|tight"))
    return t(full, near=is_pants(p) and bool({"Capri", "Compression"} & p.style))


def sweatshirt(p):
    full = is_hoodie(p) and (name_has(p, r"sweatshirt|crewneck|pullie") or "Sweatshirt" in p.style)
    return t(full, near=is_hoodie(p))


def bag_style(p, s: str):
    return t(is_bag(p) and s in p.style, near=is_bag(p))


def water_bottle(p):
    return t(is_fitness(p) and "Hydration" in p.category_gear)


def watch(p):
    return t(is_watch(p))


def kit_contains(p) -> bool:
    """The Sprite Yoga Companion Kit bundles a stasis ball, foam brick, yoga strap and foam roller."""
    return p.source == "bundle"


def zipped(p) -> bool:
    return "Full zip" in p.style or text_has(p, r"full[- ]zip|zipper")


def is_yoga_wear(p) -> bool:
    return text_has(p, YOGA) or any("Yoga Collection" in c for c in p.categories)


def is_light(p) -> bool:
    return bool({"Warm", "Hot"} & p.climate) or "Lightweight" in p.style


def is_warm(p) -> bool:
    """Made for the cold: the catalog's Cold/Wintry climate, an insulated style, or a fleece or wool fabric."""
    return (bool({"Cold", "Wintry"} & p.climate) or "Insulated" in p.style
            or any(m in ("Fleece", "Wool") for m in p.material))


def is_wet_weather(p) -> bool:
    """Made for rain: the Rainy climate, a rain coat or hard shell, or a description that says it keeps water out."""
    return ("Rainy" in p.climate or bool({"Rain Coat", "Hard Shell"} & p.style)
            or text_has(p, r"waterproof|water[- ]resistant|water[- ]repellent|rain\b"))


def water_resistant_watch(p):
    return t(is_watch(p) and text_has(p, r"water[- ]resistant|waterproof|lap pool"), near=is_watch(p))


class ByPrice:
    """A superlative over price ("cheapest hoodie"): 2 = a product of the kind priced among its `n` lowest
    (or highest) prices, ties included; 1 = another product of the kind (a near miss); 0 = not the kind.
    `prepare` reads the catalog's prices before the rule is applied."""

    def __init__(self, kind, n: int, lowest: bool = True) -> None:
        self.kind, self.n, self.lowest = kind, n, lowest
        self.bound: float | None = None

    def prepare(self, products: list[Product]) -> None:
        prices = sorted((p.price for p in products if self.kind(p) == OK and p.price is not None),
                        reverse=not self.lowest)
        self.bound = prices[min(self.n, len(prices)) - 1]

    def __call__(self, p) -> int:
        kind = self.kind(p)
        if kind != OK or p.price is None:
            return NEAR if kind else NO
        inside = p.price <= self.bound if self.lowest else p.price >= self.bound
        return OK if inside else NEAR


def not_backpack(p) -> int:
    return b("Backpack" not in p.style)


def not_capri(p) -> int:
    return b("Capri" not in p.style and not name_has(p, "capri"))


# --------------------------------------------------------------------------------------------------
# The queries: (query text, kind, rule). rule(p) -> 2 / 1 / 0. A follow-up's text is a tuple of turns:
# the earlier turns, then the judged one; its rule judges what the whole conversation asks for.
# --------------------------------------------------------------------------------------------------

QUERIES = [
    # ---- keyword: short head queries -------------------------------------------------------------
    ("hoodie", "keyword", lambda p: t(is_hoodie(p))),
    ("yoga pants", "keyword", yoga_pants),
    ("sports bra", "keyword", lambda p: t(is_bra(p))),
    ("tank top", "keyword", lambda p: t(is_tank(p))),
    ("mens shorts", "keyword", lambda p: combine(t(is_shorts(p)), gender(p, "Men"))),
    ("womens jacket", "keyword", lambda p: combine(t(is_jacket(p)), gender(p, "Women"))),
    ("leggings", "keyword", leggings),
    ("capris", "keyword", lambda p: t(is_pants(p) and "Capri" in p.style,
                                      near=is_pants(p) and "Leggings" in p.style and "Women" in p.gender)),
    ("sweatpants", "keyword", lambda p: t(is_pants(p) and "Sweatpants" in p.style, near=is_pants(p))),
    ("t shirt", "keyword", lambda p: t(is_tee(p))),
    ("windbreaker", "keyword", lambda p: t(is_jacket(p) and "Windbreaker" in p.style, near=is_jacket(p))),
    ("rain jacket", "keyword", lambda p: t(is_jacket(p) and "Rain Coat" in p.style,
                                           near=is_jacket(p) and ("Rainy" in p.climate or "Hard Shell" in p.style))),
    ("running shorts", "keyword", lambda p: combine(t(is_shorts(p)), b(text_has(p, RUNNING), near=True))),
    ("mens tank", "keyword", lambda p: combine(t(is_tank(p)), gender(p, "Men"))),
    ("sweatshirt", "keyword", sweatshirt),
    ("track pants", "keyword", lambda p: t(is_pants(p) and "Track Pants" in p.style, near=is_pants(p))),

    # ---- gear ------------------------------------------------------------------------------------
    ("watch", "gear", watch),
    ("water bottle", "gear", water_bottle),
    ("duffel bag", "gear", lambda p: bag_style(p, "Duffel")),
    ("backpack", "gear", lambda p: bag_style(p, "Backpack")),
    ("messenger bag", "gear", lambda p: bag_style(p, "Messenger")),
    ("tote bag", "gear", lambda p: bag_style(p, "Tote")),
    ("laptop bag", "gear", lambda p: t(is_bag(p) and ("Laptop" in p.style or "Laptop Sleeve" in p.features),
                                       near=is_bag(p))),
    ("waterproof backpack", "gear", lambda p: combine(t(is_bag(p)), b("Backpack" in p.style, near=True),
                                                      b("Waterproof" in p.features, near=True))),
    ("gym bag", "gear", lambda p: combine(t(is_bag(p)),
                                          b("Gym" in p.activity or "Exercise" in p.style, near=True))),
    ("yoga ball", "gear", lambda p: t(name_has(p, r"stasis ball"), near=kit_contains(p))),
    ("foam roller", "gear", lambda p: t(name_has(p, r"foam roller"), near=kit_contains(p))),
    ("yoga block", "gear", lambda p: t(name_has(p, r"yoga brick|yoga block"), near=kit_contains(p))),
    ("yoga strap", "gear", lambda p: t(name_has(p, r"yoga straps?\b"), near=kit_contains(p))),
    ("resistance bands", "gear", lambda p: t(is_fitness(p) and name_has(p, r"\bband"))),
    ("jump rope", "gear", lambda p: t(name_has(p, r"jump rope"))),
    ("mens watch", "gear", lambda p: combine(watch(p), gender(p, "Men"))),
    ("womens sports watch", "gear", lambda p: combine(watch(p), gender(p, "Women"),
                                                      b("Exercise" in p.category_gear, near=True))),
    ("digital watch", "gear", lambda p: t(is_watch(p) and text_has(p, r"digital") and not name_has(p, "analog"),
                                          near=is_watch(p))),
    ("workout videos", "gear", lambda p: t(is_video(p))),
    ("yoga video for beginners", "gear", lambda p: t(is_video(p) and name_has(p, "beginner"),
                                                     near=is_video(p) and text_has(p, YOGA))),

    # ---- attribute: colour / material / pattern / style / climate / gender combinations -----------
    ("mens black hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), gender(p, "Men"), color(p, "Black"))),
    ("womens purple hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), gender(p, "Women"), color(p, "Purple"))),
    ("red tank top", "attribute", lambda p: combine(t(is_tank(p)), color(p, "Red"))),
    ("yellow tank top", "attribute", lambda p: combine(t(is_tank(p)), color(p, "Yellow"))),
    ("green womens tee", "attribute", lambda p: combine(t(is_tee(p)), gender(p, "Women"), color(p, "Green"))),
    ("white mens t-shirt", "attribute", lambda p: combine(t(is_tee(p)), gender(p, "Men"), color(p, "White"))),
    ("orange womens jacket", "attribute", lambda p: combine(t(is_jacket(p)), gender(p, "Women"), color(p, "Orange"))),
    ("brown hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), color(p, "Brown"))),
    ("grey sweatpants", "attribute", lambda p: combine(t(is_pants(p) and "Sweatpants" in p.style, near=is_pants(p)),
                                                       color(p, "Gray"))),
    ("blue running shorts for men", "attribute",
     lambda p: combine(t(is_shorts(p)), gender(p, "Men"), color(p, "Blue"), b(text_has(p, RUNNING), near=True))),
    ("organic cotton tee", "attribute", lambda p: combine(t(is_tee(p)), material(p, "Organic Cotton"))),
    ("wool hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), material(p, "Wool"))),
    ("fleece jacket", "attribute", lambda p: (material(p, "Fleece") if is_jacket(p) else
                                             t(False, near=is_hoodie(p) and (material(p, "Fleece") == OK
                                                                             or name_has(p, "fleece"))))),
    ("spandex leggings", "attribute", lambda p: combine(leggings(p), material(p, "Spandex"))),
    ("striped shorts", "attribute", lambda p: combine(t(is_shorts(p)), pattern(p, "Striped"))),
    ("color block hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), pattern(p, "Color-Blocked"))),
    ("insulated jacket", "attribute", lambda p: combine(t(is_jacket(p)), style(p, "Insulated"))),
    ("lightweight jacket", "attribute", lambda p: combine(t(is_jacket(p)), style(p, "Lightweight"))),
    ("full zip hoodie", "attribute", lambda p: combine(t(is_hoodie(p)), b(zipped(p), near=True))),
    ("compression shorts", "attribute", lambda p: combine(t(is_shorts(p)), style(p, "Compression"))),
    ("eco friendly womens shorts", "attribute", lambda p: combine(t(is_shorts(p)), gender(p, "Women"), eco(p))),

    # ---- conversational --------------------------------------------------------------------------
    ("i need a warm men's jacket for winter", "conversational",
     lambda p: combine(t(is_jacket(p)), gender(p, "Men"),
                       b(bool({"Cold", "Wintry"} & p.climate), near=bool({"Insulated", "Heavy Duty"} & p.style)))),
    ("something light for yoga class for women", "conversational",
     lambda p: combine(t(is_apparel(p) and is_yoga_wear(p)), gender(p, "Women"), b(is_light(p), near=True))),
    ("looking for a rain jacket for hiking, womens", "conversational",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"),
                       b("Rain Coat" in p.style or "Rainy" in p.climate, near=True),
                       b(text_has(p, r"\bhik|\btrail|\btrek"), near=True))),
    ("what's a good bag to carry my laptop to the gym", "conversational",
     lambda p: combine(t(is_bag(p)), b("Laptop" in p.style or "Laptop Sleeve" in p.features, near=True),
                       b("Gym" in p.activity, near=True))),
    ("comfortable shorts for hot summer runs, women", "conversational",
     lambda p: combine(t(is_shorts(p)), gender(p, "Women"), climate(p, "Hot", "Warm"),
                       b(text_has(p, RUNNING), near=True))),
    ("moisture wicking tee for men", "conversational",
     lambda p: combine(t(is_tee(p)), gender(p, "Men"), b(text_has(p, r"wick"), near=True))),
    ("i need a bag for an overnight trip", "conversational",
     lambda p: t(is_bag(p) and ("Overnight" in p.activity or bool({"Duffel", "Luggage"} & p.style)),
                 near=is_bag(p) and "Travel" in p.activity)),
    ("pants for cold morning jogs, mens", "conversational",
     lambda p: combine(t(is_pants(p)), gender(p, "Men"), climate(p, "Cold", "Wintry"),
                       b(text_has(p, RUNNING), near=True))),
    ("sleeveless workout top for a guy", "conversational",
     lambda p: combine(t(is_tank(p)), gender(p, "Men"))),
    ("lightweight women's jacket that can handle wind", "conversational",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"), style(p, "Lightweight"),
                       b("Windbreaker" in p.style or "Windy" in p.climate, near=True))),
    ("eco friendly workout clothes for women", "conversational",
     lambda p: combine(t(is_apparel(p) and eco(p) == OK), gender(p, "Women"))),
    ("a watch that can track my heart rate", "conversational",
     lambda p: t(is_watch(p) and text_has(p, r"heart rate"), near=is_watch(p) and "Exercise" in p.category_gear)),
    ("a watch i can wear in the pool", "conversational",
     lambda p: t(is_watch(p) and text_has(p, r"water[- ]resistant|waterproof|lap pool"), near=is_watch(p))),
    ("gift for a friend who does yoga at home", "conversational",
     lambda p: t(p.source in ("gear", "bundle", "grouped", "download") and not is_bag(p) and "Yoga" in p.activity,
                 near=is_bag(p) and "Yoga" in p.activity)),
    ("hoodie for cool windy days", "conversational",
     lambda p: combine(t(is_hoodie(p)), climate(p, "Windy"))),

    # ---- price (uses the `price` column; near miss = within 10 % outside the range) ----------------
    ("hoodie under $50", "price", lambda p: combine(t(is_hoodie(p)), price(p, hi=50, hi_strict=True))),
    ("women's tees between 20 and 30 dollars", "price",
     lambda p: combine(t(is_tee(p)), gender(p, "Women"), price(p, 20, 30))),
    ("mens jacket under 50", "price",
     lambda p: combine(t(is_jacket(p)), gender(p, "Men"), price(p, hi=50, hi_strict=True))),
    ("yoga pants under $40", "price", lambda p: combine(yoga_pants(p), price(p, hi=40, hi_strict=True))),
    ("watch under $50", "price", lambda p: combine(watch(p), price(p, hi=50, hi_strict=True))),
    ("backpack under 40 dollars", "price",
     lambda p: combine(bag_style(p, "Backpack"), price(p, hi=40, hi_strict=True))),
    ("tank tops under $25", "price", lambda p: combine(t(is_tank(p)), price(p, hi=25, hi_strict=True))),
    ("womens running shorts less than $30", "price",
     lambda p: combine(t(is_shorts(p)), gender(p, "Women"), b(text_has(p, RUNNING), near=True),
                       price(p, hi=30, hi_strict=True))),
    ("bags under $35", "price", lambda p: combine(t(is_bag(p)), price(p, hi=35, hi_strict=True))),
    ("mens pants over $60", "price",
     lambda p: combine(t(is_pants(p)), gender(p, "Men"), price(p, lo=60, lo_strict=True))),
    ("fitness equipment under $15", "price", lambda p: combine(t(is_fitness(p)), price(p, hi=15, hi_strict=True))),
    ("womens jackets $60 to $80", "price",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"), price(p, 60, 80))),
    ("sports bra under 30", "price", lambda p: combine(t(is_bra(p)), price(p, hi=30, hi_strict=True))),

    # ---- negation (the excluded value is a hard constraint) ----------------------------------------
    ("men's pants not cotton", "negation",
     lambda p: combine(t(is_pants(p)), gender(p, "Men"), no_material(p, "Cotton"))),
    ("bags except backpacks", "negation", lambda p: combine(t(is_bag(p)), b("Backpack" not in p.style))),
    ("tops no black", "negation", lambda p: combine(t(is_top(p)), no_color(p, "Black"))),
    ("hoodie without zipper", "negation", lambda p: combine(t(is_hoodie(p)), b(not zipped(p)))),
    ("womens shorts not black", "negation",
     lambda p: combine(t(is_shorts(p)), gender(p, "Women"), no_color(p, "Black"))),
    ("jacket that isn't polyester", "negation", lambda p: combine(t(is_jacket(p)), no_material(p, "Polyester"))),
    ("non leather bag", "negation", lambda p: combine(t(is_bag(p)), no_material(p, "Leather"))),
    ("mens tee without polyester", "negation",
     lambda p: combine(t(is_tee(p)), gender(p, "Men"), no_material(p, "Polyester"))),
    ("womens pants no capris", "negation",
     lambda p: combine(t(is_pants(p)), gender(p, "Women"),
                       b("Capri" not in p.style and not name_has(p, "capri")))),
    ("hoodies not grey", "negation", lambda p: combine(t(is_hoodie(p)), no_color(p, "Gray"))),

    # ---- misspellings (same rule as the correctly spelled query) -----------------------------------
    ("hoddie", "misspelling", lambda p: t(is_hoodie(p))),
    ("jackt", "misspelling", lambda p: t(is_jacket(p))),
    ("yoga pnats", "misspelling", yoga_pants),
    ("waterbottle", "misspelling", water_bottle),
    ("legings", "misspelling", leggings),
    ("sweatshrit", "misspelling", sweatshirt),
    ("backpak", "misspelling", lambda p: bag_style(p, "Backpack")),
    ("dufel bag", "misspelling", lambda p: bag_style(p, "Duffel")),
    ("mens wtach", "misspelling", lambda p: combine(watch(p), gender(p, "Men"))),
    ("womans tank top", "misspelling", lambda p: combine(t(is_tank(p)), gender(p, "Women"))),
    ("sprots bra", "misspelling", lambda p: t(is_bra(p))),
    ("mens shrots", "misspelling", lambda p: combine(t(is_shorts(p)), gender(p, "Men"))),

    # ---- use and occasion, without the catalog's attribute words (issue 17) -------------------------
    ("something warm for hiking in the rain", "use",
     lambda p: combine(t(is_jacket(p) or is_hoodie(p)), b(is_warm(p), near=True), b(is_wet_weather(p), near=True))),
    ("a gift for a runner", "use",
     lambda p: t(text_has(p, RUNNING), near=is_watch(p) and "Exercise" in p.category_gear)),
    ("gym bag that fits a laptop", "use",
     lambda p: combine(t(is_bag(p)), b("Gym" in p.activity, near=True),
                       b("Laptop" in p.style or "Laptop Sleeve" in p.features, near=True))),
    ("something to wear for hot yoga", "use",
     lambda p: combine(t(is_apparel(p) and is_yoga_wear(p)), climate(p, "Hot", "Warm"))),
    ("clothes for running in winter", "use",
     lambda p: combine(t(is_apparel(p)), b(text_has(p, RUNNING), near=True), climate(p, "Cold", "Wintry"))),
    ("packing for a weekend away", "use",
     lambda p: t(is_bag(p) and "Overnight" in p.activity, near=is_bag(p) and "Travel" in p.activity)),
    ("staying hydrated during workouts", "use",
     lambda p: t(is_fitness(p) and "Hydration" in p.category_gear,
                 near=is_bag(p) and "Hydration Pocket" in p.features)),
    ("a bag for school", "use", lambda p: t(is_bag(p) and "School" in p.activity, near=is_bag(p))),
    ("home workout gear", "use", lambda p: t(is_fitness(p) or is_video(p))),
    ("something to keep me cool in the summer heat", "use",
     lambda p: t(is_apparel(p) and "Hot" in p.climate, near=is_apparel(p) and "Warm" in p.climate)),
    ("outfit for a cold morning walk, women", "use",
     lambda p: combine(t(is_apparel(p)), gender(p, "Women"), climate(p, "Cold", "Wintry"))),

    # ---- questions ---------------------------------------------------------------------------------
    ("do you have waterproof jackets?", "question", lambda p: t(is_jacket(p) and is_wet_weather(p), near=is_jacket(p))),
    ("do you sell duffel bags?", "question", lambda p: bag_style(p, "Duffel")),
    ("are there any men's hoodies under $55?", "question",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Men"), price(p, hi=55, hi_strict=True))),
    ("what backpacks do you have", "question", lambda p: bag_style(p, "Backpack")),
    ("which watches are water resistant?", "question", water_resistant_watch),
    ("do you carry organic cotton tees?", "question", lambda p: combine(t(is_tee(p)), material(p, "Organic Cotton"))),
    ("can i get a black tank top for women?", "question",
     lambda p: combine(t(is_tank(p)), gender(p, "Women"), color(p, "Black"))),
    ("is there a yoga strap?", "question", lambda p: t(name_has(p, r"yoga straps?\b"), near=kit_contains(p))),
    ("have you got any fleece jackets?", "question",
     lambda p: t(is_jacket(p) and material(p, "Fleece") == OK, near=is_jacket(p))),
    ("where can i find women's capris?", "question",
     lambda p: combine(t(is_pants(p) and "Capri" in p.style, near=is_pants(p)), gender(p, "Women"))),
    ("how much are the foam rollers?", "question", lambda p: t(name_has(p, r"foam roller"), near=kit_contains(p))),

    # ---- comparisons and superlatives. The catalog has prices, climates and styles, no ratings or
    # weights: "lightest" is the Lightweight style, "warmest" the warm rule, "best rated" judges the
    # kind alone (nothing in the data ranks tees by rating). -------------------------------------------
    ("cheapest hoodie", "superlative", ByPrice(lambda p: t(is_hoodie(p)), 5)),
    ("most expensive watch", "superlative", ByPrice(watch, 3, lowest=False)),
    ("lowest price sports bra", "superlative", ByPrice(lambda p: t(is_bra(p)), 2)),
    ("lightest jacket for women", "superlative",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"), style(p, "Lightweight"))),
    ("warmest men's jacket", "superlative",
     lambda p: combine(t(is_jacket(p)), gender(p, "Men"), b(is_warm(p), near=True))),
    ("best rated tee", "superlative", lambda p: t(is_tee(p))),
    ("lightest backpack", "superlative",
     lambda p: combine(bag_style(p, "Backpack"), b("Lightweight" in p.features, near=True))),
    ("tees cheaper than $25", "superlative", lambda p: combine(t(is_tee(p)), price(p, hi=25, hi_strict=True))),
    ("watches pricier than $50", "superlative", lambda p: combine(watch(p), price(p, lo=50, lo_strict=True))),
    ("a jacket warmer than a windbreaker", "superlative", lambda p: t(is_jacket(p) and is_warm(p), near=is_jacket(p))),

    # ---- several constraints at once: negation and price together ----------------------------------
    ("mens hoodie under $60 not black", "multi",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Men"), price(p, hi=60, hi_strict=True), no_color(p, "Black"))),
    ("womens jacket under 70 no polyester", "multi",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"), price(p, hi=70, hi_strict=True),
                       no_material(p, "Polyester"))),
    ("bag under $40 except backpacks", "multi",
     lambda p: combine(t(is_bag(p)), price(p, hi=40, hi_strict=True), not_backpack(p))),
    ("womens shorts under $35 not cotton", "multi",
     lambda p: combine(t(is_shorts(p)), gender(p, "Women"), price(p, hi=35, hi_strict=True), no_material(p, "Cotton"))),
    ("mens tee under 30 without polyester", "multi",
     lambda p: combine(t(is_tee(p)), gender(p, "Men"), price(p, hi=30, hi_strict=True), no_material(p, "Polyester"))),
    ("yoga pants under $50, no capris", "multi",
     lambda p: combine(yoga_pants(p), price(p, hi=50, hi_strict=True), not_capri(p))),
    ("tank top for women under $30 not white", "multi",
     lambda p: combine(t(is_tank(p)), gender(p, "Women"), price(p, hi=30, hi_strict=True), no_color(p, "White"))),
    ("watch between 40 and 60 but not analog", "multi",
     lambda p: combine(watch(p), price(p, 40, 60), b(not name_has(p, "analog")))),
    ("men's pants over $40 not black", "multi",
     lambda p: combine(t(is_pants(p)), gender(p, "Men"), price(p, lo=40, lo_strict=True), no_color(p, "Black"))),
    ("hoodie for women between $40 and $60, no zipper", "multi",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Women"), price(p, 40, 60), b(not zipped(p)))),

    # ---- conversational follow-ups: earlier turns, then the judged one -----------------------------
    (("mens hoodie", "in black"), "followup",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Men"), color(p, "Black"))),
    (("womens jacket", "under $60"), "followup",
     lambda p: combine(t(is_jacket(p)), gender(p, "Women"), price(p, hi=60, hi_strict=True))),
    (("backpack", "something cheaper, under 40"), "followup",
     lambda p: combine(bag_style(p, "Backpack"), price(p, hi=40, hi_strict=True))),
    (("tank top", "for women", "not white"), "followup",
     lambda p: combine(t(is_tank(p)), gender(p, "Women"), no_color(p, "White"))),
    (("mens shorts", "show me blue ones"), "followup",
     lambda p: combine(t(is_shorts(p)), gender(p, "Men"), color(p, "Blue"))),
    (("hoodie under $50", "for women"), "followup",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Women"), price(p, hi=50, hi_strict=True))),
    (("watch", "for women"), "followup", lambda p: combine(watch(p), gender(p, "Women"))),
    (("tees for men", "organic cotton"), "followup",
     lambda p: combine(t(is_tee(p)), gender(p, "Men"), material(p, "Organic Cotton"))),
    (("bags", "no backpacks"), "followup", lambda p: combine(t(is_bag(p)), not_backpack(p))),
    (("yoga pants", "in black under $50"), "followup",
     lambda p: combine(yoga_pants(p), color(p, "Black"), price(p, hi=50, hi_strict=True))),
    (("womens jacket", "what about hoodies?"), "followup",
     lambda p: combine(t(is_hoodie(p)), gender(p, "Women"))),
]


# --------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------

KINDS = ("keyword", "conversational", "price", "negation", "misspelling", "attribute", "gear",
         "use", "question", "superlative", "multi", "followup")


def build(products: list[Product]) -> list[dict]:
    out = []
    seen = set()
    for text, kind, rule in QUERIES:
        turns = list(text) if isinstance(text, tuple) else [text]
        previous, query = turns[:-1], turns[-1]
        assert kind in KINDS, kind
        assert tuple(turns) not in seen, turns
        seen.add(tuple(turns))
        if hasattr(rule, "prepare"):
            rule.prepare(products)
        judgments = {}
        for p in products:
            g = rule(p)
            assert g in (0, 1, 2), (query, p.id, g)
            if g:
                judgments[p.id] = g
        judgments = dict(sorted(judgments.items(), key=lambda kv: (-kv[1], kv[0])))
        assert any(g == 2 for g in judgments.values()), f"no fully relevant product for {query!r}"
        row = {"query": query, "judgments": judgments, "kind": kind}
        if previous:
            row["previous"] = previous
        out.append(row)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data", type=Path, help="the magento-luma data folder (holds fixtures/)")
    ap.add_argument("-o", "--out", type=Path, default=Path(__file__).with_name("queries.jsonl"))
    ap.add_argument("--show", action="store_true", help="print every judgment with product names, for review")
    args = ap.parse_args(argv)

    products = load_catalog(args.data)
    rows = build(products)
    with open(args.out, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")

    if args.show:
        by_id = {p.id: p for p in products}
        for r in rows:
            print(f"\n## [{r['kind']}] {' | '.join([*r.get('previous', []), r['query']])}")
            for pid, g in r["judgments"].items():
                p = by_id[pid]
                print(f"  {g} {pid:15} {p.name[:40]:40} {'/'.join(sorted(p.gender))[:12]:12} "
                      f"{p.price} {sorted(p.colors)}")
    counts = {k: sum(r["kind"] == k for r in rows) for k in KINDS}
    print(f"wrote {len(rows)} queries over {len(products)} products to {args.out}: {counts}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
