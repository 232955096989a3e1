"""The review queue of the offline re-tagger: what a product's extraction adds to or contradicts in the
merchant's own data, as proposals a merchant accepts (the value becomes merchant data) or rejects.

Pure functions, no I/O. A proposal is one (attribute, value) of one product version (its content hash):

- category: the extracted category where the merchant gave no taxonomy category (`adds`; the merchant's own
  category path, if any, is shown as the current value), or a different one (`contradicts`);
- attributes: an extracted value (read from a photo or the listing text, not the merchant's) of an attribute
  the merchant left empty (`adds`) or gave other values for (`contradicts`); the merchant's values come from
  their attributes and variant options, mapped onto the taxonomy as the index maps them;
- text contradictions: a value the title or tags name of an attribute the merchant filled with other values
  ("Wool" in the title, "Cotton" in the merchant's material). The extractor keeps only the merchant's values
  of such an attribute, so these are read here, from the same words.

Evidence says where a value came from: the photos an image-sourced value was read from (every readable photo
whose colour the merchant did not name), the words of the title, tags or description that name a text-sourced
one.

The queue shows first what the extractor is least sure of (uncertainty sampling: each decision teaches the
store's heads the most there): a value a store head answered carries the head's held-out precision, and the
least precise, then the least probable, come first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from extractor.local.text import clean_text, expand_title
from extractor.models import Extraction
from indexer.conversions import ATTRIBUTE_ALIASES, merchant_attribute_values, slug
from indexer.models import Product

CATEGORY = "category"
Kind = Literal["adds", "contradicts"]
Decision = Literal["accept", "reject"]
# The fields whose words count as evidence and as text contradictions, with the weights the extractor gives
# them (extractor.local.text.find_text_values). The description is evidence only: it names what a product
# goes with as often as what it is made of.
TEXT_FIELDS = (("title", 1.0), ("tags", 0.9), ("description", 0.75))
CONTRADICTING_FIELDS = frozenset({"title", "tags"})
SIZE_HANDLES = frozenset({"size", "shoe-size", "clothing-size", "bra-size"})
_WORD = re.compile(r"[a-z0-9]+")


class Words(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: Literal["title", "tags", "description"]
    text: str  # the words as the merchant wrote them
    start: int  # character span in the field's plain text
    end: int


class Evidence(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source: Literal["image", "text", "model"]  # model: the category, from title and photos together
    images: list[int] = Field(default_factory=list)  # indexes into the product's images
    words: list[Words] = Field(default_factory=list)


class CurrentValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str | None  # taxonomy value handle or category id; None for the merchant's own wording
    name: str


class Proposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str
    product_id: str
    title: str  # the product's title as plain text (what title evidence spans index into)
    attribute: str  # taxonomy attribute handle, or "category"
    attribute_name: str
    value: str  # taxonomy value handle ("color__black") or category id ("aa-1-13-8")
    value_id: int | str  # taxonomy value id, or the category id
    value_name: str  # the value's name, or the category's full name
    current: list[CurrentValue]  # the merchant's values of this attribute (empty: none)
    kind: Kind
    confidence: float
    evidence: Evidence
    content_hash: str
    # A store head's answer: the precision the head's answers reached on held-out products (None: the rules').
    precision: float | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self.product_id, self.attribute, self.value


def _families() -> dict[str, frozenset[str]]:
    """Taxonomy handles a merchant's attribute name may mean together ("material" is fabric or material)."""
    out: dict[str, set[str]] = {}
    for handles in ATTRIBUTE_ALIASES.values():
        family = set(handles)
        for handle in handles:
            family |= out.get(handle, set())
        for handle in family:
            out[handle] = family
    return {h: frozenset(f) for h, f in out.items()}


FAMILIES = _families()


def family(handle: str) -> frozenset[str]:
    return FAMILIES.get(handle, frozenset({handle}))


def _suffix(value_handle: str) -> str:
    return value_handle.split("__", 1)[-1]


def _field_texts(product: Product) -> list[tuple[str, float, str]]:
    texts = {"title": product.title, "tags": ", ".join(product.tags), "description": product.description}
    return [(name, weight, clean_text(texts[name])) for name, weight in TEXT_FIELDS if texts[name].strip()]


def _found_in_text(product: Product, taxonomy) -> list[tuple[str, float, object]]:
    """(field, weight, FoundValue) for every taxonomy value the product's text names."""
    out = []
    for name, weight, text in _field_texts(product):
        for found in taxonomy.find_values(text):
            out.append((name, weight, found))
    return out


def _words_for(found: list[tuple[str, float, object]], value_handle: str) -> list[Words]:
    return [Words(field=name, text=f.text, start=f.start, end=f.end)  # type: ignore[arg-type]
            for name, _w, f in found if f.value_handle == value_handle]


