"""Lexical category search: BM25 over category names, a lighter field over ancestor names, and synonyms."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from taxonomy.matcher import PhraseMatcher, select_longest
from taxonomy.models import CategoryMatch, TaxonomyError
from taxonomy.text import normalize_phrase, normalize_tokens

if TYPE_CHECKING:
    from taxonomy.core import Taxonomy

STOPWORDS = frozenset(
    {"and", "for", "the", "of", "with", "a", "an", "in", "on", "to", "by", "or", "at", "from"}
)
K1 = 1.2
B = 0.75
# A term found only among the ancestors ("Shoes" for "Athletic Shoes > ...") says less than one in the
# category's own name: the name decides what the product is.
PATH_WEIGHT = 0.3
# Audience and look words ("men's", "kids", "black") rarely name the product type.
MODIFIER_WEIGHT = 0.25
# A reviewed synonym is stronger evidence than any single lexical term match.
SYNONYM_BONUS = 12.0
# Among categories with the same name (T-Shirts under Clothing Tops, Activewear Tops, Baby Tops, ...)
# the shallower, general one is the better default; the query's other words move the specific ones up.
LEVEL_PENALTY = 0.05


class CategoryIndex:
    """Inverted index over the 10,595 categories, built once (tens of milliseconds) on first search."""

    def __init__(
        self, tax: Taxonomy, synonyms: Mapping[str, Iterable[str]], modifiers: Iterable[str]
    ) -> None:
        cats = list(tax.categories.values())
        self._cats = cats
        index_of = {c.id: i for i, c in enumerate(cats)}
        name_terms = [self._terms(c.name) for c in cats]
        path_terms = []
        for i, c in enumerate(cats):
            terms: set[str] = set()
            parent = c.parent_id
            while parent is not None:
                terms.update(name_terms[index_of[parent]])
                parent = tax.categories[parent].parent_id
            path_terms.append(terms - set(name_terms[i]))
        n = len(cats)
        df: dict[str, int] = {}
        for terms in name_terms:
            for t in set(terms):
                df[t] = df.get(t, 0) + 1
        for terms in path_terms:
            for t in terms:
                df.setdefault(t, 0)
        self._idf = {t: math.log(1.0 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}
        avg_len = sum(len(t) for t in name_terms) / n
        self._name_post: dict[str, list[tuple[int, float]]] = {}
        self._name_idf_total = []
        for i, terms in enumerate(name_terms):
            norm = 1.0 - B + B * len(terms) / avg_len
            for t in set(terms):
                tf = terms.count(t)
                w = self._idf[t] * tf * (K1 + 1) / (tf + K1 * norm)
                self._name_post.setdefault(t, []).append((i, w))
            self._name_idf_total.append(sum(self._idf[t] for t in set(terms)) or 1.0)
        self._path_post: dict[str, list[int]] = {}
        for i, terms in enumerate(path_terms):
            for t in terms:
                self._path_post.setdefault(t, []).append(i)
        self._level_penalty = [LEVEL_PENALTY * c.level for c in cats]
        self._modifiers = frozenset(normalize_phrase(m) for m in modifiers)
        phrases = []
        for phrase, ids in synonyms.items():
            targets = []
            for rank, cid in enumerate(ids):
                if cid not in index_of:
                    raise TaxonomyError(f"synonyms.yaml: unknown category {cid!r} for {phrase!r}", cid)
                targets.append((index_of[cid], 1.0 - 0.2 * rank))
            phrases.append((normalize_phrase(phrase), targets))
        self._synonyms: PhraseMatcher[list[tuple[int, float]]] = PhraseMatcher(phrases)

    @staticmethod
    def _terms(text: str) -> list[str]:
        return [t for t in normalize_tokens(text) if t not in STOPWORDS]

    def search(self, text: str, k: int = 10) -> list[CategoryMatch]:
        if k <= 0 or not text:
            return []
        tokens = normalize_tokens(text)
        if not tokens:
            return []
        scores: dict[int, float] = {}
        covered: dict[int, float] = {}
        for t in dict.fromkeys(tok for tok in tokens if tok not in STOPWORDS):
            qw = MODIFIER_WEIGHT if t in self._modifiers else 1.0
            for i, w in self._name_post.get(t, ()):
                scores[i] = scores.get(i, 0.0) + qw * w
                covered[i] = covered.get(i, 0.0) + self._idf[t]
            path = self._path_post.get(t)
            if path:
                pw = qw * PATH_WEIGHT * self._idf[t]
                for i in path:
                    scores[i] = scores.get(i, 0.0) + pw
        # Scale a name match by how much of the name the query covers: "Hoodies" fully matched beats
        # "Pet Hoodies" half matched.
        for i, c in covered.items():
            scores[i] *= 0.5 + 0.5 * min(1.0, c / self._name_idf_total[i])
        for _first, _n, payloads in select_longest(self._synonyms.raw_hits(tokens)):
            for targets in payloads:
                for i, weight in targets:
                    scores[i] = scores.get(i, 0.0) + SYNONYM_BONUS * weight
        if not scores:
            return []
        pen = self._level_penalty
        ranked = sorted(scores.items(), key=lambda kv: kv[1] - pen[kv[0]], reverse=True)[:k]
        cats = self._cats
        return [
            CategoryMatch(cats[i].id, cats[i].name, cats[i].full_name, round(s - pen[i], 4))
            for i, s in ranked
            if s - pen[i] > 0
        ]
