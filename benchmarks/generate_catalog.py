"""A realistic synthetic catalog in our JSONL, seeded: the same --products and --seed give the same file.

- Categories are leaves of the bundled taxonomy, drawn per vertical with the weights of a general store
  (apparel first, then home, beauty, electronics, food; a tail of the other verticals).
- Titles and descriptions are composed from the category's name, values of its attributes, and a vocabulary
  of brands, materials and adjectives; every title is distinct (a serial-like model name ends it).
- Variants carry colours and sizes where the category has those attributes; prices are log-normal per
  vertical; a share of products carries merchant attributes and a merchant category.
- Products belong to several stores of very different sizes (one large store holds most of them).

    .venv/bin/python benchmarks/generate_catalog.py --products 100000 --seed 1 --out /tmp/catalog.jsonl
    .venv/bin/python benchmarks/generate_catalog.py --products 10000 --seed 1 --out C.jsonl --split-stores

Every line names its `store`; `catalog import --store S FILE` sets the store it is given, so `--split-stores`
also writes one file per store (FILE-<store>.jsonl) for importing them one by one.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Share of products per taxonomy vertical (a general online store: apparel and home lead).
VERTICAL_WEIGHTS = {"aa": 0.34, "hg": 0.16, "hb": 0.12, "el": 0.09, "fb": 0.07, "sg": 0.06, "fr": 0.04,
                    "lb": 0.03, "tg": 0.03, "bt": 0.02, "ap": 0.02, "os": 0.02}
# Median price (USD) and spread (sigma of the log) per vertical.
PRICES = {"aa": (35, 0.6), "hg": (40, 0.8), "hb": (18, 0.6), "el": (90, 1.0), "fb": (9, 0.5), "sg": (45, 0.9),
          "fr": (250, 0.7), "lb": (60, 0.6), "tg": (25, 0.7), "bt": (22, 0.6), "ap": (20, 0.7), "os": (12, 0.7)}
# Store name -> share of the products: one big store, a few middling, a tail of small ones.
STORES = {"mega": 0.80, "outfitters": 0.12, "homegoods": 0.05, "corner": 0.025, "boutique": 0.005}
# A store sells only some verticals (None: all of them).
STORE_VERTICALS = {"mega": None, "outfitters": ("aa", "sg", "lb"), "homegoods": ("hg", "fr"),
                   "corner": ("fb", "hb", "os"), "boutique": ("aa", "hb")}
BRANDS = ["Northwind", "Alder & Co", "Brightline", "Cobalt", "Driftwood", "Ember", "Fernhill", "Granite Peak",
          "Harbor", "Ironbark", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Oakridge", "Pinecrest",
          "Quarry", "Redtail", "Saltmarsh", "Tidewater", "Umber", "Vantage", "Willow Lane", "Yarrow", "Zephyr",
          "Aurora", "Bramble", "Cascade", "Dune", "Everly", "Foxglove", "Glacier", "Hollow Oak", "Indigo Row",
          "Jasper", "Kinfolk", "Larkspur", "Mosaic", "Nordic Loft", "Orchard", "Pebble", "Quill", "Riverstone"]
ADJECTIVES = ["Classic", "Essential", "Everyday", "Premium", "Lightweight", "Soft", "Durable", "Compact", "Modern",
              "Vintage", "Slim", "Relaxed", "Deluxe", "Eco", "Heritage", "Signature", "Ultra", "Cozy", "Sleek",
              "Rugged", "Minimal", "Handmade", "Organic", "Travel", "Studio", "Urban", "Coastal", "Alpine"]
MATERIALS = ["cotton", "linen", "wool", "leather", "bamboo", "steel", "oak", "walnut", "ceramic", "glass",
             "recycled polyester", "silicone", "canvas", "denim", "merino", "cashmere", "aluminum", "stoneware"]
FEATURES = ["easy to clean", "made to last", "gift ready", "designed for everyday use", "backed by a one-year "
            "warranty", "packed in recyclable packaging", "tested by our team", "a customer favourite",
            "sized for travel", "great for small spaces", "comfortable all day", "built for the outdoors"]
SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
SERIAL = "ABCDEFGHJKLMNPQRSTUVWXYZ"
# Attribute values a title or description may name (the ones shoppers filter by).
NAMED_ATTRIBUTES = ("color", "target-gender", "age-group", "fabric", "material", "pattern", "neckline",
                    "sleeve-length-type", "style", "closure-type", "fit")
MERCHANT_ATTRIBUTE_SHARE = 0.4
VARIANT_SHARE = 0.6


def leaf_pools(taxonomy) -> dict[str, list]:
    pools: dict[str, list] = {v: [] for v in VERTICAL_WEIGHTS}
    for cat in taxonomy.categories.values():
        vertical = cat.id.split("-")[0]
        if vertical in pools and not cat.children_ids:
            pools[vertical].append(cat)
    for cats in pools.values():
        cats.sort(key=lambda c: c.id)
    return pools


def zipf_pick(rng: random.Random, items: list, s: float = 1.1):
    """A few leaves of a vertical are common, most are rare (rank-frequency as in real stores)."""
    n = len(items)
    # Inverse-CDF of a continuous power law over ranks 1..n; cheap and seeded.
    u = rng.random()
    rank = int(((n ** (1 - s) - 1) * u + 1) ** (1 / (1 - s))) if s != 1 else int(n ** u)
    return items[min(max(rank, 1), n) - 1]


def values_of(taxonomy, cat, handle: str) -> list:
    if handle not in cat.attribute_handles:
        return []
    try:
        attr = taxonomy.attribute(handle)
    except KeyError:
        return []
    return [taxonomy.values[h] for h in attr.value_handles if h in taxonomy.values]


def serial(rng: random.Random, i: int) -> str:
    return f"{rng.choice(SERIAL)}{rng.choice(SERIAL)}-{i:07d}"


def make_product(rng: random.Random, taxonomy, pools, i: int, store: str) -> dict:
    allowed = STORE_VERTICALS[store] or tuple(VERTICAL_WEIGHTS)
    weights = [VERTICAL_WEIGHTS[v] for v in allowed]
    vertical = rng.choices(allowed, weights)[0]
    cat = zipf_pick(rng, pools[vertical])
    brand = rng.choice(BRANDS)
    adjective = rng.choice(ADJECTIVES)
    colors = values_of(taxonomy, cat, "color")
    picked_colors = rng.sample(colors, k=min(len(colors), rng.choice((1, 1, 2, 3)))) if colors else []
    named = []
    for handle in NAMED_ATTRIBUTES[1:]:
        vals = values_of(taxonomy, cat, handle)
        if vals and rng.random() < 0.45:
            named.append((handle, rng.choice(vals)))
    material = rng.choice(MATERIALS) if rng.random() < 0.5 else ""
    lead = picked_colors[0].name if picked_colors and rng.random() < 0.6 else ""
    gender = next((v.name for h, v in named if h == "target-gender"), "")
    title_bits = [brand, adjective, lead, gender if gender in ("Men", "Women") and rng.random() < 0.5 else "",
                  material.title() if material and rng.random() < 0.4 else "", cat.name.rstrip("s") if
                  rng.random() < 0.5 else cat.name, serial(rng, i)]
    title = " ".join(b for b in title_bits if b)
    sentences = [f"The {adjective.lower()} {cat.name.lower()} from {brand}."]
    if named:
        sentences.append("It is " + ", ".join(f"{v.name.lower()}" for _h, v in named[:3]) + ".")
    if material:
        sentences.append(f"Made of {material}, {rng.choice(FEATURES)}.")
    if picked_colors:
        sentences.append("Available in " + " and ".join(c.name.lower() for c in picked_colors) + ".")
    first, second = rng.sample(FEATURES, 2)
    sentences.append(f"{first.capitalize()}; {second}.")
    median, sigma = PRICES[vertical]
    price = round(math.exp(math.log(median) + rng.gauss(0, sigma)), 2)
    product: dict = {"store": store, "product_id": f"{store}-{i:07d}", "title": title,
                     "description": " ".join(sentences), "vendor": brand, "price": max(price, 0.5),
                     "tags": sorted({adjective.lower(), vertical, *(rng.sample(FEATURES, 1))})}
    sizes = values_of(taxonomy, cat, "size")
    if (picked_colors or sizes) and rng.random() < VARIANT_SHARE:
        size_names = SIZES[rng.randrange(0, 2):rng.randrange(3, 7)] if sizes else [""]
        variants = []
        for color in picked_colors or [None]:
            for size in size_names:
                options = {k: v for k, v in (("color", color.name if color else ""), ("size", size)) if v}
                variants.append({"sku": f"{product['product_id']}-{len(variants)}", "options": options,
                                 "price": product["price"]})
        product["variants"] = variants
    if rng.random() < MERCHANT_ATTRIBUTE_SHARE:
        attrs: dict[str, list[str]] = {}
        if picked_colors:
            attrs["color"] = [c.name for c in picked_colors]
        for handle, value in named[:2]:
            attrs[handle.replace("-", " ")] = [value.name]
        if material:
            attrs["material"] = [material]
        product["attributes"] = attrs
        path = cat.full_name.split(" > ")
        product["merchant_category"] = "/".join(path[-2:]) if len(path) > 1 else path[0]
    created = 1_700_000_000 + rng.randrange(0, 60 * 86400)
    product["created_at"] = _iso(created)
    return product


def _iso(epoch: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def generate(n: int, seed: int) -> Iterator[dict]:
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    pools = leaf_pools(taxonomy)
    rng = random.Random(seed)
    names, shares = list(STORES), list(STORES.values())
    # Each store gets at least one product, the rest by share (exact, so the split is the same every run).
    counts = [max(1, int(n * s)) for s in shares]
    counts[0] += n - sum(counts)
    order = [name for name, c in zip(names, counts, strict=True) for _ in range(c)]
    rng.shuffle(order)
    for i, store in enumerate(order):
        yield make_product(rng, taxonomy, pools, i, store)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--split-stores", action="store_true", help="also write FILE-<store>.jsonl per store")
    args = parser.parse_args()
    if args.products < len(STORES):
        parser.error(f"--products must be at least {len(STORES)} (one per store)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    split = {}
    if args.split_stores:
        split = {s: open(args.out.with_name(f"{args.out.stem}-{s}.jsonl"), "w", encoding="utf-8") for s in STORES}
    titles: set[str] = set()
    per_store: dict[str, int] = {}
    try:
        with open(args.out, "w", encoding="utf-8") as out:
            for product in generate(args.products, args.seed):
                if product["title"] in titles:  # the serial makes titles unique; this guards the promise
                    raise SystemExit(f"duplicate title {product['title']!r}")
                titles.add(product["title"])
                line = json.dumps(product, separators=(",", ":")) + "\n"
                out.write(line)
                if split:
                    split[product["store"]].write(line)
                per_store[product["store"]] = per_store.get(product["store"], 0) + 1
    finally:
        for handle in split.values():
            handle.close()
    print(json.dumps({"products": args.products, "seed": args.seed, "out": str(args.out), "stores": per_store}))


if __name__ == "__main__":
    main()
