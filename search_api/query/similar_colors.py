"""Colours a shopper takes for one another: an "orange tee" that is not there is nearer to a red or a
yellow one than to a blue one. Used only where the exact colour found nothing or ran out (relaxation and
close matches), never to widen a colour the shopper's results already match.

The neighbours are the basic colour terms' own order, not anything fitted to a catalog: adjacent hues on the
hue circle (red, orange, yellow, green, blue, purple, pink, back to red), adjacent lightness on the neutral
axis (black, gray, white) and the named dark or pale forms of a hue (navy of blue; brown of orange; beige
between brown, yellow and white), and the metallics beside the hue they look like.
"""

from __future__ import annotations

from collections.abc import Callable

from search_api.query.models import AppliedFilter

_PAIRS = (
    ("red", "orange"), ("orange", "yellow"), ("yellow", "green"), ("green", "blue"), ("blue", "purple"),
    ("purple", "pink"), ("pink", "red"),
    ("black", "gray"), ("gray", "white"),
    ("navy", "blue"), ("navy", "black"), ("brown", "orange"), ("beige", "brown"), ("beige", "yellow"),
    ("beige", "white"),
    ("gold", "yellow"), ("silver", "gray"), ("bronze", "brown"), ("rose-gold", "pink"),
)
PREFIX = "color__"


def _neighbours() -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    for a, b in _PAIRS:
        out.setdefault(PREFIX + a, []).append(PREFIX + b)
        out.setdefault(PREFIX + b, []).append(PREFIX + a)
    return {k: tuple(v) for k, v in out.items()}


NEIGHBOURS = _neighbours()


def similar_colors(value: str) -> tuple[str, ...]:
    """The colour value handles next to `value` (none for a colour outside the basic terms)."""
    return NEIGHBOURS.get(value, ())


def widen_color(f: AppliedFilter, name: Callable[[str], str]) -> AppliedFilter | None:
    """A positive colour filter that also admits the colours next to its own, each named by `name` (value
    handle -> display name); None for any other filter or a colour with no neighbours."""
    if f.field != "attr.color" or f.negated:
        return None
    extra = [n for v in f.values for n in similar_colors(v) if n not in f.values]
    extra = list(dict.fromkeys(extra))
    if not extra:
        return None
    shown = ", ".join(name(v) for v in extra)
    own = ", ".join(name(v) for v in f.values)
    # Built anew, not copied, so that its id is derived from its values like any other filter's.
    return AppliedFilter(**{**f.model_dump(exclude={"id"}), "values": [*f.values, *extra], "op": "in",
                            "label": f"Color: {own} or similar ({shown})"})
