"""A product's photos for a browser: `GET /v1/stores/{store}/products/{product_id}/images/{n}`.

A product's images are references a browser cannot load (a local path, or a merchant's URL). This streams
the product's n-th image: a local file only when it is one of that product's own images (the path comes
from the stored product, never from the request) and its bytes are a JPEG, PNG, WebP or GIF; a URL from
the photo cache in CATALOG_HOME/photos when the indexer fetched it, else a redirect to the URL itself (the
shopper's browser loads it, not this server). Anything else is a 404.

`image_url(store, product_id, ref)` is the link search results carry: it holds a short hash of the
reference, so a URL names one photo and can be cached for a day; when the product's photos change, the
results link a new URL. `?size=thumbnail` (`thumbnail_url`) serves a WebP of at most 480 x 480 made once
from a local or cached photo (`indexer.photos.thumbnails`), for result cards; a photo only the merchant's
URL holds is redirected to as it is.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path as FsPath
from stat import S_ISREG
from typing import Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, RedirectResponse, Response

from extractor.images import MAX_BYTES, ImageError
from indexer.importers.common import is_url
from indexer.photos import thumbnails
from indexer.photos.cache import PhotoCache
from search_api.auth import require_search
from search_api.deps import RuntimeDep, SettingsDep, StoreName, require_catalog_store
from search_api.errors import ApiError

router = APIRouter(prefix="/v1/stores/{store}/products/{product_id}/images", tags=["products"])

MAX_IMAGES = 50  # as many as a product may have (ProductUpsert.images)
CACHE_VERSIONED = "public, max-age=86400"  # ?v= names this very photo
CACHE_UNVERSIONED = "public, max-age=300"  # the product's n-th photo may change


def ref_version(ref: str) -> str:
    return hashlib.sha256(ref.encode()).hexdigest()[:12]


def image_url(store: str, product_id: str, ref: str | None, n: int = 0, *,
              thumbnail: bool = False) -> str | None:
    if not ref:
        return None
    size = "&size=thumbnail" if thumbnail else ""
    return f"/v1/stores/{store}/products/{quote(product_id, safe='')}/images/{n}?v={ref_version(ref)}{size}"


def sniff_image_type(head: bytes) -> str | None:
    """The content type of an image from its first bytes; None when it is not a web image format."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    return None


def _readable_image(path: FsPath) -> tuple[str, os.stat_result] | None:
    """(content type, stat) of a local image file; None when it is no regular image file within the cap."""
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode) or stat.st_size > MAX_BYTES:
            return None
        with path.open("rb") as handle:
            kind = sniff_image_type(handle.read(16))
    except OSError:
        return None
    return (kind, stat) if kind else None


def _not_found(store: str, product_id: str, n: int, why: str) -> ApiError:
    return ApiError(404, "image_not_found", f"no image {n} of product {product_id!r} in store {store!r}: {why}")


def _locate(runtime, settings, store: str, product_id: str, n: int):
    """(the image's reference, the file to stream or None to redirect, (its content type, stat))."""
    require_catalog_store(runtime, store)
    product = runtime.catalog.get_product(store, product_id)
    if product is None:
        raise _not_found(store, product_id, n, "unknown product")
    images = [ref for ref in product.images if isinstance(ref, str)]
    if n >= len(images):
        raise _not_found(store, product_id, n, f"the product has {len(images)} image(s)")
    ref = images[n]
    if is_url(ref):
        cache = PhotoCache.in_home(settings.catalog_home)
        entry = cache.get(ref)
        if entry is not None:
            blob = cache.blob_path(entry.blob)
            found = _readable_image(blob)
            if found:
                return ref, blob, found
        return ref, None, None
    path = FsPath(ref)
    found = _readable_image(path) if path.is_absolute() else None
    if found is None:
        raise _not_found(store, product_id, n, "the file is missing or is not an image")
    return ref, path, found


@router.get("/{n}", response_model=None, responses={200: {"content": {"image/*": {}}}, 302: {}, 404: {}},
            dependencies=[Depends(require_search)])
async def product_image(request: Request, runtime: RuntimeDep, settings: SettingsDep,
                        store: str = StoreName,
                        product_id: str = Path(min_length=1, max_length=255),
                        n: int = Path(ge=0, lt=MAX_IMAGES),
                        v: str | None = Query(default=None, max_length=64),
                        size: Literal["original", "thumbnail"] = "original") -> Response:
    ref, path, found = await run_in_threadpool(_locate, runtime, settings, store, product_id, n)
    cache = CACHE_VERSIONED if v is not None and v == ref_version(ref) else CACHE_UNVERSIONED
    if path is None:
        return RedirectResponse(ref, status_code=302, headers={"Cache-Control": CACHE_UNVERSIONED})
    kind, stat = found
    if size == "thumbnail":
        try:
            path = await run_in_threadpool(thumbnails.thumbnail, settings.catalog_home, path, stat)
            kind, stat = "image/webp", path.stat()
        except (ImageError, OSError):
            pass  # a file that sniffs as an image but does not decode: the original, as it would have been
    response = FileResponse(path, media_type=kind, stat_result=stat,
                            headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"})
    etag = response.headers.get("etag")
    if etag and etag in [tag.strip() for tag in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache})
    return response
