"""The Shopify Standard Product Taxonomy, loaded from the compiled package data."""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any

from taxonomy.matcher import PhraseMatcher, select_longest
from taxonomy.models import (
    Attribute,
    Category,
    CategoryMatch,
    FoundValue,
    TaxonomyError,
    Value,
    ValueMatch,
)
from taxonomy.text import normalize_phrase, tokenize

CATEGORY_GID = "gid://shopify/TaxonomyCategory/"
ATTRIBUTE_GID = "gid://shopify/TaxonomyAttribute/"
VALUE_GID = "gid://shopify/TaxonomyValue/"

# Confidence by how a phrase relates to a value: its own name, a form derived from the name (the part
# outside or inside parentheses, "&" spelled "and"), a reviewed synonym, a context form ("crew neck").
CONF_NAME = 1.0
CONF_DERIVED = 0.97
CONF_SYNONYM = 0.95
CONF_CONTEXT = 0.95
# The lowest confidence `Taxonomy.match_value` gives a whole-phrase match (the text is a value's name, a
# derived form or a synonym); a value found inside a longer text scores conf * (0.5 + 0.5 * coverage).
WHOLE_PHRASE_CONFIDENCE = min(CONF_NAME, CONF_DERIVED, CONF_SYNONYM)

_PAREN_RE = re.compile(r"^(.*?)\s*\(([^()]+)\)\s*$")
# Value names (normalized) that never describe a product in free text.
NEVER_FOUND = frozenset({"other", "none"})

# (alias key, value handle, confidence)
_AliasTable = dict[str, list[tuple[str, float]]]
# payload of the find_values matcher: (attribute handle, value handle, value id, value name, confidence)
_Found = tuple[str, str, int, str, float]


def _data_path(name: str):
    return resources.files("taxonomy") / "data" / name


def _load_yaml(name: str) -> dict[str, Any]:
    import yaml  # only the matching features need it; keeps Taxonomy.load() lean

    text = _data_path(name).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader) or {}


def _name_forms(name: str) -> list[tuple[str, float]]:
    """Keys under which a value name is recognized, with their confidence."""
    forms = [(normalize_phrase(name), CONF_NAME)]
    m = _PAREN_RE.match(name)
    if m:  # "Polyvinyl chloride (PVC)": also "polyvinyl chloride" and "pvc"
        forms.append((normalize_phrase(m.group(1)), CONF_DERIVED))
        forms.append((normalize_phrase(m.group(2)), CONF_DERIVED))
    if "&" in name:  # "Hook & loop": the tokenizer drops "&", people also write "and"
        forms.append((normalize_phrase(name.replace("&", " and ")), CONF_DERIVED))
    return [(k, c) for k, c in forms if k]


