"""Every distinct JSON schema the code can send to a model server, labelled, for the subset check
(tests/unit/extractor/vlm/test_schema_subset.py) and the real-server check (tests/model_server).

- stage 2 of the extraction: one per distinct attribute set of a category (the grammar depends on nothing
  else: titles and descriptions are annotations), 2,362 in the shipped taxonomy;
- stage 1: the category pick over the verticals (the shortlist of an image-only listing, the largest) and
  over a real text shortlist;
- the LLM query parser: a store with no attributes (its `maxItems: 0` list) and the largest store there can
  be, the whole taxonomy as one store (every category name and every value in the enums).
"""

from __future__ import annotations

from typing import Any

from extractor.models import ProductInput
from extractor.vlm import prompts
from extractor.vlm.driver import TwoStageDriver
from search_api.query.llm_schema import query_schema
from search_api.query.vocabulary import StoreVocabulary
from taxonomy import Taxonomy

Labelled = list[tuple[str, dict[str, Any]]]


def attribute_schemas(tax: Taxonomy) -> Labelled:
    first_of: dict[tuple[str, ...], str] = {}
    for category in tax.categories.values():
        first_of.setdefault(tuple(category.attribute_handles), category.id)
    return [(f"attributes of {cid}", prompts.attributes_schema(tax.json_schema(cid))) for cid in first_of.values()]


def category_schemas(tax: Taxonomy) -> Labelled:
    driver = TwoStageDriver(lambda *_: "", name="schemas", version="0", taxonomy=tax)
    verticals = driver.shortlist(ProductInput())  # no text: every root category
    shortlist = driver.shortlist(ProductInput(title="Men's black cotton hoodie"))
    return [("category of verticals", prompts.category_schema(verticals)),
            ("category of a text shortlist", prompts.category_schema(shortlist))]


def whole_taxonomy_vocabulary(tax: Taxonomy) -> StoreVocabulary:
    return StoreVocabulary(
        attributes={a.handle: {vh: tax.values[vh].name for vh in a.value_handles} for a in tax.attributes.values()},
        categories={c.id: c.name for c in tax.categories.values()},
    )


def query_schemas(tax: Taxonomy) -> Labelled:
    return [("query of a store without attributes", query_schema(StoreVocabulary())),
            ("query of the whole taxonomy as one store", query_schema(whole_taxonomy_vocabulary(tax)))]


def every_schema(tax: Taxonomy) -> Labelled:
    return [*category_schemas(tax), *query_schemas(tax), *attribute_schemas(tax)]
