"""Size expressions in listing text -> values of the taxonomy's size attributes.

The taxonomy has three size attributes: `size` (XXXS..6XL, even numbers 000..60, baby/kid ages such as
"3-6 months", One size), `shoe-size` (XS..XXXL and 0..60 in half sizes) and `accessory-size` (XXXS..6XL,
Short/Regular/Long, Standard, Compact, Travel size, One size). Only values that exist there are reported;
volumes, weights, counts and pack sizes ("16 oz", "2 Pack", "50 pcs") are not sizes in the taxonomy and
are never mapped. Each find is reported for every size attribute that has the value; the caller keeps the
ones the product's category allows.

What counts as a size (a bare "S", "Medium" or "10" is usually something else):
* shoe sizes with a width or sizing system: "8.5 M US", "10 D(M) US", "13 4E US", "41 EU", "EU38",
  "US Women's 9 M", "5-5.5 Narrow" (shoe-size only; a US size is preferred when several systems are given);
* a value next to the word size: "Size M", "size: 10", "X-Large Size", "S/M Size";
* letter sizes joined by slashes: "S/M", "L/XL", "X-Small/Small" (every member is reported);
* unambiguous names anywhere: "XL", "XXL", "2XL", "X-Large", "Extra Large", "One Size", "OSFA",
  "3-6 Months", "Travel Size";
* titles only: a list item of the title that is nothing but a size ("..., Navy, Medium", "(Adult Regular,
  White)", "Black 4pk, OSFA"), and a shoe title's trailing number ("Ballet Flat, Breton Stripe, 5").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from taxonomy import NEVER_FOUND, WHOLE_PHRASE_CONFIDENCE, Taxonomy
from taxonomy.text import normalize_phrase

SIZE_ATTRIBUTES = ("size", "shoe-size", "accessory-size")

# Taxonomy.match_value scores a whole-phrase match (name, derived form, synonym) at WHOLE_PHRASE_CONFIDENCE
# (0.95) or more; a value found inside a phrase of at most MAX_TOKENS tokens scores at most 0.875. So a score
# of at least WHOLE_PHRASE_CONFIDENCE means "the phrase is the value".
MAX_TOKENS = 4
# Confidence factor by the kind of evidence.
CONF_SHOE = 0.95
CONF_CONTEXT = 0.95
CONF_STRONG = 0.9
CONF_COMBO = 0.9
CONF_SEGMENT = 0.85
CONF_TRAILING = 0.7

_TOKEN = re.compile(r"\d+(?:\.\d+)?|[^\W\d_]+(?:['’][^\W\d_]+)?")
# What may sit between the tokens of one size phrase ("X-Large", "3-6 Months", "One Size").
_JOINER = re.compile(r"[ \-]*")
# List separators of a title: a size often stands alone between two of them.
_SEGMENT_BREAK = re.compile(r"\s+[-–—]\s+|[,;|()\[\]{}]|\s[-–—]|[-–—]\s|\s-(?=\w)")
_CODE = re.compile(r"(?i)^(?:x{1,3}s|x{1,3}l|[2-6]xl|osfa)$")  # letter codes that mean a size on their own
_MULTIPLIER = re.compile(r"(?i)^[1-9]x$")  # "2X" is XXL, but also "2X Concentrated": context only
_SIZE_WORD = {"size", "sizes", "sz", "sized"}
# Words around a size that do not change it ("Adult L/XL", "ONE SIZE US", "Medium Kids Ages 7-13").
_QUALIFIERS = {
    "adult", "adults", "kid", "kids", "kid's", "child", "children", "children's", "youth", "teen", "teens",
    "toddler", "toddlers", "infant", "baby", "women", "women's", "womens", "men", "men's", "mens", "unisex",
    "boys", "boy's", "girls", "girl's", "us", "eu", "uk", "size", "sz", "ages", "age",
}
_UNITS = {
    "oz", "ounce", "ounces", "fl", "floz", "ml", "l", "liter", "liters", "litre", "lb", "lbs", "pound", "pounds",
    "g", "gram", "grams", "kg", "mg", "mcg", "in", "inch", "inches", "cm", "mm", "m", "ft", "feet", "qt", "gal",
    "gallon", "gallons", "count", "ct", "pack", "pk", "pcs", "pc", "pieces", "piece", "loads", "capsules",
    "tablets", "x", "iu",
}
# Words before a title's trailing number that make it a count or a model number, not a size.
_NOT_BEFORE_TRAILING = {"of", "pack", "pk", "spf", "count", "ct", "no", "x", "set", "gen", "series", "version",
                        "v", "model", "qty", "size"}
_SHOE_WORDS = re.compile(
    r"(?i)\b(?:shoes?|sneakers?|boots?|booties?|sandals?|slippers?|loafers?|oxfords?|moccasins?|mocs?|pumps?|"
    r"heels?|flats?|clogs?|mules?|espadrilles?|wedges?|slip[- ]?ons?|trainers?|cleats?|flip[- ]?flops?|"
    r"mary janes?|wingtips?|brogues?|derbys?|huaraches?)\b")

# Shoe sizes. Widths: letters (M, D, 2E ...) in capitals, or the words Wide / Narrow.
_NUM = r"\d{1,2}(?:\.5|½)?"
_WIDTH = r"(?:[2-6]E|E{1,4}|AA|XW|WW|[ABCDMNW]|(?i:extra[- ]wide|wide|narrow))(?:\s?\([A-Z]{1,2}\))?"
_REGION = r"(?:US|UK|EU|EUR|AU)"
_GENDER = r"(?:(?i:women|men|boy|girl|ladies|kid)(?:['’]?s)?\s)"
_KIDS = r"(?:(?i:infant|toddler|little kid|big kid|youth)|YTH)"
_SHOE_AFTER = re.compile(  # "8.5 M US", "5-5.5 Narrow", "41 EU", "36 (5.5-6 Women's B US)"
    rf"(?<![\w.])(?P<a>{_NUM})(?:\s?-\s?(?P<b>{_NUM}))?\s?{_GENDER}?"
    rf"(?:(?P<w>{_WIDTH})(?:\s?(?P<r>{_REGION}))?|(?P<r2>{_REGION})(?:\s?(?P<w2>{_WIDTH}))?)"
    rf"(?P<k>\s{_KIDS})?(?![\w])")
_SHOE_BEFORE = re.compile(  # "EU38", "US Women's 9 M", "US 7.5"
    rf"(?<![\w])(?P<r>{_REGION})\s?{_GENDER}?(?P<a>{_NUM})(?:\s?-\s?(?P<b>{_NUM}))?(?:\s?(?P<w>{_WIDTH}))?(?![\w.])")
_NEXT_WORD = re.compile(r"\s*-?\s*([^\W_]+)")
_NOT_AFTER_SHOE = _UNITS | {"pin", "plug", "volt", "v", "w", "watt", "amp", "pcs", "dollar", "cent"}
_AFTER_WIDTH_ONLY = re.compile(r"\s*(?:$|[,;|)(\[\]/]|-\s)")


@dataclass(frozen=True)
class SizeFind:
    attribute: str  # taxonomy attribute handle
    value: str  # taxonomy value handle
    value_id: int
    name: str
    confidence: float
    start: int
    end: int
    text: str


@dataclass
class _Token:
    text: str
    start: int
    end: int
    segment: int


def _exact(taxonomy: Taxonomy, attribute: str, key: str) -> tuple[tuple[str, int, str, float], ...]:
    """The value of `attribute` that the normalized phrase `key` names as a whole (name, derived form, synonym)."""
    out = []
    for m in taxonomy.match_value(attribute, key)[:1]:
        if m.confidence >= WHOLE_PHRASE_CONFIDENCE and normalize_phrase(m.name) not in NEVER_FOUND:
            out.append((m.value_handle, m.value_id, m.name, m.confidence))
    return tuple(out)


@lru_cache(maxsize=65536)
def _lookup(taxonomy: Taxonomy, key: str, attributes: tuple[str, ...]) -> tuple[tuple[str, str, int, str, float], ...]:
    """(attribute, value handle, value id, name, confidence) for each size attribute with a value that the
    normalized phrase `key` names. A spelling known to one attribute only ("X-Small" is a synonym under
    `size`) carries over to the others through the value's name ("Extra small (XS)" is a value of all three)."""
    if not key or key.count(" ") >= MAX_TOKENS:
        return ()
    found = []
    for attribute in attributes:
        for vh, vid, name, conf in _exact(taxonomy, attribute, key):
            found.append((attribute, vh, vid, name, conf))
    names = {(name, conf) for _a, _vh, _vid, name, conf in found}
    for attribute in attributes:
        if any(f[0] == attribute for f in found):
            continue
        for name, conf in sorted(names):
            for vh, vid, vname, _c in _exact(taxonomy, attribute, normalize_phrase(name)):
                if vname == name:
                    found.append((attribute, vh, vid, vname, conf))
                    break
    return tuple(found)