class Taxonomy:
    """Read-only view of the taxonomy. Use :meth:`load`; instances are immutable and thread-safe to read."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.version: str = payload["version"]
        values: dict[str, Value] = {}
        value_by_id: dict[int, Value] = {}
        raw_values = {vid: (handle, name) for vid, handle, name in payload["values"]}

        attributes: dict[str, Attribute] = {}
        by_friendly: dict[str, str] = {}
        value_attrs: dict[int, list[str]] = {}
        base_value_ids: dict[str, list[int]] = {}
        for handle, aid, fid, name, desc, vals in payload["attributes"]:
            if isinstance(vals, list):
                ids = vals
                base_value_ids[handle] = ids
                values_from = None
            else:  # extended: ``vals`` names its base attribute, whose values it shares
                values_from = vals
                ids = base_value_ids[vals]
            for vid in ids:
                value_attrs.setdefault(vid, []).append(handle)
            attributes[handle] = Attribute(
                handle=handle,
                id=aid,
                gid=f"{ATTRIBUTE_GID}{aid}" if aid is not None else None,
                friendly_id=fid,
                name=name,
                description=desc,
                value_handles=tuple(raw_values[v][0] for v in ids),
                extended=aid is None,
                values_from=values_from,
            )
            by_friendly[fid] = handle
        for vid, (handle, name) in raw_values.items():
            v = Value(vid, f"{VALUE_GID}{vid}", handle, name, tuple(value_attrs.get(vid, ())))
            values[handle] = v
            value_by_id[vid] = v

        categories: dict[str, Category] = {}
        raw_cats = payload["categories"]
        parent_of = {child: cid for cid, _n, children, _a in raw_cats for child in children}
        full_names: dict[str, str] = {}
        # Categories come parent-first per vertical, so a parent's full name is known before its children.
        for cid, name, children, attrs in raw_cats:
            parent = parent_of.get(cid)
            full = f"{full_names[parent]} > {name}" if parent else name
            full_names[cid] = full
            categories[cid] = Category(
                id=cid,
                gid=f"{CATEGORY_GID}{cid}",
                name=name,
                full_name=full,
                parent_id=parent,
                children_ids=tuple(children),
                level=cid.count("-"),
                attribute_handles=tuple(attrs),
            )
        self.categories: Mapping[str, Category] = categories
        self.attributes: Mapping[str, Attribute] = attributes
        self.values: Mapping[str, Value] = values
        self._value_by_id = value_by_id
        self._attr_by_friendly = by_friendly
        self._schema_cache: dict[str, dict[str, Any]] = {}
        self._alias_cache: dict[str, tuple[_AliasTable, PhraseMatcher[tuple[str, float]]]] = {}
        self._finder_cache: dict[frozenset[str], PhraseMatcher[_Found]] = {}

    # ------------------------------------------------------------------ loading

    @staticmethod
    @lru_cache(maxsize=1)
    def load() -> Taxonomy:
        """The packaged taxonomy, parsed once per process."""
        with _data_path("taxonomy.json.gz").open("rb") as fh:
            payload = json.loads(gzip.decompress(fh.read()))
        return Taxonomy(payload)

    # ------------------------------------------------------------------ counts and lookups

    def stats(self) -> dict[str, int]:
        base = sum(1 for a in self.attributes.values() if not a.extended)
        return {
            "categories": len(self.categories),
            "base_attributes": base,
            "extended_attributes": len(self.attributes) - base,
            "values": len(self.values),
            "category_attribute_links": sum(len(c.attribute_handles) for c in self.categories.values()),
        }

    def category(self, category_id: str) -> Category:
        cat = self.categories.get(category_id)
        if cat is None and isinstance(category_id, str) and category_id.startswith(CATEGORY_GID):
            cat = self.categories.get(category_id[len(CATEGORY_GID) :])
        if cat is None:
            raise TaxonomyError(f"unknown taxonomy category: {category_id!r}", category_id)
        return cat

    def category_by_gid(self, gid: str) -> Category:
        if not isinstance(gid, str) or not gid.startswith(CATEGORY_GID):
            raise TaxonomyError(f"unknown taxonomy category gid: {gid!r}", gid)
        cat = self.categories.get(gid[len(CATEGORY_GID) :])
        if cat is None:
            raise TaxonomyError(f"unknown taxonomy category gid: {gid!r}", gid)
        return cat

    def attribute(self, handle: str) -> Attribute:
        """By handle ("target-gender"), friendly_id ("target_gender") or gid."""
        attr = self.attributes.get(handle)
        if attr is None:
            alt = self._attr_by_friendly.get(handle)
            if alt is None and isinstance(handle, str) and handle.startswith(ATTRIBUTE_GID):
                alt = self._attr_by_gid.get(handle)
            attr = self.attributes.get(alt) if alt else None
        if attr is None:
            raise TaxonomyError(f"unknown taxonomy attribute: {handle!r}", handle)
        return attr

    @cached_property
    def _attr_by_gid(self) -> dict[str, str]:
        return {a.gid: a.handle for a in self.attributes.values() if a.gid}

    def value(self, handle_or_id: str | int) -> Value:
        """By handle ("color__black"), numeric id (1 or "1") or gid."""
        key = handle_or_id
        val = self.values.get(key) if isinstance(key, str) else None
        if val is None:
            if isinstance(key, str) and key.startswith(VALUE_GID):
                key = key[len(VALUE_GID) :]
            if isinstance(key, str) and key.isdigit():
                key = int(key)
            if isinstance(key, int) and not isinstance(key, bool):
                val = self._value_by_id.get(key)
        if val is None:
            raise TaxonomyError(f"unknown taxonomy value: {handle_or_id!r}", handle_or_id)
        return val

    def ancestors(self, category_id: str) -> list[Category]:
        """Root first, excluding the category itself."""
        cat = self.category(category_id)
        chain = []
        while cat.parent_id is not None:
            cat = self.categories[cat.parent_id]
            chain.append(cat)
        chain.reverse()
        return chain

    def children(self, category_id: str) -> list[Category]:
        return [self.categories[c] for c in self.category(category_id).children_ids]

    def category_attributes(self, category_id: str) -> list[Attribute]:
        return [self.attributes[h] for h in self.category(category_id).attribute_handles]

    def attribute_values(self, handle: str) -> list[Value]:
        return [self.values[h] for h in self.attribute(handle).value_handles]

    # ------------------------------------------------------------------ JSON schema

    def json_schema(self, category_id: str) -> dict[str, Any]:
        """JSON Schema (2020-12) of the attribute values allowed for a category; cached, do not mutate."""
        schema = self._schema_cache.get(category_id)
        if schema is None:
            from taxonomy.schema import json_schema

            schema = json_schema(self, category_id)
            self._schema_cache[category_id] = schema
        return schema

    # ------------------------------------------------------------------ synonyms and filters data

    @cached_property
    def _synonyms(self) -> dict[str, Any]:
        return _load_yaml("synonyms.yaml")

    @cached_property
    def _filters(self) -> dict[str, Any]:
        return _load_yaml("filters.yaml")

    @cached_property
    def filter_attribute_handles(self) -> tuple[str, ...]:
        """Attributes that ``find_values`` reports by default (those that make sense as search filters)."""
        return tuple(self.attribute(h).handle for h in self._filters.get("attributes", {}))

    def _synonyms_for(self, attr: Attribute) -> dict[str, list[str]]:
        """value handle -> synonyms, from the per-attribute table (own or base) and the by-name table."""
        section = self._synonyms.get("values", {})
        out: dict[str, list[str]] = {}
        for owner in filter(None, (attr.handle, attr.values_from)):
            for suffix, words in (section.get(owner) or {}).items():
                out.setdefault(self._value_handle(attr, suffix), []).extend(words)
        by_name = self._synonyms.get("any_attribute", {})
        if by_name:
            lowered = {k.lower(): v for k, v in by_name.items()}
            for vh in attr.value_handles:
                words = lowered.get(self.values[vh].name.lower())
                if words:
                    out.setdefault(vh, []).extend(words)
        return out

    def _value_handle(self, attr: Attribute, key: str) -> str:
        """Resolve a synonym-table key: a full value handle, or a value name of the attribute."""
        if key in self.values:
            return key
        wanted = key.lower()
        for vh in attr.value_handles:
            if self.values[vh].name.lower() == wanted:
                return vh
        raise TaxonomyError(f"synonyms.yaml: {key!r} is not a value of attribute {attr.handle!r}", key)

    def _aliases(self, handle: str) -> tuple[_AliasTable, PhraseMatcher[tuple[str, float]]]:
        """Every key (names, derived forms, synonyms) of one attribute's values, plus a matcher over them."""
        cached = self._alias_cache.get(handle)
        if cached is not None:
            return cached
        attr = self.attribute(handle)
        table: _AliasTable = {}

        def add(key: str, vh: str, conf: float) -> None:
            entries = table.setdefault(key, [])
            for i, (other, c) in enumerate(entries):
                if other == vh:
                    entries[i] = (vh, max(c, conf))
                    return
            entries.append((vh, conf))

        for vh in attr.value_handles:
            for key, conf in _name_forms(self.values[vh].name):
                add(key, vh, conf)
        for vh, words in self._synonyms_for(attr).items():
            for word in words:
                add(normalize_phrase(str(word)), vh, CONF_SYNONYM)
        table.pop("", None)
        result = (table, PhraseMatcher((k, k) for k in table))
        self._alias_cache[attr.handle] = result
        return result

    # ------------------------------------------------------------------ free text -> values

    def match_value(self, attribute_handle: str, text: str) -> list[ValueMatch]:
        """Taxonomy values of one attribute that ``text`` names, best first (confidence in (0, 1])."""
        attr = self.attribute(attribute_handle)
        key = normalize_phrase(text or "")
        if not key:
            return []
        table, matcher = self._aliases(attr.handle)
        best: dict[str, float] = {}
        exact = table.get(key)
        if exact:
            for vh, conf in exact:
                best[vh] = max(best.get(vh, 0.0), conf)
        else:
            # The text says more than a value name ("dark navy", "100% organic cotton"): score each value
            # it contains by the share of the text that the value accounts for.
            ntokens = key.count(" ") + 1
            tokens = key.split(" ")
            for _first, ntok, keys in select_longest(matcher.raw_hits(tokens)):
                coverage = ntok / ntokens
                for k in keys:
                    for vh, conf in table[k]:
                        score = round(conf * (0.5 + 0.5 * coverage), 4)
                        best[vh] = max(best.get(vh, 0.0), score)
        out = [
            ValueMatch(attr.handle, vh, self.values[vh].id, self.values[vh].name, conf)
            for vh, conf in best.items()
        ]
        out.sort(key=lambda m: (-m.confidence, m.value_id))
        return out

    def _finder(self, handles: frozenset[str]) -> PhraseMatcher[_Found]:
        matcher = self._finder_cache.get(handles)
        if matcher is not None:
            return matcher
        config = self._filters.get("attributes", {}) or {}
        size_like = set(self._filters.get("size_like", []))
        phrases: list[tuple[str, _Found]] = []
        # Whitelist order decides the order of several attributes reported at one span (color before
        # material before size ...), so callers that keep only the first get the most useful one.
        preferred = [h for h in self.filter_attribute_handles if h in handles]
        for handle in preferred + sorted(handles.difference(preferred)):
            attr = self.attribute(handle)
            opts = config.get(attr.handle) or config.get(attr.friendly_id) or {}
            bare = opts.get("bare", True)
            suffixes = [normalize_phrase(s) for s in opts.get("suffixes", [])]
            ambiguous = {normalize_phrase(a) for a in opts.get("ambiguous", [])}
            synonyms = {
                (normalize_phrase(str(w)), vh) for vh, ws in self._synonyms_for(attr).items() for w in ws
            }
            table, _ = self._aliases(attr.handle)
            for key, entries in table.items():
                for vh, conf in entries:
                    value = self.values[vh]
                    if normalize_phrase(value.name) in NEVER_FOUND:
                        continue
                    payload = (attr.handle, vh, value.id, value.name, conf)
                    from_synonym = (key, vh) in synonyms
                    # A lone letter or number ("s", "32") is a size only when the text says "size".
                    weak = len(key) < 2 or key.replace(" ", "").isdigit()
                    single = " " not in key
                    if from_synonym or not (weak or key in ambiguous or (single and not bare)):
                        phrases.append((key, payload))
                    for suffix in suffixes:
                        if not from_synonym:
                            phrases.append((f"{key} {suffix}", payload[:4] + (min(conf, CONF_CONTEXT),)))
                    if attr.handle in size_like and not from_synonym:
                        phrases.append((f"size {key}", payload[:4] + (min(conf, CONF_CONTEXT),)))
        matcher = PhraseMatcher(phrases)
        if len(self._finder_cache) > 32:  # callers passing many ad-hoc sets must not grow memory forever
            self._finder_cache.clear()
        self._finder_cache[handles] = matcher
        return matcher

    def find_values(self, text: str, attributes: Iterable[str] | None = None) -> list[FoundValue]:
        """Every value mentioned in ``text``, with its attribute and character span, in text order.

        Longest phrases win ("navy blue" -> Navy, not Blue). A phrase that is a value of several attributes
        (Cotton in fabric and material) is reported once per attribute, at the same span.
        """
        if not text:
            return []
        default = frozenset(self.filter_attribute_handles)
        if attributes is None:
            wanted = None
            matcher = self._finder(default)
        else:
            wanted = frozenset(self.attribute(h).handle for h in attributes)
            if not wanted:
                return []
            matcher = self._finder(default if wanted <= default else wanted)
        toks = tokenize(text)
        hits = matcher.raw_hits([t[0] for t in toks])
        if wanted is not None and wanted != default:
            # Filter before choosing longest spans, so an excluded attribute cannot hide a wanted one.
            hits = [(i, k, kept) for i, k, p in hits if (kept := [x for x in p if x[0] in wanted])]
        out = []
        for first, ntok, payloads in select_longest(hits):
            start, end = toks[first][1], toks[first + ntok - 1][2]
            seen: dict[tuple[str, str], int] = {}
            for attr_h, vh, vid, name, conf in payloads:
                key = (attr_h, vh)
                if key in seen:
                    idx = seen[key]
                    if out[idx].confidence >= conf:
                        continue
                    out[idx] = FoundValue(attr_h, vh, vid, name, start, end, text[start:end], conf)
                    continue
                seen[key] = len(out)
                out.append(FoundValue(attr_h, vh, vid, name, start, end, text[start:end], conf))
        return out

    # ------------------------------------------------------------------ category search

    @cached_property
    def _category_index(self):
        from taxonomy.search import CategoryIndex

        return CategoryIndex(self, self._synonyms.get("categories", {}) or {},
                             self._synonyms.get("category_modifiers", []) or [])  # fmt: skip

    def search_categories(self, text: str, k: int = 10) -> list[CategoryMatch]:
        """Categories for a product title or query, best first (lexical score, not a probability)."""
        return self._category_index.search(text, k)