def _merchant_named_photos(product: Product) -> set[int]:
    """Images that are variant photos of a variant whose colour the merchant named."""
    named = set()
    for variant in product.variants:
        if variant.image and any(slug(k) in ("color", "colour") and v.strip() for k, v in variant.options.items()):
            named.add(product.images.index(variant.image))
    return named


def _read_photos(product: Product, extraction: Extraction, handle: str) -> list[int]:
    unreadable = {n.image for n in extraction.image_notes if n.issue == "unreadable"}
    skip = unreadable | (_merchant_named_photos(product) if handle == "color" else set())
    return [i for i in range(len(product.images)) if i not in skip]


def _category_words(product: Product, category_name: str) -> list[Words]:
    """Title words that name the category: its name's words, a plural 's' either way, or the retail words the
    extractor reads as them ("Tee": t-shirts)."""
    wanted = {w.rstrip("s") for w in _WORD.findall(category_name.lower()) if len(w) > 2}
    title = clean_text(product.title)
    out = []
    for match in re.finditer(r"[A-Za-z0-9]+", title):
        word = match.group().lower()
        if {w.rstrip("s") for w in _WORD.findall(f"{word} {expand_title(word)}")} & wanted:
            out.append(Words(field="title", text=match.group(), start=match.start(), end=match.end()))
    return out


def proposals(product: Product, extraction: Extraction | None, taxonomy, content_hash: str | None = None,
              ) -> list[Proposal]:
    """What the extraction of this product version adds to or contradicts in the merchant's data."""
    if extraction is None:
        return []
    digest = content_hash or product.content_hash()
    base = {"store": product.store, "product_id": product.product_id, "title": clean_text(product.title),
            "content_hash": digest}
    out: list[Proposal] = []

    guess = extraction.category
    if guess is not None and guess.id in taxonomy.categories:
        merchant_id = product.merchant_category_id if product.merchant_category_id in taxonomy.categories else None
        if merchant_id is None:
            current = [CurrentValue(value=None, name=product.merchant_category)] if product.merchant_category else []
            kind: Kind | None = "adds"
        else:
            lineage = {c.id for c in taxonomy.ancestors(merchant_id)} | {merchant_id}
            current = [CurrentValue(value=merchant_id, name=taxonomy.category(merchant_id).full_name)]
            kind = None if guess.id in lineage else "contradicts"  # the same or a broader one: nothing new
        if kind is not None:
            cat = taxonomy.category(guess.id)
            out.append(Proposal(**base, attribute=CATEGORY, attribute_name="Category", value=cat.id,
                                value_id=cat.id, value_name=cat.full_name, current=current, kind=kind,
                                confidence=round(guess.confidence, 4),
                                evidence=Evidence(source="model", images=_read_photos(product, extraction, ""),
                                                  words=_category_words(product, cat.name))))

    merchant: dict[str, dict[str, str]] = {}  # handle -> value handle -> name
    for item in merchant_attribute_values(product, taxonomy):
        merchant.setdefault(item.handle, {})[item.value] = item.name

    def merchant_of(handle: str) -> dict[str, str]:
        values: dict[str, str] = {}
        for h in family(handle):
            values.update(merchant.get(h, {}))
        return values

    found = _found_in_text(product, taxonomy)
    proposed: set[tuple[str, str]] = set()

    def propose(handle: str, value_handle: str, confidence: float, evidence: Evidence,
                precision: float | None = None) -> None:
        known = merchant_of(handle)
        if value_handle in known or _suffix(value_handle) in {_suffix(v) for v in known}:
            return
        if (handle, value_handle) in proposed:
            return
        try:
            value = taxonomy.value(value_handle)
            attribute = taxonomy.attribute(handle)
        except KeyError:
            return
        proposed.add((handle, value_handle))
        out.append(Proposal(**base, attribute=attribute.handle, attribute_name=attribute.name, value=value.handle,
                            value_id=value.id, value_name=value.name,
                            current=[CurrentValue(value=v, name=n) for v, n in known.items()],
                            kind="contradicts" if known else "adds", confidence=round(confidence, 4),
                            evidence=evidence, precision=precision))

    for attribute in extraction.attributes:
        for v in attribute.values:
            if v.source == "merchant":
                continue
            if v.source == "image":
                evidence = Evidence(source="image", images=_read_photos(product, extraction, attribute.handle))
            else:
                evidence = Evidence(source="text", words=_words_for(found, v.value))
            propose(attribute.handle, v.value, v.confidence, evidence, v.precision)

    # Words of the title or tags naming another value of an attribute the merchant filled: the extractor
    # dropped them (the merchant wins there), so they are read here, for the category's attributes only.
    category_id = (product.merchant_category_id if product.merchant_category_id in taxonomy.categories
                   else guess.id if guess is not None and guess.id in taxonomy.categories else None)
    allowed = set(taxonomy.category(category_id).attribute_handles) if category_id else set()
    best: dict[tuple[str, str], float] = {}
    for name, weight, f in found:
        handle = f.attribute_handle
        if name in CONTRADICTING_FIELDS and handle in allowed and handle not in SIZE_HANDLES and merchant_of(handle):
            key = (handle, f.value_handle)
            best[key] = max(best.get(key, 0.0), f.confidence * weight)
    for (handle, value_handle), confidence in sorted(best.items()):
        propose(handle, value_handle, confidence, Evidence(source="text", words=_words_for(found, value_handle)))
    return out


