"""Listing text -> taxonomy attribute values: free-text finds and merchant-given attributes."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

from extractor.local.datafiles import load_data
from extractor.local.sizes import SIZE_ATTRIBUTES, find_sizes, names_a_shoe_size
from extractor.models import ProductInput
from taxonomy import Taxonomy

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class ValueHit:
    attribute: str  # taxonomy attribute handle
    value: str  # taxonomy value handle
    value_id: int
    name: str
    confidence: float
    source: str  # "text" | "merchant" | "image"
    precision: float | None = None  # a store head's held-out precision for answers like this one
    image: int | None = None  # the product photo (index into its images) that shows it, for a colour


def clean_text(text: str) -> str:
    """HTML to plain text: tags out, entities decoded, whitespace collapsed."""
    text = _TAG.sub(" ", text or "")
    return _SPACE.sub(" ", html.unescape(text)).strip()


@lru_cache(maxsize=1)
def _expansions() -> dict[str, str]:
    return {k.lower(): v for k, v in load_data("category_synonyms.json")["expansions"].items()}


def expand_title(title: str) -> str:
    """Taxonomy wording for retail words of the title ('Gym Short' -> 'shorts'); '' when none apply."""
    table = _expansions()
    found = [table[w] for w in re.findall(r"[a-z]+(?:-[a-z]+)?", title.lower()) if w in table]
    return " ".join(dict.fromkeys(found))


def category_query(product: ProductInput, max_chars: int = 300, footwear: bool | None = None) -> str:
    """The text that names what the product is: title (with taxonomy wording for retail words, and "shoes"
    when it gives a shoe size), the merchant's category path and product type, tags, then the opening of
    the description. `footwear`: `title_is_footwear(product)`, when the caller has it already."""
    merchant_path = (product.merchant_category or "").replace("/", " > ")
    title = clean_text(product.title)
    if footwear is None:
        footwear = title_is_footwear(product)
    parts = [title, expand_title(title), "shoes" if footwear else "", merchant_path, product.product_type,
             " ".join(product.tags)]
    text = ". ".join(clean_text(p) for p in parts if p and p.strip())
    description = clean_text(product.description)
    if description:  # the opening of the description often says what the product is ("this hoodie")
        text = f"{text}. {description[:160]}" if text else description[:160]
    return text[:max_chars]


def title_is_footwear(product: ProductInput) -> bool:
    """The title gives a shoe size with its width: the product is footwear (`sizes.names_a_shoe_size`)."""
    return names_a_shoe_size(Taxonomy.load(), clean_text(product.title))


def find_text_values(taxonomy: Taxonomy, product: ProductInput) -> list[ValueHit]:
    """Values the title, tags and description name. The title counts most; description finds less."""
    hits: list[ValueHit] = []
    # The merchant's category path names the department ("Women/Bottoms/Pants": target gender female).
    merchant_path = (product.merchant_category or "").replace("/", " / ")
    fields = [(product.title, 1.0), (" ".join(product.tags), 0.9), (merchant_path, 0.9),
              (clean_text(product.description), 0.75)]
    for n, (text, weight) in enumerate(fields):
        if not text.strip():
            continue
        text = clean_text(text)
        for found in taxonomy.find_values(text):
            if found.attribute_handle in SIZE_ATTRIBUTES:
                continue  # sizes come from find_sizes: the finder reads "2X Concentrated" as XXL
            hits.append(ValueHit(found.attribute_handle, found.value_handle, found.value_id, found.name,
                                 round(found.confidence * weight, 4), "text"))
        # The title's list items ("..., Navy, Medium", "..., 8.5 M US") name the variant's size; other fields
        # only count sizes that say so on their own ("size M", "XL", "One Size").
        for size in find_sizes(taxonomy, text, title=n == 0):
            hits.append(ValueHit(size.attribute, size.value, size.value_id, size.name,
                                 round(size.confidence * weight, 4), "text"))
    return hits


@lru_cache(maxsize=1)
def _merchant_aliases() -> dict[str, list[str]]:
    table = load_data("merchant_attributes.json")["aliases"]
    return {k.lower(): list(v) for k, v in table.items()}


def merchant_attribute_handles(taxonomy: Taxonomy, name: str) -> list[str]:
    """Taxonomy attribute handles a merchant's attribute name may mean ("gender" -> target-gender)."""
    key = name.strip().lower().replace("_", "-").replace(" ", "-")
    handles = list(_merchant_aliases().get(key, []))
    try:
        handles.insert(0, taxonomy.attribute(key).handle)
    except KeyError:
        pass
    seen: set[str] = set()
    return [h for h in handles if not (h in seen or seen.add(h))]


def merchant_value(taxonomy: Taxonomy, name: str, raw: str) -> list[ValueHit]:
    """One merchant value ("color", "Red") mapped onto taxonomy values: the best match under each attribute
    the merchant's name may mean; empty when none matches."""
    hits: list[ValueHit] = []
    for handle in merchant_attribute_handles(taxonomy, name):
        try:
            matches = taxonomy.match_value(handle, str(raw))
        except KeyError:
            continue
        hits += [ValueHit(m.attribute_handle, m.value_handle, m.value_id, m.name, round(min(1.0, m.confidence), 4),
                          "merchant") for m in matches[:1]]
    return hits


def merchant_values(taxonomy: Taxonomy, product: ProductInput) -> tuple[list[ValueHit], int]:
    """Merchant attributes mapped onto taxonomy values; returns (hits, number of values not mappable)."""
    hits: list[ValueHit] = []
    unmapped = 0
    for name, raw_values in product.attributes.items():
        for raw in raw_values:
            found = merchant_value(taxonomy, name, raw)
            hits += found
            unmapped += 0 if found else 1
    return hits, unmapped
