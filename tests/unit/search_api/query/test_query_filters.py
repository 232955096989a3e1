from __future__ import annotations

import pytest
from vocab_fixture import HOODIES

from indexer.documents import AttributeValue, IndexDocument
from indexer.filters import And, Eq, In, Not, Range, matches
from search_api.query.models import AppliedFilter
from search_api.query.parse import (
    attribute_filter,
    category_filter,
    exclude_field,
    parse_query,
    price_filter,
    to_filter,
)
from search_api.query.vocabulary import StoreVocabulary


def test_to_filter_ors_one_field_ands_fields_negates_and_ranges():
    filters = [
        attribute_filter("color", "color__red", "Red"),
        attribute_filter("color", "color__blue", "Blue"),
        category_filter(HOODIES, "Hoodies"),
        attribute_filter("material", "material__cotton", "Cotton", negated=True),
        attribute_filter("material", "material__wool", "Wool", negated=True),
        price_filter(lte=60),
        price_filter(gte=20),
        price_filter(lte=50),
    ]
    assert to_filter(filters) == And(
        all=(
            In(field="attr.color", values=("color__red", "color__blue")),
            Eq(field="category", value=HOODIES),
            Not(filter=In(field="attr.material", values=("material__cotton", "material__wool"))),
            Range(field="price", gte=20, lte=50),
        )
    )


def test_to_filter_single_and_empty():
    assert to_filter([]) is None
    assert to_filter([price_filter(lte=10)]) == Range(field="price", lte=10)
    assert to_filter([attribute_filter("color", "color__red", "Red", negated=True)]) == Not(
        filter=Eq(field="attr.color", value="color__red")
    )


def test_to_filter_matches_documents(vocab, taxonomy):
    doc = IndexDocument(
        store="s",
        product_id="1",
        title="Black hoodie",
        category_id=HOODIES,
        category_path=["aa", "aa-1", "aa-1-13", HOODIES],
        price=55.0,
        attributes=[
            AttributeValue(handle="color", value="color__black", name="Black"),
            AttributeValue(handle="target-gender", value="target-gender__male", name="Male"),
            AttributeValue(handle="material", value="material__polyester", name="Polyester"),
        ],
    )
    cotton = doc.model_copy(
        update={
            "attributes": [
                *doc.attributes[:2],
                AttributeValue(handle="material", value="material__cotton", name="Cotton"),
            ]
        }
    )
    expensive = doc.model_copy(update={"price": 80.0})
    node = to_filter(parse_query("black hoodie for men under $60, not cotton", vocab, taxonomy).filters)
    assert [matches(node, d) for d in (doc, cotton, expensive)] == [True, False, False]


def test_exclude_field():
    filters = [
        attribute_filter("color", "color__red", "Red"),
        attribute_filter("color", "color__blue", "Blue", negated=True),
        price_filter(lte=5),
    ]
    assert [f.id for f in exclude_field(filters, "attr.color")] == ["price:lte:5"]


def test_applied_filter_ids_are_derived_from_content():
    a = AppliedFilter(field="attr.color", values=["color__black"], id="whatever", label="x")
    assert a.id == "attr.color:color__black"
    assert (
        AppliedFilter(field="attr.color", op="in", values=["a", "b"], negated=True).id == "not:attr.color:a,b"
    )
    assert price_filter(gte=19.5, lte=40).id == "price:gte:19.5:lte:40"
    assert AppliedFilter(field="attr.color", values=["color__black"]).label == "Color: Black"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"field": "price", "op": "range"},
        {"field": "price", "op": "range", "gte": 5, "lte": 1},
        {"field": "attr.color", "op": "eq", "values": []},
        {"field": "attr.color", "op": "eq", "values": ["a", "b"]},
        {"field": "attr.color", "op": "eq", "values": ["a"], "confidence": 2},
    ],
)
def test_applied_filter_rejects_malformed(kwargs):
    with pytest.raises(ValueError):
        AppliedFilter(**kwargs)


def test_vocabulary_from_documents(taxonomy):
    docs = [
        IndexDocument(
            store="s",
            product_id="1",
            title="t",
            category_id=HOODIES,
            category_path=["aa", "aa-1", "aa-1-13", HOODIES],
            category_name="Apparel & Accessories > Clothing > Clothing Tops > Hoodies",
            merchant_category="Men/Tops/Hoodies & Sweatshirts",
            vendor="Luma",
            attributes=[
                AttributeValue(handle="color", value="color__black", name="Black"),
                AttributeValue(handle="activity", value="activity__yoga", name="Yoga"),
            ],
        ),
        IndexDocument(
            store="s",
            product_id="2",
            title="t",
            vendor="Luma",
            attributes=[AttributeValue(handle="color", value="color__red", name="Red")],
        ),
    ]
    vocab = StoreVocabulary.from_documents(docs, taxonomy)
    assert vocab.attributes == {
        "activity": {"activity__yoga": "Yoga"},
        "color": {"color__black": "Black", "color__red": "Red"},
    }
    assert vocab.categories == {
        "aa": "Apparel & Accessories",
        "aa-1": "Clothing",
        "aa-1-13": "Clothing Tops",
        HOODIES: "Hoodies",
    }
    assert vocab.merchant_categories == {"Men/Tops/Hoodies & Sweatshirts": HOODIES}
    assert vocab.vendors == ("Luma",)
    assert vocab.attribute_name("color") == "Color"
    assert StoreVocabulary.from_documents(docs).categories == vocab.categories
    parsed = parse_query("red sweatshirts", vocab, taxonomy)  # the merchant's own "Hoodies & Sweatshirts"
    assert [f.id for f in parsed.filters] == ["attr.color:color__red", f"category:{HOODIES}"]
