"""The kinds the taxonomy groups, which widen a shopper's category filter in a store without categories."""

from __future__ import annotations

import pytest

from search_api.query.kind_groups import listed_names, taxonomy_kind_groups, widen
from taxonomy import Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="module")
def kinds(taxonomy) -> dict[str, frozenset[str]]:
    return taxonomy_kind_groups(taxonomy)


def _ids(taxonomy: Taxonomy, full_name: str) -> str:
    return next(c.id for c in taxonomy.categories.values() if c.full_name == full_name)


def _names(taxonomy: Taxonomy, ids) -> set[str]:
    return {taxonomy.categories[c].full_name.split(" > ", 2)[-1] for c in ids}


def test_a_list_shaped_name_reads_as_english_does():
    assert listed_names("Coats & Jackets") == ["coats", "jackets"]
    assert listed_names("Eggs, Meat & Seafood") == ["eggs", "meat", "seafood"]
    # The qualifier carries over to the bare words after it.
    assert listed_names("Dishwasher Parts & Accessories") == ["dishwasher parts", "dishwasher accessories"]
    assert listed_names("Activewear Sweatshirts & Hoodies") == ["activewear sweatshirts", "activewear hoodies"]
    assert listed_names("Hoodies") == []


def test_siblings_the_taxonomy_lists_together_are_one_kind_wherever_they_stand(taxonomy, kinds):
    hoodies = _ids(taxonomy, "Apparel & Accessories > Clothing > Clothing Tops > Hoodies")
    group = _names(taxonomy, kinds[hoodies])
    # Clothing Tops has no "Sweatshirts & Hoodies" node: the grouping comes from Activewear's.
    assert "Clothing Tops > Sweatshirts" in group
    assert "Activewear > Activewear Sweatshirts & Hoodies > Hoodies" in group
    assert not any("T-Shirts" in name or "Jackets" in name for name in group)


def test_one_name_under_one_vertical_is_one_kind(taxonomy, kinds):
    tanks = _ids(taxonomy, "Apparel & Accessories > Clothing > Clothing Tops > Tank Tops")
    assert _names(taxonomy, kinds[tanks]) == {"Clothing Tops > Tank Tops", "Activewear > Activewear Tops > Tank Tops"}


def test_a_narrower_kind_joins_the_broader_one_never_the_reverse(taxonomy, kinds):
    bras = _ids(taxonomy, "Apparel & Accessories > Clothing > Lingerie > Bras")
    sports_bras = _ids(taxonomy, "Apparel & Accessories > Clothing > Activewear > Sports Bras")
    assert sports_bras in kinds[bras]
    assert bras not in kinds.get(sports_bras, frozenset([sports_bras]))
    jackets = _ids(taxonomy, "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets")
    assert {"Outerwear > Coats & Jackets > Trench Coats", "Activewear > Activewear Vests & Jackets > Jackets"} \
        <= _names(taxonomy, kinds[jackets])


def test_vertical_names_and_qualified_lists_do_not_merge_departments(taxonomy, kinds):
    games = _ids(taxonomy, "Toys & Games > Games")
    toys = _ids(taxonomy, "Toys & Games > Toys")
    assert toys not in kinds.get(games, frozenset())
    assert games not in kinds.get(toys, frozenset())
    for members in kinds.values():
        assert len(members) <= 60  # no kind swallows a department
    for cid, members in kinds.items():
        verticals = {m.split("-", 2)[0] + "-" + m.split("-", 2)[1] for m in members}
        assert len(verticals) == 1, (cid, verticals)


def test_widen_unions_every_map_and_keeps_the_values():
    store = {"a": frozenset({"a", "b"})}
    taxonomy_kinds = {"b": frozenset({"b", "c"}), "a": frozenset({"a", "d"})}
    assert widen(["a"], store, taxonomy_kinds) == ["a", "b", "d"]
    assert widen(["z"], store, taxonomy_kinds) == ["z"]
