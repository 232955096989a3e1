"""What the local extractor loads on its first listing, as named steps a server runs at start-up.

Each model is loaded and run once on a synthetic photo (torch and onnxruntime pick and build their kernels on
the first inference of a shape), then one whole extraction runs, which touches what is left: the thread
pools, the data tables (colour names, synonyms, priors), the JPEG decoder.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache

from PIL import Image, ImageDraw

from extractor.local.category import get_category_index
from extractor.local.extractor import LocalExtractor, decode_photo
from extractor.local.imagenet import get_model, set_torch_threads
from extractor.local.safety import get_nudity_model
from extractor.models import ProductInput

SAMPLE_TITLE = "Men's cotton crew neck t-shirt, navy blue, size M"


@lru_cache(maxsize=1)
def sample_photo() -> bytes:
    """A JPEG of a navy garment-like shape on white, about the size of a listing photo."""
    image = Image.new("RGB", (600, 800), (255, 255, 255))
    ImageDraw.Draw(image).polygon([(150, 120), (450, 120), (560, 300), (470, 340), (470, 720), (130, 720),
                                   (130, 340), (40, 300)], fill=(30, 40, 90))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


@lru_cache(maxsize=1)
def sample_image() -> Image.Image:
    """The sample photo as the models receive it."""
    return decode_photo(sample_photo())[0]


def warm_up_steps(extractor: Callable[[], LocalExtractor]) -> list[tuple[str, Callable[[], object]]]:
    """(name, work) pairs, in the order to run them; `extractor` gives the extractor they warm."""
    def category_index() -> None:
        get_category_index(extractor().taxonomy, extractor().models_dir)

    def image_classifier() -> None:
        set_torch_threads()
        get_model().run([sample_image()])

    def nudity_detector() -> None:
        if extractor().safety:
            get_nudity_model().scores([sample_image()], gate=False)  # past the skin gate: the model runs

    def listing_extraction() -> None:
        extractor().extract([ProductInput(title=SAMPLE_TITLE, images=[sample_photo()])])

    return [("category index", category_index), ("image classifier", image_classifier),
            ("nudity detector", nudity_detector), ("listing extraction", listing_extraction)]
