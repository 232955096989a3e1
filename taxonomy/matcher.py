"""Compiled phrase matcher over normalized token sequences.

Phrases and text are both reduced by :mod:`taxonomy.text`; the text becomes `` tok1 tok2 ... tokN `` and
every phrase is stored as `` phrase `` (leading and trailing space), so an Aho-Corasick hit can only start
and end on token boundaries: "red" never fires inside "bored", "tan" never inside "titanium".
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

try:
    import ahocorasick
except ImportError:  # pragma: no cover - exercised only where pyahocorasick is absent
    ahocorasick = None

T = TypeVar("T")


class PhraseMatcher(Generic[T]):
    """Maps normalized phrases to payload lists and finds every occurrence in a token sequence
    (:func:`select_longest` then keeps the longest non-overlapping ones)."""

    def __init__(self, phrases: Iterable[tuple[str, T]]) -> None:
        table: dict[str, list[T]] = {}
        for phrase, payload in phrases:
            if phrase:
                table.setdefault(phrase, []).append(payload)
        self._table = table
        self._max_tokens = max((p.count(" ") + 1 for p in table), default=0)
        self._automaton = None
        if ahocorasick is not None and table:
            automaton = ahocorasick.Automaton()
            for phrase, payloads in table.items():
                automaton.add_word(f" {phrase} ", (phrase.count(" ") + 1, payloads))
            automaton.make_automaton()
            self._automaton = automaton

    def raw_hits(self, tokens: list[str]) -> list[tuple[int, int, list[T]]]:
        """Every (first token, token count, payloads) occurrence, overlaps included."""
        if not tokens or not self._table:
            return []
        if self._automaton is None:
            return self._ngram_hits(tokens)
        joined = " " + " ".join(tokens) + " "
        # Char offset of the space that follows token i -> i; an automaton hit ends on such a space.
        after: dict[int, int] = {}
        pos = 1
        for i, tok in enumerate(tokens):
            pos += len(tok)
            after[pos] = i
            pos += 1
        out = []
        for end, (ntok, payloads) in self._automaton.iter(joined):
            out.append((after[end] - ntok + 1, ntok, payloads))
        return out

    def _ngram_hits(self, tokens: list[str]) -> list[tuple[int, int, list[T]]]:
        out = []
        n = len(tokens)
        for i in range(n):
            for k in range(1, min(self._max_tokens, n - i) + 1):
                payloads = self._table.get(" ".join(tokens[i : i + k]))
                if payloads:
                    out.append((i, k, payloads))
        return out


def select_longest(hits: list[tuple[int, int, list[T]]]) -> list[tuple[int, int, list[T]]]:
    """Greedy non-overlapping selection: longer phrases win ("navy blue" over "blue"), then earlier ones."""
    if len(hits) <= 1:
        return hits
    taken: set[int] = set()
    chosen = []
    for first, ntok, payloads in sorted(hits, key=lambda h: (-h[1], h[0])):
        span = range(first, first + ntok)
        if any(i in taken for i in span):
            continue
        taken.update(span)
        chosen.append((first, ntok, payloads))
    chosen.sort(key=lambda h: h[0])
    return chosen
