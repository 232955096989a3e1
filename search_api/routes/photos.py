"""Photo uploads: a browser's photo gets a path the indexer and extractor can read.

Each photo is checked as suggest checks it (byte cap, pixel cap read from the header, format sniffed from
the bytes, a full decode), then kept content-addressed under CATALOG_HOME/uploads/<store>/<sha256>.<ext>.
The returned `ref` goes into a product's `images`; the server chooses every path, a client names none.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path as FsPath

from fastapi import APIRouter, Depends, File, UploadFile
from PIL import Image
from pydantic import BaseModel

from extractor.images import MAX_BYTES, MAX_PIXELS, ImageError, decode_image
from indexer.photos.cache import write_atomic
from search_api.auth import require_suggest
from search_api.deps import RuntimeDep, StoreName, require_catalog_store
from search_api.errors import ApiError

router = APIRouter(prefix="/v1/stores/{store}/photos", tags=["photos"])

MAX_PHOTOS = 8  # per request, as suggest
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoPublic(BaseModel):
    ref: str  # put it in ProductUpsert.images
    sha256: str
    format: str
    width: int
    height: int
    bytes: int
    created: bool  # false: the same photo was uploaded before


class PhotosPublic(BaseModel):
    photos: list[PhotoPublic]


def uploads_dir(catalog_home: FsPath, store: str) -> FsPath:
    return catalog_home.resolve() / "uploads" / store


def _checked(position: int, upload: UploadFile) -> tuple[bytes, str, tuple[int, int]]:
    data = upload.file.read(MAX_BYTES + 1)
    name = upload.filename or "photo"
    if len(data) > MAX_BYTES:
        raise ApiError(413, "image_too_large", f"image {position} ({name}) is over {MAX_BYTES} bytes")
    try:
        decode_image(data, max_pixels=MAX_PIXELS)
    except ImageError as exc:
        reason = str(exc)
        if reason.startswith(("unsupported image format", "not an image")):
            raise ApiError(415, "unsupported_image", f"image {position} ({name}): {reason}") from exc
        raise ApiError(422, "invalid_image", f"image {position} ({name}): {reason}") from exc
    with Image.open(io.BytesIO(data)) as header:  # decoded fine above: its format is one we allow
        return data, header.format, header.size


def _keep(folder: FsPath, data: bytes, fmt: str) -> tuple[FsPath, bool]:
    """Write once, atomically: a reader never sees half a photo, two uploads of one photo write one file."""
    digest = hashlib.sha256(data).hexdigest()
    path = folder / f"{digest}.{EXTENSIONS[fmt]}"
    if path.exists():
        return path, False
    write_atomic(path, data)
    return path, True


@router.post("", status_code=201, response_model=PhotosPublic, dependencies=[Depends(require_suggest)])
def upload_photos(runtime: RuntimeDep, store: str = StoreName,
                  images: list[UploadFile] = File(default=[])) -> PhotosPublic:
    """Keep the photos (multipart `images`, one or more) for the store's products; all are checked before
    any is kept, so a bad one changes nothing."""
    require_catalog_store(runtime, store)
    if not images:
        raise ApiError(422, "invalid_request", "send at least one photo in the `images` field")
    if len(images) > MAX_PHOTOS:
        raise ApiError(422, "too_many_images", f"{len(images)} photos sent; at most {MAX_PHOTOS} per request")
    checked = [_checked(position, upload) for position, upload in enumerate(images)]
    folder = uploads_dir(runtime.settings.catalog_home, store)
    photos = []
    for data, fmt, (width, height) in checked:
        path, created = _keep(folder, data, fmt)
        photos.append(PhotoPublic(ref=str(path), sha256=path.stem, format=fmt, width=width, height=height,
                                  bytes=len(data), created=created))
    return PhotosPublic(photos=photos)
