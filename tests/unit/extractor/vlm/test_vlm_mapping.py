"""Mapping model answers onto the taxonomy (pure functions) and the shared prompt/schema builders."""

from __future__ import annotations

import base64
import io

import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from extractor.models import ProductInput
from extractor.vlm import mapping, prompts
from extractor.vlm.mapping import MalformedAnswer
from extractor.vlm.schema_subset import for_decoding

HOODIE = "aa-1-13-13"


@pytest.fixture(scope="module")
def candidates(tax):
    found = tax.search_categories("Black cotton hoodie for men", 10)
    assert found[0].category_id == HOODIE
    return found


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("text", [
    '{"category_id": "x"}',
    '```json\n{"category_id": "x"}\n```',
    'Sure! Here is the answer: {"category_id": "x"} Hope it helps.',
])
def test_parse_accepts_json_object_in_fences_or_prose(text):
    assert mapping.parse_json_object(text) == {"category_id": "x"}


@pytest.mark.parametrize("text, why", [
    ("", "empty"),
    ("I think it is a hoodie", "not JSON"),
    ('{"category_id": "x"', "not JSON"),
    ('{"category_id": "x",}', "not valid JSON"),
    ('["x"]', "not an object"),
])
def test_parse_rejects_non_objects_with_a_reason(text, why):
    with pytest.raises(MalformedAnswer, match=why):
        mapping.parse_json_object(text)


# ---------------------------------------------------------------- category


def test_category_in_shortlist_is_taken(tax, candidates):
    result = mapping.map_category(tax, {"category_id": "aa-1-1-7-2"}, candidates)
    assert result.category.id == "aa-1-1-7-2"
    assert result.category.confidence == mapping.CONF_PICKED
    assert result.dropped == 0 and result.how == "picked"
    assert HOODIE in [a.id for a in result.alternatives]
    assert "aa-1-1-7-2" not in [a.id for a in result.alternatives]
    assert len(result.alternatives) <= mapping.MAX_ALTERNATIVES
    assert all(a.confidence <= mapping.CONF_ALTERNATIVE_MAX for a in result.alternatives)


def test_category_by_gid_and_off_shortlist(tax, candidates):
    by_gid = mapping.map_category(tax, {"category_id": f"gid://shopify/TaxonomyCategory/{HOODIE}"}, candidates)
    assert by_gid.category.id == HOODIE and by_gid.how == "picked"
    off = mapping.map_category(tax, {"category_id": "aa-1-4"}, candidates)  # a real id, not shortlisted
    assert off.category.id == "aa-1-4"
    assert off.category.confidence == mapping.CONF_OFF_SHORTLIST
    assert off.dropped == 0


def test_category_named_instead_of_id(tax, candidates):
    result = mapping.map_category(tax, {"category_id": "pet hoodies"}, candidates)
    assert result.category.id == "ap-2-6-8"
    assert result.how == "by_name" and result.category.confidence == mapping.CONF_BY_NAME


def test_unknown_category_falls_back_to_top_candidate_and_counts(tax, candidates):
    result = mapping.map_category(tax, {"category_id": "zz-99-1"}, candidates)
    assert result.category.id == HOODIE
    assert result.category.confidence == mapping.CONF_FALLBACK
    assert result.dropped == 1 and result.how == "fallback"


@pytest.mark.parametrize("answer", [{}, {"category": HOODIE}, {"category_id": 7}])
def test_category_answer_without_a_string_id_is_malformed(tax, candidates, answer):
    with pytest.raises(MalformedAnswer):
        mapping.map_category(tax, answer, candidates)


# ---------------------------------------------------------------- attributes


def test_attribute_values_mapped_case_insensitively_and_by_synonym(tax):
    answer = {
        "description": "  A warm   black hoodie.\n",
        "attributes": {"color": ["BLACK", "dark navy", "black"], "fabric": ["cotton"], "pattern": []},
        "unsafe": [],
    }
    result = mapping.map_attributes(tax, HOODIE, answer, source="image")
    got = {a.handle: [(v.value, v.name) for v in a.values] for a in result.attributes}
    assert got == {"color": [("color__black", "Black"), ("color__navy", "Navy")],
                   "fabric": [("fabric__cotton", "Cotton")]}
    color = result.attributes[0]
    assert color.name == "Color"
    assert color.values[0].confidence == mapping.CONF_VALUE_EXACT
    assert color.values[1].confidence < mapping.CONF_VALUE_EXACT  # repaired, so less sure
    assert {v.source for a in result.attributes for v in a.values} == {"image"}
    assert result.description == "A warm black hoodie."
    assert result.dropped == 0
    assert result.safety.flagged is False


