from __future__ import annotations

import time

from fastapi import APIRouter, Depends, File, Form, Path, UploadFile
from pydantic import BaseModel

from extractor.images import MAX_BYTES, ImageError, decode_image
from extractor.models import CategoryGuess, ProductInput
from indexer.runtime import extractor_for_store
from search_api.auth import require_suggest
from search_api.deps import RuntimeDep, require_catalog_store
from search_api.errors import ApiError
from search_api.limits import SuggestSlot

router = APIRouter(prefix="/v1/stores/{store}/suggest", tags=["suggest"])

MAX_IMAGES = 8
MAX_PIXELS = 40_000_000
DRAFT = (448, 448)  # validation decodes JPEGs at reduced scale: still catches truncation, much faster


class SuggestCategory(CategoryGuess):
    alternatives: list[CategoryGuess]


class SuggestValue(BaseModel):
    id: int
    handle: str
    name: str
    confidence: float
    # A store head's answer (after `catalog train`): how precise that head's answers were on the store's
    # held-out products, e.g. 0.85 ("~85% sure"); None for the general rules' suggestions.
    precision: float | None = None


class SuggestAttribute(BaseModel):
    handle: str
    name: str
    values: list[SuggestValue]


class SuggestSafety(BaseModel):
    flagged: bool
    reasons: list[str]


class SuggestResponse(BaseModel):
    category: SuggestCategory | None
    attributes: list[SuggestAttribute]
    description: str
    safety: SuggestSafety
    image_notes: list[dict]
    errors: list[str]
    timings_ms: dict[str, float]
    # Which extractor suggested this: merchant feedback on it is recorded with them (POST .../feedback).
    extractor: str = ""
    extractor_version: str = ""


def _invalid_image(message: str, reason: str) -> ApiError:
    if reason.startswith(("unsupported image format", "not an image", "served as")):
        return ApiError(415, "unsupported_image", message)
    return ApiError(422, "invalid_image", message)


def _check_count(files: list[UploadFile], urls: list[str]) -> None:
    if not files and not urls:
        raise ApiError(422, "invalid_request", "send at least one image in the `images` or `image_urls` field")
    if len(files) + len(urls) > MAX_IMAGES:
        raise ApiError(422, "too_many_images", f"{len(files) + len(urls)} images sent (files and URLs together); "
                                               f"at most {MAX_IMAGES}")


def _read_images(files: list[UploadFile]) -> list[bytes]:
    images = []
    for position, upload in enumerate(files):
        data = upload.file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise ApiError(413, "image_too_large", f"image {position} ({upload.filename}) is over {MAX_BYTES} bytes")
        try:
            decode_image(data, max_pixels=MAX_PIXELS, draft_size=DRAFT)
        except ImageError as exc:
            raise _invalid_image(f"image {position} ({upload.filename}): {exc}", str(exc)) from exc
        images.append(data)
    return images


# A URL that could not be fetched, by what went wrong: (status, error code); not_image as for an upload.
URL_ERRORS: dict[str, tuple[int, str]] = {
    "refused": (422, "image_url_refused"), "too_large": (413, "image_too_large"),
    "http_error": (422, "image_url_unavailable"), "unreachable": (422, "image_url_unavailable"),
}


def _fetch_images(settings, urls: list[str]) -> list[bytes]:
    """The photos at `urls`, fetched under the indexer's rules (SSRF guard, caps, sniffing, the photo cache
    in CATALOG_HOME); the first one that cannot be had is a 4xx naming it and why."""
    from indexer.photos.fetch import PhotoFetcher

    urls = [url.strip() for url in urls]
    results = PhotoFetcher.from_settings(settings).fetch_all(urls)
    images = []
    for position, url in enumerate(urls):
        result = results[url]
        if not result.ok:
            message = f"image_urls[{position}] ({url[:300]}): {result.error}"
            if result.kind == "not_image":
                raise _invalid_image(message, result.error or "")
            raise ApiError(*URL_ERRORS[result.kind or "unreachable"], message)
        images.append(result.path.read_bytes())
    return images


@router.post("", response_model=SuggestResponse, dependencies=[Depends(require_suggest)])
def suggest(_slot: SuggestSlot, runtime: RuntimeDep, store: str = Path(max_length=64),
            images: list[UploadFile] = File(default=[]),
            image_urls: list[str] = Form(default=[]),
            title: str = Form(default="", max_length=1000),
            description: str = Form(default="", max_length=20_000)) -> SuggestResponse:
    """Category and attribute suggestions for a listing being written; nothing is stored (but photos given
    by URL stay in the photo cache). Photos are the uploaded files, then the URLs, in order."""
    from indexer.tasks.metrics import EXTRACTION_SECONDS

    require_catalog_store(runtime, store)
    started = time.perf_counter()
    _check_count(images, image_urls)
    data = _read_images(images) + (_fetch_images(runtime.settings, image_urls) if image_urls else [])
    validated = time.perf_counter()
    # The listing is written for this store: its trained heads name colours and categories its way.
    extractor = extractor_for_store(runtime.settings, runtime.extractor, store)
    extraction = extractor.extract([ProductInput(title=title, description=description, images=data)])[0]
    finished = time.perf_counter()
    EXTRACTION_SECONDS.labels("suggest").observe(finished - validated)
    category = None
    if extraction.category is not None:
        category = SuggestCategory(**extraction.category.model_dump(), alternatives=extraction.alternatives)
    attributes = [SuggestAttribute(handle=a.handle, name=a.name,
                                   values=[SuggestValue(id=v.value_id, handle=v.value, name=v.name,
                                                        confidence=v.confidence, precision=v.precision)
                                           for v in a.values])
                  for a in extraction.attributes]
    timings = {**extraction.timings_ms, "validate": round((validated - started) * 1000, 2),
               "total": round((finished - started) * 1000, 2)}
    return SuggestResponse(category=category, attributes=attributes, description=extraction.description,
                           safety=SuggestSafety(flagged=extraction.safety.flagged, reasons=extraction.safety.reasons),
                           image_notes=[n.model_dump() for n in extraction.image_notes], errors=extraction.errors,
                           timings_ms=timings, extractor=extraction.extractor,
                           extractor_version=extraction.extractor_version)