@lru_cache(maxsize=65536)
def _norm(token: str) -> str:
    return normalize_phrase(token)


def _values(taxonomy: Taxonomy, phrase: str, attributes: tuple[str, ...] = SIZE_ATTRIBUTES
            ) -> list[tuple[str, str, int, str, float]]:
    return list(_lookup(taxonomy, normalize_phrase(phrase), attributes))


_NUMERAL = re.compile(r"[0-9½]")


def _number(text: str) -> float | None:
    text = text.replace("½", ".5")
    try:
        return float(text)
    except ValueError:
        return None


def _shoe_phrase(value: float) -> str | None:
    """A shoe size as the taxonomy writes it ("7.5", "10"): whole and half sizes only."""
    if value * 2 != int(value * 2):
        return None
    return str(int(value)) if value == int(value) else f"{value:.1f}"


class _Finder:
    def __init__(self, taxonomy: Taxonomy, text: str, title: bool) -> None:
        self.taxonomy = taxonomy
        self.text = text
        self.title = title
        self.taken = [False] * len(text)
        self.out: list[SizeFind] = []
        self.tokens = self._tokenize()

    # ------------------------------------------------------------ plumbing
    def _tokenize(self) -> list[_Token]:
        breaks = [m.start() for m in _SEGMENT_BREAK.finditer(self.text)]
        tokens, segment, b = [], 0, 0
        for m in _TOKEN.finditer(self.text):
            while b < len(breaks) and breaks[b] < m.start():
                segment += 1
                b += 1
            tokens.append(_Token(m.group(), m.start(), m.end(), segment))
        return tokens

    def _free(self, start: int, end: int) -> bool:
        return not any(self.taken[start:end])

    def _emit(self, start: int, end: int, values: list[tuple[str, str, int, str, float]], factor: float) -> None:
        for attribute, vh, vid, name, conf in values:
            self.out.append(SizeFind(attribute, vh, vid, name, round(conf * factor, 4), start, end,
                                     self.text[start:end]))
        if values:
            for i in range(start, end):
                self.taken[i] = True

    # ------------------------------------------------------------ shoe sizes
    def shoes(self) -> None:
        finds: list[tuple[int, int, list[float], bool, bool]] = []  # start, end, sizes, is_us, has_width
        for pattern in (_SHOE_AFTER, _SHOE_BEFORE):
            for m in pattern.finditer(self.text):
                region = m.groupdict().get("r") or m.groupdict().get("r2")
                width = m.groupdict().get("w") or m.groupdict().get("w2")
                if not region and not (m.groupdict().get("k") or _AFTER_WIDTH_ONLY.match(self.text, m.end())):
                    continue  # a width letter alone ("12 D") only at the end of a list item
                following = _NEXT_WORD.match(self.text, m.end())
                if not width and following and following.group(1).lower() in _NOT_AFTER_SHOE:
                    continue  # "UK 3 Pin Plug", "US 2 Pack"
                sizes = [v for v in (_number(m.group("a")), _number(m.group("b") or "")) if v is not None]
                if not region and not all(0 <= v <= 16 for v in sizes):
                    continue
                finds.append((m.start(), m.end(), sizes, region == "US", bool(width)))
        if any(is_us for *_, is_us, _w in finds):  # "6 UK/8 M US": the US size
            finds = [f for f in finds if f[3]]
        for start, end, sizes, _us, has_width in sorted(finds):
            if not self._free(start, end):
                continue
            # "7.5 US" alone may be a clothing size too; a width letter makes it a shoe size.
            attributes = ("shoe-size",) if has_width else ("shoe-size", "size")
            values = []
            for v in sizes:
                phrase = _shoe_phrase(v)
                if phrase is not None:
                    values.extend(x for x in _values(self.taxonomy, phrase, attributes) if x not in values)
            self._emit(start, end, values, CONF_SHOE)

    # ------------------------------------------------------------ size phrases
    def phrases(self) -> list[tuple[int, int, list[tuple[str, str, int, str, float]]]]:
        """Longest runs of tokens that name a size value, left to right: (first token, last token, values)."""
        found, i, toks = [], 0, self.tokens
        while i < len(toks):
            for j in range(min(len(toks), i + MAX_TOKENS) - 1, i - 1, -1):
                if any(not _JOINER.fullmatch(self.text[toks[k].end:toks[k + 1].start]) for k in range(i, j)):
                    continue
                key = " ".join(k for k in (_norm(t.text) for t in toks[i:j + 1]) if k)
                values = list(_lookup(self.taxonomy, key, SIZE_ATTRIBUTES))
                if values:
                    found.append((i, j, values))
                    i = j
                    break
            i += 1
        return found

    def _raw(self, i: int, j: int) -> str:
        return self.text[self.tokens[i].start:self.tokens[j].end]

    def _is_number(self, i: int, j: int) -> bool:
        return all(_number(t.text) is not None for t in self.tokens[i:j + 1])

    def _context(self, i: int, j: int) -> bool:
        """The word size right before or after ("Size: M", "X-Large Size"); a number not followed by a unit."""
        toks = self.tokens
        before = i > 0 and toks[i - 1].text.lower() in _SIZE_WORD and \
            re.fullmatch(r"[\s:#\-]*", self.text[toks[i - 1].end:toks[i].start]) is not None
        after = j + 1 < len(toks) and toks[j + 1].text.lower() in _SIZE_WORD and \
            re.fullmatch(r"[\s\-/]*", self.text[toks[j].end:toks[j + 1].start]) is not None
        if self._is_number(i, j):
            unit = j + 1 < len(toks) and toks[j + 1].text.lower().rstrip(".") in _UNITS
            attached = toks[j].end < len(self.text) and self.text[toks[j].end] in "\"'%”″"
            return before and not unit and not attached
        return before or after

    def _plain_letter(self, i: int, j: int) -> bool:
        """A lone letter, "OS" or "2X": a size only where the text says so."""
        raw = self._raw(i, j)
        return len(raw) == 1 or raw.lower() == "os" or _MULTIPLIER.match(raw) is not None

    def words(self) -> None:
        found = [(i, j, v) for i, j, v in self.phrases()
                 if self._free(self.tokens[i].start, self.tokens[j].end)]
        accepted: dict[int, tuple[int, int, list, float]] = {}
        # Slash combos: "S/M", "L/XL", "X-Small/Small", "M/L/XL".
        for n in range(len(found)):
            chain = [n]
            while chain[-1] + 1 < len(found):
                a, b = found[chain[-1]], found[chain[-1] + 1]
                if b[0] != a[1] + 1 or not re.fullmatch(r"\s*/\s*", self.text[self.tokens[a[1]].end:
                                                                            self.tokens[b[0]].start]):
                    break
                chain.append(chain[-1] + 1)
            if len(chain) > 1 and not any(self._is_number(found[c][0], found[c][1]) for c in chain):
                for c in chain:
                    accepted.setdefault(c, (*found[c], CONF_COMBO))
        for n, (i, j, values) in enumerate(found):
            if n in accepted:
                continue
            raw = self._raw(i, j)
            number = self._is_number(i, j)
            if self._context(i, j):
                accepted[n] = (i, j, values, CONF_CONTEXT)
            elif number:
                continue  # "10" alone is a count, a model or a shoe size (see shoes() and trailing())
            elif self._plain_letter(i, j):
                if self.title and raw.isupper() and self._alone_in_segment(i, j):
                    accepted[n] = (i, j, values, CONF_SEGMENT)  # "Adult Regular, M", "(OS)"
            elif (i != j or _CODE.match(raw)) and not self._model_number_follows(j):
                accepted[n] = (i, j, values, CONF_STRONG)  # "X-Large", "One Size", "3-6 Months", "XL"
            elif self.title and self._alone_in_segment(i, j):
                accepted[n] = (i, j, values, CONF_SEGMENT)  # "..., Medium, Navy"
        for i, j, values, factor in accepted.values():
            self._emit(self.tokens[i].start, self.tokens[j].end, values, factor)

    def _model_number_follows(self, j: int) -> bool:
        """"Pelotas XL 18304": a code followed by a number is a model name."""
        nxt = self.tokens[j + 1] if j + 1 < len(self.tokens) else None
        return nxt is not None and nxt.text.isdigit() and re.fullmatch(r"[ \-]*", self.text[self.tokens[j].end:
                                                                                             nxt.start]) is not None

    def _alone_in_segment(self, i: int, j: int) -> bool:
        """Nothing but the size (and words such as "Adult", "Size", "Kids Ages 7-13") in its list item."""
        seg = self.tokens[i].segment
        others = [t for k, t in enumerate(self.tokens) if t.segment == seg and not i <= k <= j]
        rest = [t for t in others if t.text.lower() not in _QUALIFIERS]
        # "Ages 7-13": numbers right after "age(s)" qualify too.
        ages = {k for k, t in enumerate(self.tokens) if t.segment == seg and t.text.lower() in ("age", "ages")}
        return not [t for t in rest if not (_number(t.text) is not None and any(
            self.tokens[a].end <= t.start for a in ages))]

    # ------------------------------------------------------------ trailing shoe size
    def trailing(self) -> None:
        """A shoe title's last token, when it is a half or whole number up to 16: "..., Black, 7.5"."""
        if not self.tokens or not _SHOE_WORDS.search(self.text):
            return
        last = self.tokens[-1]
        if self.text[last.end:].strip(" .") or not self._free(last.start, last.end):
            return
        value = _number(last.text)
        if value is None or not 0 < value <= 16 or _shoe_phrase(value) is None:
            return
        before = self.tokens[-2] if len(self.tokens) > 1 else None
        if before is None or before.text.lower() in _NOT_BEFORE_TRAILING or _number(before.text) is not None:
            return
        gap = self.text[before.end:last.start]
        if not re.fullmatch(r"\s*,?\s*", gap) or not gap:
            return  # "Skytop-2", "No.5"
        if "," not in gap and not self._color_before(last):
            return  # "Supra Skytop 2": a model number unless a colour precedes it ("Black Patent 8")
        self._emit(last.start, last.end, _values(self.taxonomy, _shoe_phrase(value) or "", ("shoe-size",)),
                   CONF_TRAILING)

    def _color_before(self, last: _Token) -> bool:
        seg_tokens = [t for t in self.tokens[:-1] if t.segment == last.segment]
        if not seg_tokens:
            return False
        tail = self.text[seg_tokens[max(0, len(seg_tokens) - 4)].start:last.start]
        return any(f.attribute_handle == "color" for f in self.taxonomy.find_values(tail, ["color"]))


