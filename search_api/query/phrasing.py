"""Shopper phrasing that names no value of the catalog but means one, and words that carry nothing to
search by (issue 17: queries about a use or an occasion, questions, superlatives).

- A use or an occasion ("for running in winter", "hiking in the rain", "a weekend away") and a
  superlative the catalog has a field for ("lightest", "warmest") add the store's own value names to the
  ranking text ("Wintry", "Rainy", "Lightweight"): only names some attribute of the store has, so a
  store without climates gets nothing. They rank, never filter: a listing often lacks the value.
- Words for clothing as a whole ("clothes", "outfit", "something to wear") are the store's Clothing
  category, a filter like any category word.
- Question and filler words ("do you have", "are there any", "how much are", "best rated": the catalog
  holds no ratings) leave the ranking text.

Pure functions over the lower-cased query and the store's vocabulary; `parse.parse_query` calls them.
The tables were written looking at the development half of tests/relevance only (README there).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from search_api.query.vocabulary import StoreVocabulary


@dataclass(frozen=True)
class Occasion:
    pattern: re.Pattern[str]
    values: tuple[str, ...]  # value names, looked up in every attribute of the store
    replaces: bool = False  # the words mean something else as a value name of their own ("warm")


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b")


_COLD = ("Insulated", "Fleece", "Wool", "Cold", "Wintry")
OCCASIONS: tuple[Occasion, ...] = (
    # "warm" as what a garment does, not the Warm climate: "warm for the weather" keeps the climate.
    Occasion(re.compile(r"\b(?:warm|warmer|warmest|warmth|cozy|cosy)\b(?!\s+(?:weather|days?|climates?|"
                        r"temperatures?|nights?|evenings?))"), _COLD, replaces=True),
    Occasion(_words("winter", "wintertime", "snow", "snowy", "freezing", "frosty", "chilly", "cold", "colder",
                    "coldest"), ("Wintry", "Cold")),
    Occasion(_words("rain", "rainy", "wet", "drizzle", "showers", "storm", "stormy", "downpour"),
             ("Rainy", "Water resistant", "Waterproof", "Rain Coat")),
    Occasion(_words("summer", "heat", "heatwave", "hot weather", "hot days?"), ("Hot", "Warm")),
    Occasion(_words("lightest", "lighter", "featherweight", "light weight"), ("Lightweight",), replaces=True),
    Occasion(re.compile(r"\blight\b(?!\s+(?:blue|green|gray|grey|pink|purple|yellow|brown|red|colou?red?))"),
             ("Lightweight",)),
    Occasion(_words("school", "college", "campus"), ("School",)),
    Occasion(_words("weekend", "weekends", "trip", "trips", "getaway", "vacation", "holiday", "away"),
             ("Overnight", "Travel")),
    Occasion(_words("hydrated", "hydration", "hydrate", "thirsty"), ("Hydration", "Hydration Pocket")),
    Occasion(_words("windy", "wind", "breezy", "gusty"), ("Windy", "Windproof")),
    # A place of use, not the Home & Garden department: "yoga at home", "home workouts" (a home-goods
    # store's "home decor" keeps its word).
    Occasion(_words("at home", r"home (?:workouts?|gym|exercises?|training)"), ("Gym", "Exercise"), replaces=True),
    Occasion(_words("commute", "commuting", "city"), ("Urban",)),
    Occasion(_words("pool", "swim", "swimming", "swims", "laps"), ("Water resistant", "Waterproof")),
    Occasion(_words("laptop", "computer"), ("Laptop Sleeve", "Laptop")),
)

# Shopper words for a value the store spells otherwise: "without zipper" excludes the Full zip style.
VALUE_ALIASES = {"zipper": "Full zip", "zippered": "Full zip", "zip up": "Full zip", "zip-up": "Full zip"}

# Shopper words for a kind that the taxonomy's category search does not find ("top" scores 4.6, as low as
# "Table Tops"), -> the name of the store's category they mean. A longer phrase the store names still wins
# ("tank top" is Tank Tops, "bra top" also a Sports Bra).
KIND_ALIASES = {"top": "Clothing Tops", "tops": "Clothing Tops", "bra top": "Sports Bras", "bra tops": "Sports Bras"}

# "Sleeveless" on a top is what a tank is, with words between too ("sleeveless workout top"): the two
# words are the store's Tank Tops; the words between stay in the text.
TANK_CATEGORY = "Tank Tops"
_SLEEVELESS_TOP = re.compile(r"\bsleeveless\s+(?:[a-z-]+\s+){0,2}?(tops?|shirts?|tees?|t-shirts?)\b")

_RATED = re.compile(r"\b(?:best|top|highest)[\s-]rated\b|\btop[\s-](?:sellers?|selling|picks?|brands?)\b")

# Words for clothing as a whole -> the store's category of this name.
CLOTHING_CATEGORY = "Clothing"
_CLOTHING = re.compile(r"\b(?:clothes|clothing|outfits?|apparel|(?:something|anything|what) to wear)\b")

# Phrases with nothing to search by. Single stop words ("for", "the") are the parser's own.
_FILLER = re.compile(
    r"\b(?:do you (?:have|sell|carry|stock|offer)|have you got|got any|are there(?: any)?|is there(?: an?y?)?|"
    r"can i (?:get|find|buy)|where can i (?:find|get|buy)|where are|how much (?:are|is|do|does)|how much|"
    r"what kinds? of|what sorts? of|which ones?|which|what|something|anything|stuff|"
    r"(?:best|top|highest)[\s-]rated|best|most popular|whats|(?:that |which )?i can|can i|i could|"
    r"that can|which can|good|great|nice|decent|"
    # When, not what: "for cool windy days", "a cold morning walk" (the weather words rank by themselves).
    r"days?|mornings?|evenings?|nights?|afternoons?)\b",
    re.IGNORECASE,
)


@dataclass
class Phrasing:
    """What `read_phrasing` found in one query."""

    spans: list[tuple[int, int]] = field(default_factory=list)  # read here: not for the value parser
    words: list[str] = field(default_factory=list)  # the store's value names, for the ranking text
    categories: list[tuple[str, str, tuple[int, int]]] = field(default_factory=list)  # (id, name, span)


def _store_names(vocab: StoreVocabulary) -> dict[str, str]:
    """lower-cased value name -> the store's spelling, over every attribute."""
    cached = vocab._compiled.get("phrasing.names")
    if cached is None:
        cached = {}
        for values in vocab.attributes.values():
            for name in values.values():
                cached.setdefault(name.lower(), name)
        vocab._compiled["phrasing.names"] = cached
    return cached