def test_values_outside_taxonomy_or_category_are_dropped_and_counted(tax):
    answer = {
        "description": "x",
        "attributes": {
            "color": ["Black", "Ultraviolet sparkle"],  # 1 unknown value
            "heel-height": ["High"],  # a real attribute, not a hoodie's: 1
            "made-up-attribute": ["a", "b"],  # 2
            "fabric": "Cotton",  # a lone string is accepted as a one-item list
            "neckline": [3, None],  # 2 non-strings
        },
        "unsafe": ["nudity", "sarcasm"],  # 1 unknown reason
    }
    result = mapping.map_attributes(tax, HOODIE, answer, source="text")
    assert [a.handle for a in result.attributes] == ["color", "fabric"]  # category order
    assert [v.name for v in result.attributes[0].values] == ["Black"]
    assert result.dropped == 1 + 1 + 2 + 2 + 1
    assert result.safety.flagged and result.safety.reasons == ["nudity"]
    assert any("Ultraviolet" in d for d in result.dropped_detail)


def test_flattened_answer_is_accepted_and_non_object_is_malformed(tax):
    flat = mapping.map_attributes(tax, HOODIE, {"color": ["Red"], "description": "d"}, source="text")
    assert [v.name for a in flat.attributes for v in a.values] == ["Red"]
    with pytest.raises(MalformedAnswer):
        mapping.map_attributes(tax, HOODIE, {"attributes": ["Red"]}, source="text")


def test_description_is_cleaned_and_capped():
    long = "word " * 500
    out = mapping.clean_description(long)
    assert len(out) <= prompts.MAX_CLEAN_DESCRIPTION and not out.endswith(" ")
    assert mapping.clean_description(42) == ""


# ---------------------------------------------------------------- prompts and schemas


def test_attributes_schema_wraps_the_taxonomy_schema(tax):
    cat_schema = tax.json_schema(HOODIE)
    schema = prompts.attributes_schema(cat_schema)
    Draft202012Validator.check_schema(schema)
    nested = schema["properties"]["attributes"]
    assert nested["properties"] == for_decoding(cat_schema)["properties"]
    assert nested["additionalProperties"] is False
    assert nested["required"] == list(cat_schema["properties"])
    assert "$id" not in nested
    assert cat_schema.get("required") is None  # the taxonomy's cached schema was not mutated
    valid = {"description": "d", "attributes": {h: [] for h in cat_schema["properties"]}, "unsafe": []}
    valid["attributes"]["color"] = ["Black"]
    Draft202012Validator(schema).validate(valid)
    valid["attributes"]["color"] = ["Ultraviolet"]
    assert not Draft202012Validator(schema).is_valid(valid)


def test_category_schema_and_messages_list_the_shortlist(candidates):
    schema = prompts.category_schema(candidates)
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["category_id"]["enum"] == [c.category_id for c in candidates]
    product = ProductInput(title="Black cotton hoodie for men", vendor="Acme", tags=["winter"])
    messages = prompts.category_messages(product, candidates, [])
    text = messages[-1]["content"][0]["text"]
    assert all(f"{c.category_id}: {c.full_name}" in text for c in candidates)
    assert "Title: Black cotton hoodie for men" in text and "Brand: Acme" in text


def test_prepare_images_downscales_to_jpeg_and_notes_bad_ones(make_jpeg):
    good = make_jpeg(size=(2000, 1000))
    png = io.BytesIO()
    Image.new("RGBA", (50, 40), (255, 0, 0, 0)).save(png, format="PNG")
    prepared, problems = prompts.prepare_images([b"not an image", str(good), png.getvalue()],
                                                max_images=2, max_side=512)
    assert [p.index for p in prepared] == [1, 2]
    assert problems[0][0] == 0 and "not an image" in problems[0][1]
    head, data = prepared[0].data_url.split(",", 1)
    assert head == "data:image/jpeg;base64"
    decoded = Image.open(io.BytesIO(base64.b64decode(data)))
    assert decoded.format == "JPEG" and max(decoded.size) == 512
