"""Categories the taxonomy itself treats as one kind of product, for widening a shopper's category filter.

A store that gives only titles and photos has no merchant categories to group by (search_api.documents'
`category_groups`), and the extractor may file a "Pullover Hoodie" under Sweatshirts as readily as under
Hoodies. The taxonomy says which neighbouring kinds belong together, in two ways:

- a node named as a list of its children ("Activewear Sweatshirts & Hoodies" > Hoodies, Sweatshirts)
  makes those names one kind, and so every pair of siblings with those names, wherever they stand
  (Clothing Tops > Hoodies, Clothing Tops > Sweatshirts);
- nodes of one name under one vertical (Clothing Tops > Tank Tops, Activewear Tops > Tank Tops) are one
  kind: the shopper who types "tank" does not choose between the two branches;
- a name that ends in another category's name under the same vertical is a narrower kind of it (Sports
  Bras of Bras, Bike Shorts of Shorts): a filter on the broader kind admits it, never the reverse, since
  English puts the kind last and a "sports bra" is a bra while a bra is not always a sports bra.

Only exact names count, and only below the verticals (whose names list departments: "Toys & Games"):
"Eggs, Meat & Seafood" groups Eggs, Meat and Seafood only where those three are siblings under that
node, never "Meat" with some other node that merely ends in a listed word.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Mapping

from taxonomy import Taxonomy

# "A & B", "A, B & C", "A and B": the separators of a node named after its children.
_LIST_SEPARATORS = re.compile(r"\s*(?:,|&|\band\b)\s*")


def listed_names(name: str) -> list[str]:
    """The items of a list-shaped category name, lower-cased; [] for a name that lists nothing. A qualified
    item's qualifier applies to the bare words after it, as English reads the list: "Dishwasher Parts &
    Accessories" lists dishwasher parts and dishwasher accessories, not every accessory."""
    if "&" not in name and "," not in name and " and " not in name:
        return []
    out, qualifier = [], ""
    for item in (i.lower() for i in _LIST_SEPARATORS.split(name) if i.strip()):
        if " " in item:
            qualifier = item.rsplit(" ", 1)[0]
            out.append(item)
        else:
            out.append(f"{qualifier} {item}" if qualifier else item)
    return out


def _named_in(child: str, items: list[str]) -> bool:
    """Whether a child's name is one of the items, allowing the parent's qualifier on the first one
    ("Activewear Sweatshirts" names "Sweatshirts")."""
    child = child.lower()
    return any(item == child or item.endswith(" " + child) for item in items)


def kindred_names(taxonomy: Taxonomy) -> list[frozenset[str]]:
    """Sets of category names (lower-cased) that some node of the taxonomy lists as its own children."""
    found: set[frozenset[str]] = set()
    for category in taxonomy.categories.values():
        # A vertical's own name lists departments, not one kind ("Toys & Games", "Cameras & Optics").
        items = listed_names(category.name) if category.level > 0 else []
        if not items:
            continue
        members = frozenset(c.name.lower() for c in taxonomy.children(category.id) if _named_in(c.name, items))
        if len(members) >= 2:
            found.add(members)
    return sorted(found, key=sorted)


def _vertical(category_id: str) -> str:
    """The first two levels of an id ("aa-1" for everything under Apparel & Accessories > Clothing)."""
    return "-".join(category_id.split("-")[:2])


def taxonomy_kind_groups(taxonomy: Taxonomy) -> dict[str, frozenset[str]]:
    """Category id -> the ids a filter on it admits (itself included), for the categories that have company.

    Keyed like `category_groups` (every member), so `widen` treats both alike. Built once per taxonomy:
    a walk over every category, done at start-up, never on a request."""
    same_kind = _same_kind_groups(taxonomy)
    narrower = _narrower_kinds(taxonomy)
    out: dict[str, frozenset[str]] = {}
    for cid in same_kind.keys() | narrower.keys():
        members = same_kind.get(cid, frozenset([cid]))
        out[cid] = members.union(*(narrower.get(m, ()) for m in members))
    return out


def _narrower_kinds(taxonomy: Taxonomy) -> dict[str, set[str]]:
    """Category id -> ids of the same vertical whose names end in its name ("Bras" -> "Sports Bras"). A
    list-shaped name is broader than each of its items ("Coats & Jackets" -> "Jackets", "Trench Coats")."""
    by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
    for category in taxonomy.categories.values():
        vertical = _vertical(category.id)
        by_name[(vertical, category.name.lower())].append(category.id)
        for item in listed_names(category.name) if category.level > 0 else []:
            by_name[(vertical, item)].append(category.id)
    narrower: dict[str, set[str]] = defaultdict(set)
    for category in taxonomy.categories.values():
        words = category.name.lower().split()
        vertical = _vertical(category.id)
        for start in range(len(words)):  # the whole name too: "Jackets" is an item of "Coats & Jackets"
            for broader in by_name.get((vertical, " ".join(words[start:])), ()):
                if broader != category.id:
                    narrower[broader].update({broader, category.id})
    return narrower


def _same_kind_groups(taxonomy: Taxonomy) -> dict[str, frozenset[str]]:
    """Category id -> its symmetric group: siblings the taxonomy lists together, and one name under one
    vertical, closed over both."""
    names_by_set = kindred_names(taxonomy)
    kin: dict[str, set[str]] = defaultdict(set)  # name -> names of its kind
    for names in names_by_set:
        for name in names:
            kin[name].update(names)
    groups: dict[str, set[str]] = defaultdict(set)

    # Siblings whose names the taxonomy lists together.
    parents: dict[str | None, list] = defaultdict(list)
    for category in taxonomy.categories.values():
        parents[category.parent_id].append(category)
    for siblings in parents.values():
        by_name = {c.name.lower(): c.id for c in siblings}
        for name, cid in by_name.items():
            mates = {by_name[n] for n in kin.get(name, ()) if n in by_name}
            if len(mates) >= 2:
                groups[cid].update(mates)

    # One name under one vertical.
    same_name: dict[tuple[str, str], set[str]] = defaultdict(set)
    for category in taxonomy.categories.values():
        same_name[(_vertical(category.id), category.name.lower())].add(category.id)
    for ids in same_name.values():
        if len(ids) >= 2:
            for cid in ids:
                groups[cid].update(ids)

    # A name-kin group and a same-name group that share a member are one kind: close over both.
    closed: dict[str, frozenset[str]] = {}
    for cid in groups:
        if cid in closed:
            continue
        members, frontier = set(), [cid]
        while frontier:
            current = frontier.pop()
            if current in members:
                continue
            members.add(current)
            frontier.extend(groups.get(current, ()))
        frozen = frozenset(members)
        for member in members:
            closed[member] = frozen
    return closed


def widen(values: list[str], *group_maps: Mapping[str, frozenset[str]]) -> list[str]:
    """The category ids `values` admit once every group they belong to is added, sorted."""
    wider = set(values)
    for groups in group_maps:
        for value in values:
            wider.update(groups.get(value, ()))
    return sorted(wider)