def read_phrasing(low: str, vocab: StoreVocabulary, free=lambda start, end: True) -> Phrasing:
    """Occasion and superlative words (as the store's value names) and clothing words (as its category)
    in the lower-cased query `low`; `free(start, end)` says whether an earlier pass left those characters."""
    out = Phrasing()
    names = _store_names(vocab)
    for occasion in OCCASIONS:
        for m in occasion.pattern.finditer(low):
            if not free(m.start(), m.end()):
                continue
            if occasion.replaces:
                out.spans.append((m.start(), m.end()))
            for value in occasion.values:
                name = names.get(value.lower())
                # A value the shopper named ("windy") is in the text already: once is enough.
                if name and name not in out.words and not re.search(rf"\b{re.escape(value.lower())}\b", low):
                    out.words.append(name)
    clothing = _category_named(vocab, CLOTHING_CATEGORY)
    if clothing is not None:
        for m in _CLOTHING.finditer(low):
            if free(m.start(), m.end()):
                out.spans.append((m.start(), m.end()))
                out.categories.append((clothing, CLOTHING_CATEGORY, (m.start(), m.end())))
    # "top rated" is praise, not the Clothing Tops: read here, so the value parser never sees the "top".
    for m in _RATED.finditer(low):
        if free(m.start(), m.end()):
            out.spans.append((m.start(), m.end()))
    tanks = _category_named(vocab, TANK_CATEGORY)
    if tanks is not None:
        for m in _SLEEVELESS_TOP.finditer(low):
            word = (m.start(), m.start() + len("sleeveless"))
            if free(*word) and free(*m.span(1)):
                out.spans.extend([word, m.span(1)])
                out.categories.append((tanks, TANK_CATEGORY, m.span(1)))
    return out


def _category_named(vocab: StoreVocabulary, name: str) -> str | None:
    return next((cid for cid, have in vocab.categories.items() if have == name), None)


def drop_filler(text: str) -> str:
    """The ranking text without question and filler words."""
    return " ".join(_FILLER.sub(" ", text).split())


def kind_aliases(vocab: StoreVocabulary) -> list[tuple[str, str, str]]:
    """(alias, category id, category name) for each KIND_ALIASES name some category of the store has."""
    by_name: dict[str, list[str]] = {}
    for cid, name in vocab.categories.items():
        by_name.setdefault(name.lower(), []).append(cid)
    return [(alias, cid, vocab.categories[cid]) for alias, wanted in KIND_ALIASES.items()
            for cid in by_name.get(wanted.lower(), ())]


def value_aliases(vocab: StoreVocabulary) -> list[tuple[str, str, str, str]]:
    """(alias, handle, value key, value name) for each VALUE_ALIASES name some attribute of the store has."""
    out = []
    for alias, wanted in VALUE_ALIASES.items():
        for handle, values in vocab.attributes.items():
            out.extend((alias, handle, key, name) for key, name in values.items() if name.lower() == wanted.lower())
    return out
