"""Distinct shopper queries for one store of a generated catalog (benchmarks/generate_catalog.py), seeded.

Five kinds, drawn from the store's own products so that every query can match something:
  keyword        "t-shirts", "northwind t-shirts"
  natural        "black t-shirts for men under $40"  (colour, gender, price)
  negation       "t-shirts not cotton", "sofas without leather"
  misspelling    "t-shrits"  (two letters swapped)
  browse         ""  (every product, with facets; one query, so it repeats)

    .venv/bin/python benchmarks/shopper_queries.py --catalog C.jsonl --store mega --n 320
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

_KIND = re.compile(r"^The \w+ (.+?) from ")
_COLORS = re.compile(r"Available in ([a-z ]+?)(?: and |\.)")
GENDERS = ("men", "women")
MATERIALS = ("cotton", "leather", "wool", "polyester", "steel", "plastic", "glass")
SHARES = (("keyword", 0.35), ("natural", 0.3), ("negation", 0.15), ("misspelling", 0.2))


def read_store(path: Path, store: str, limit: int = 20_000) -> list[dict]:
    out = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            product = json.loads(line)
            if product.get("store") == store:
                out.append(product)
                if len(out) >= limit:
                    break
    return out


def misspell(rng: random.Random, phrase: str) -> str | None:
    words = [w for w in phrase.split() if len(w) >= 5 and w.isalpha()]
    if not words:
        return None
    word = rng.choice(words)
    i = rng.randrange(1, len(word) - 2)
    wrong = word[:i] + word[i + 1] + word[i] + word[i + 2:]
    return phrase.replace(word, wrong, 1) if wrong != word else None


def one_query(rng: random.Random, product: dict, kind: str) -> str | None:
    found = _KIND.match(product.get("description", ""))
    if not found:
        return None
    category = found.group(1)
    colors = _COLORS.findall(product.get("description", ""))
    price = product.get("price") or 20
    if kind == "keyword":
        return category if rng.random() < 0.4 else f"{product['vendor'].lower()} {category}"
    if kind == "natural":
        color = colors[0] if colors else ""
        bound = max(5, int(round(price * rng.uniform(1.1, 2.0), -1)))
        gender = f" for {rng.choice(GENDERS)}" if "aa" in product.get("tags", []) else ""  # apparel
        return " ".join(f"{color} {category}{gender} under ${bound}".split())
    if kind == "negation":
        word = rng.choice(("not", "without", "no"))
        return f"{category} {word} {rng.choice(MATERIALS)}"
    return misspell(rng, category)


def shopper_queries(products: list[dict], n: int, seed: int = 7) -> list[str]:
    """`n` distinct non-empty queries, then the empty browse query."""
    rng = random.Random(seed)
    kinds, weights = zip(*SHARES, strict=True)
    seen: dict[str, None] = {}
    for _ in range(n * 50):
        if len(seen) >= n:
            break
        query = one_query(rng, rng.choice(products), rng.choices(kinds, weights)[0])
        if query:
            seen.setdefault(query, None)
    return [*seen, ""]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--n", type=int, default=320)
    args = parser.parse_args()
    for query in shopper_queries(read_store(args.catalog, args.store), args.n):
        print(query)


if __name__ == "__main__":
    main()
