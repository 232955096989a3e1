"""Category search, per-category JSON schema and the CLI."""

from __future__ import annotations

import jsonschema
import pytest
from typer.testing import CliRunner

from taxonomy import CategoryMatch, Taxonomy
from taxonomy.cli import app
from taxonomy.schema import json_schema


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.load()


def first(tax: Taxonomy, text: str) -> CategoryMatch:
    results = tax.search_categories(text)
    assert results, text
    return results[0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("t-shirt", "aa-1-13-8"),
        ("T-Shirts", "aa-1-13-8"),
        ("tee", "aa-1-13-8"),
        ("black cotton tees for men", "aa-1-13-8"),
        ("mens hoodie", "aa-1-13-13"),
        ("Hero Hoodie", "aa-1-13-13"),
        ("duffel", "lb-6"),
        ("Overnight Duffle", "lb-6"),
        ("tank", "aa-1-13-9"),
        ("sports bra", "aa-1-1-6"),
        ("water bottle", "hg-11-3-11"),
        ("watch", "aa-6-11"),
        ("backpack", "lb-1"),
        ("yoga mat", "sg-2-26-3"),
        ("sweatpants", "aa-1-1-1-4"),
        ("Push It Messenger Bag", "lb-10"),
        ("sneakers", "aa-8-8"),
    ],
)
def test_search_examples(tax: Taxonomy, query: str, expected: str) -> None:
    assert first(tax, query).category_id == expected


def test_running_shoes_rank_athletic_shoes_first(tax: Taxonomy) -> None:
    best = first(tax, "running shoes")
    assert best.category_id == "aa-8-1" and "Shoes" in best.name


def test_yoga_pants_and_joggers(tax: Taxonomy) -> None:
    assert tax.category(first(tax, "yoga pants").category_id).name in {"Leggings", "Pants"}
    assert tax.category(first(tax, "joggers").category_id).name == "Joggers"


def test_search_result_shape(tax: Taxonomy) -> None:
    results = tax.search_categories("hoodie", k=5)
    assert 1 <= len(results) <= 5
    scores = [r.score for r in results]
    assert scores == sorted(scores, reverse=True)
    for r in results:
        cat = tax.category(r.category_id)
        assert (r.name, r.full_name) == (cat.name, cat.full_name)
    assert tax.search_categories("") == []
    assert tax.search_categories("hoodie", k=0) == []
    assert tax.search_categories("zzqx vvbnm") == []
    long_title = "Organic cotton crew neck t-shirt " * 3000
    assert first(tax, long_title).category_id == "aa-1-13-8"


def test_category_synonyms_point_to_existing_categories(tax: Taxonomy) -> None:
    table = tax._synonyms["categories"]
    assert len(table) >= 100
    for ids in table.values():
        for cid in ids:
            tax.category(cid)


def test_json_schema_validates_samples(tax: Taxonomy) -> None:
    schema = tax.json_schema("aa-1-13-8")
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(tax.category("aa-1-13-8").attribute_handles)
    color = schema["properties"]["color"]
    assert color["type"] == "array" and color["uniqueItems"] is True and "Black" in color["items"]["enum"]
    validator = jsonschema.Draft202012Validator(schema)
    good = {"color": ["Black", "White"], "target-gender": ["Male"], "fabric": ["Cotton"]}
    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors({})) == []
    for bad in (
        {"flavor": ["Vanilla"]},  # unknown attribute
        {"color": ["Ultraviolet"]},  # value outside the taxonomy
        {"color": "Black"},  # not an array
        {"color": ["Black", "Black"]},  # duplicates
    ):
        assert not validator.is_valid(bad), bad


def test_json_schema_is_cached_and_pure(tax: Taxonomy) -> None:
    assert tax.json_schema("aa-1-13-8") is tax.json_schema("aa-1-13-8")
    assert json_schema(tax, "aa-1-13-8") == tax.json_schema("aa-1-13-8")
    frame_cat = next(c for c in tax.categories.values() if "frame-material" in c.attribute_handles)
    enum = tax.json_schema(frame_cat.id)["properties"]["frame-material"]["items"]["enum"]
    assert "Wood" in enum  # extended attribute: values of its base


runner = CliRunner()


def test_cli_stats() -> None:
    result = runner.invoke(app, ["stats"])
    assert result.exit_code == 0, result.output
    assert "2025-01-unstable" in result.output
    for count in ("10,595", "1,987", "312", "20,635", "40,255"):
        assert count in result.output


def test_cli_show() -> None:
    result = runner.invoke(app, ["show", "aa-1-13-8"])
    assert result.exit_code == 0, result.output
    assert "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts" in result.output
    assert "color" in result.output and "Black" in result.output
    missing = runner.invoke(app, ["show", "zz-404"])
    assert missing.exit_code != 0 and "zz-404" in missing.output


def test_cli_search() -> None:
    result = runner.invoke(app, ["search", "mens hoodie", "--k", "3"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 3 and "aa-1-13-13" in lines[0]