@lru_cache(maxsize=8192)  # asked three times a product in a batch: its vector text, its extraction, the sync
def names_a_shoe_size(taxonomy: Taxonomy, title: str) -> bool:
    """Whether a title gives a shoe size with its width ("8.5 M US", "12 D", "5-5.5 Narrow"): only footwear
    is sold by those, so the title is a shoe's whatever else its words suggest. A number that may also be a
    clothing size ("7.5 US", "EU38": European clothing sizes run 32-48 too) or a letter size ("Size M") is
    no proof."""
    if not _NUMERAL.search(title):  # a shoe size is a number: most titles need no size search (2 ms each)
        return False
    finds = find_sizes(taxonomy, title)
    clothing = {(f.start, f.end) for f in finds if f.attribute != "shoe-size"}
    return any(f.attribute == "shoe-size" and f.name[:1].isdigit() and re.search(r"[A-Za-z]", f.text)
               and (f.start, f.end) not in clothing for f in finds)


def find_sizes(taxonomy: Taxonomy, text: str, title: bool = True) -> list[SizeFind]:
    """Size values named in `text`, in text order. `title=False` (descriptions, tags) keeps only the forms
    that say "size" on their own: shoe sizes, "size M", slash combos and unambiguous names."""
    if not text or not text.strip():
        return []
    finder = _Finder(taxonomy, text, title)
    finder.shoes()
    finder.words()
    if title:
        finder.trailing()
    return sorted(finder.out, key=lambda f: (f.start, SIZE_ATTRIBUTES.index(f.attribute)))