# ---------------------------------------------------------------------------------------------- queue
class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attribute: str | None = None
    value: str | None = None
    min_confidence: float = Field(default=0.0, ge=0, le=1)


def matches(proposal: Proposal, filters: Filters) -> bool:
    return ((filters.attribute is None or proposal.attribute == filters.attribute)
            and (filters.value is None or proposal.value == filters.value)
            and proposal.confidence >= filters.min_confidence)


def undecided(items: Iterable[Proposal], decided: set[tuple[str, str, str, str]]) -> list[Proposal]:
    """Proposals not decided for this content: `decided` holds (product id, attribute, value, content hash)."""
    return [p for p in items if (*p.key, p.content_hash) not in decided]


def sureness(proposal: Proposal) -> float:
    """How sure the extractor is of a proposal, 0..1: a store head's held-out precision where a head answered
    it, else its confidence."""
    return proposal.confidence if proposal.precision is None else proposal.precision


def order(items: Iterable[Proposal]) -> list[Proposal]:
    """Category first, then attributes by name; within one, least sure first (uncertainty sampling): by
    `sureness`, then confidence, so the merchant's decisions go where the heads know least."""
    return sorted(items, key=lambda p: (p.attribute != CATEGORY, p.attribute_name.lower(), sureness(p),
                                        p.confidence, p.value_name.lower(), p.product_id))


def groups(items: Iterable[Proposal]) -> list[dict]:
    """Counts per attribute and, within one, per proposed value (most frequent first)."""
    by_attr: dict[str, dict] = {}
    for p in order(items):
        group = by_attr.setdefault(p.attribute, {"attribute": p.attribute, "name": p.attribute_name, "count": 0,
                                                 "values": {}})
        group["count"] += 1
        value = group["values"].setdefault(p.value, {"value": p.value, "name": p.value_name, "count": 0})
        value["count"] += 1
    return [{**g, "values": sorted(g["values"].values(), key=lambda v: (-v["count"], v["name"].lower()))}
            for g in by_attr.values()]


# ---------------------------------------------------------------------------------------------- accept
class CannotApply(ValueError):
    """An accepted value that the merchant's data cannot hold (it would not read back as that value)."""


def apply_accepted(product: Product, accepted: list[Proposal], taxonomy) -> Product:
    """The product with the accepted values as merchant data: a category as its taxonomy category, an
    attribute value under the merchant's own name for that attribute (the attribute's handle when they have
    none). An accepted contradiction replaces the merchant's values of that attribute; an addition adds.
    Raises CannotApply when a value would not read back as itself."""
    data = product.model_copy(deep=True)
    attributes = {k: list(v) for k, v in data.attributes.items()}
    by_handle: dict[str, list[Proposal]] = {}
    for p in accepted:
        if p.attribute == CATEGORY:
            data.merchant_category_id = p.value
            if not data.merchant_category:
                data.merchant_category = p.value_name
        else:
            by_handle.setdefault(p.attribute, []).append(p)
    for handle, items in by_handle.items():
        names = family(handle)
        keys = [k for k in attributes if ATTRIBUTE_ALIASES.get(slug(k), (slug(k).replace("_", "-"),))[0] in names
                or slug(k).replace("_", "-") in names]
        key = keys[0] if keys else handle
        new = [p.value_name for p in items]
        if any(p.kind == "contradicts" for p in items):
            for k in keys:  # the merchant's other names for this attribute go too
                attributes.pop(k, None)
            attributes[key] = new
        else:
            attributes[key] = list(dict.fromkeys(attributes.get(key, []) + new))
    data.attributes = attributes
    updated = Product.model_validate(data.model_dump())
    values = {(item.handle, _suffix(item.value)) for item in merchant_attribute_values(updated, taxonomy)}
    for p in accepted:
        if p.attribute != CATEGORY and not any((h, _suffix(p.value)) in values for h in family(p.attribute)):
            raise CannotApply(f"{p.attribute_name} {p.value_name!r} would not read back as merchant data")
    return updated
