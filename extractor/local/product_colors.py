"""A product's colour and pattern values from all of its photos.

Each photo shows one colour of the product (a variant photo, or a view of one): its main colour is a colour
of the product, and the product's colours are the union over its photos, each with the confidence of the
photo that shows it best. A photo's minor colours (trim, a print, a liner) are not colours the product is
sold in, so they are left out: added over a dozen photos they would make every product "black" or "white".
A variant photo the merchant named the colour of gives the merchant's colour instead of a reading.

Colour variants of one garment share their design: a hoodie sold in Black, Gray and Orange may have gray
sleeves on every variant, and the colour that tells its variants apart (the one the merchant names) is the
one that changes. So among a product's variant photos, a colour that every one of them shows is the
garment's, and each variant photo's colour is its largest other colour (its main colour when it has none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from PIL import Image

from extractor.local.colors import ColorGuess, ColorReading, Region, read_colors
from extractor.local.text import ValueHit, merchant_value
from extractor.models import ProductInput
from taxonomy import Taxonomy

SOLID = "pattern__solid"
# A white garment in studio light reads white where it is lit and light gray where it is shaded: a photo whose
# only colours are those two, white covering at least this share, shows a white garment. (Checked on the
# development half of the bare catalog's products: 2 more colours found, 2 fewer wrong.)
WHITE_LIT_SHARE = 0.3
ColorNamer = Callable[[ColorReading], list[ColorGuess]]  # the rules' names, or a store colour head's


@dataclass(frozen=True)
class PhotoColors:
    image: int  # index into the product's images
    reading: ColorReading  # the rules' reading of the pixels
    named: tuple[ColorGuess, ...]  # the colour names it gets (the store's, with a store colour head)


def read_photos(photos: Iterable[tuple[int, Image.Image]], region: Region,
                namer: ColorNamer | None = None) -> list[PhotoColors]:
    """Every photo's colours, given (image index, image) pairs and where the garment sits in them."""
    out = []
    for index, image in photos:
        reading = read_colors(image, region)
        out.append(PhotoColors(index, reading, tuple(namer(reading) if namer else reading.guesses)))
    return out


def variant_colors(taxonomy: Taxonomy, product: ProductInput) -> dict[int, ValueHit]:
    """The merchant's colour of each variant photo whose options name one, by image index."""
    out: dict[int, ValueHit] = {}
    for photo in product.variant_photos:
        for name, raw in photo.options.items():
            hit = next((h for h in merchant_value(taxonomy, name, raw) if h.attribute == "color"), None)
            if hit is not None:
                out.setdefault(photo.image, hit)
                break
    return out


def _confidence(share: float) -> float:
    """A reading's confidence from the share of the garment's pixels it covers."""
    return round(0.5 + 0.45 * share, 4)


def shared_colors(photos: Sequence[PhotoColors]) -> frozenset[str]:
    """Colour handles every one of these photos shows (none for fewer than two photos)."""
    if len(photos) < 2:
        return frozenset()
    return frozenset.intersection(*(frozenset(g.handle for g in p.named) for p in photos))


def photo_color(photo: PhotoColors, shared: frozenset[str]) -> ColorGuess:
    """The colour a photo shows the product in: white for a lit and shaded white garment, else its largest
    colour outside `shared`, else its main one."""
    names = {g.name: g for g in photo.named}
    if names.keys() == {"White", "Gray"} and names["White"].share >= WHITE_LIT_SHARE:
        return names["White"]
    return next((g for g in photo.named if g.handle not in shared), photo.named[0])


def color_hits(taxonomy: Taxonomy, photos: Sequence[PhotoColors], merchant: dict[int, ValueHit],
               variant_images: frozenset[int] = frozenset()) -> list[ValueHit]:
    """Colour values: the merchant's colour of each named variant photo, the colour of every other photo
    (source "image"; see the module docstring for variant photos), one value per colour at its best
    confidence; and Solid when every photo is one colour."""
    best: dict[str, ValueHit] = {}
    read = [p for p in photos if p.image not in merchant and p.named]
    shared = shared_colors([p for p in read if p.image in variant_images])

    def keep(hit: ValueHit) -> None:
        current = best.get(hit.value)
        if current is None or (hit.source == "merchant", hit.confidence) > (current.source == "merchant",
                                                                           current.confidence):
            best[hit.value] = hit

    for index, hit in merchant.items():
        keep(replace(hit, image=index))
    for photo in read:
        main = photo_color(photo, shared if photo.image in variant_images else frozenset())
        try:
            value = taxonomy.value(main.handle)
        except KeyError:
            continue
        keep(ValueHit("color", value.handle, value.id, value.name, _confidence(main.share), "image",
                      image=photo.image))
    hits = list(best.values())
    # Solid as the pixels say: each photo one colour name (the rules', which see the whole garment).
    if photos and all(len(p.reading.guesses) == 1 for p in photos):
        solid = taxonomy.value(SOLID)
        share = min(p.reading.guesses[0].share for p in photos)
        hits.append(ValueHit("pattern", solid.handle, solid.id, solid.name, _confidence(share), "image"))
    return hits
