"""The indexer's side of remote photos: before a batch goes to the (offline) extractor, each http(s) image
of its products is swapped for the cached file; afterwards a photo that could not be fetched is recorded on
the extraction as an 'unreadable' image note with the reason, and in its errors.

Product.images keep the merchant's URLs (the store is the source of truth, and its content hash is what
staleness is judged on); only the extractor's input changes. An extraction that is missing a photo is
kept under a marked extractor version, so it is searchable at once and the next index tries the photo
again, while a search never triggers a fetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from extractor.images import REMOTE_UNREAD
from extractor.models import Extraction, ImageNote, ProductInput
from indexer.importers.common import is_url
from indexer.photos.fetch import Fetched, PhotoFetcher

# The extractor version suffix of an extraction missing a remote photo (see the module docstring).
PHOTOS_MISSING = "+photos-missing"


class Progress(Protocol):
    """A tqdm-like bar: its total grows as batches bring new URLs."""

    total: float | None

    def update(self, n: float = 1) -> object: ...

    def refresh(self) -> object: ...


@dataclass
class PhotoReport:
    fetched: int = 0
    cached: int = 0
    revalidated: int = 0
    stale: int = 0
    failed: int = 0

    def count(self, result: Fetched) -> None:
        setattr(self, result.outcome, getattr(self, result.outcome) + 1)

    def as_dict(self) -> dict[str, int]:
        return dict(vars(self))


def remote_images(images: Iterable[str | bytes]) -> list[str]:
    return [image for image in images if isinstance(image, str) and is_url(image)]


def prefetch_store(catalog, store: str, photos: PhotoResolver, batch: int = 1000) -> PhotoReport:
    """Fetch every remote photo of a store's products into the cache (`catalog import --prefetch-photos`),
    a batch of URLs at a time; the next index then finds them cached."""
    pending: list[str] = []
    for product in catalog.iter_products(store):
        pending += remote_images(product.images)
        if len(pending) >= batch:
            photos.fetch(pending)
            pending = []
    photos.fetch(pending)
    return photos.report


@dataclass
class PhotoResolver:
    """Resolves remote photos for one run (a `catalog index`, a task): each URL is fetched once per run,
    whichever batch names it."""

    fetcher: PhotoFetcher
    progress: Progress | None = None
    results: dict[str, Fetched] = field(default_factory=dict)
    report: PhotoReport = field(default_factory=PhotoReport)

    @classmethod
    def from_settings(cls, settings, progress: Progress | None = None) -> PhotoResolver:
        return cls(PhotoFetcher.from_settings(settings), progress)

    def fetch(self, urls: Iterable[str]) -> dict[str, Fetched]:
        """The results for these URLs, fetching the ones this run has not seen yet."""
        urls = list(dict.fromkeys(urls))
        new = [url for url in urls if url not in self.results]
        if new:
            if self.progress is not None:
                self.progress.total = (self.progress.total or 0) + len(new)
                self.progress.refresh()
            self.results.update(self.fetcher.fetch_all(new, self._done))
        return {url: self.results[url] for url in urls}

    def _done(self, result: Fetched) -> None:
        self.report.count(result)
        if self.progress is not None:
            self.progress.update(1)

    def localize(self, inputs: Sequence[ProductInput]) -> list[ProductInput]:
        """The inputs with each fetched URL replaced by its cached file; an unfetched URL stays, so the
        extractor reports that image as unreadable (see `record_failures`)."""
        self.fetch(url for item in inputs for url in remote_images(item.images))
        return [item.model_copy(update={"images": [self.local(image) for image in item.images]})
                if remote_images(item.images) else item for item in inputs]

    def local(self, image: str | bytes) -> str | bytes:
        """The cached file of a URL this run fetched; anything else as it is."""
        result = self.results.get(image) if isinstance(image, str) else None
        return str(result.path) if result is not None and result.ok else image

    def failures(self, images: Sequence[str | bytes]) -> dict[int, Fetched]:
        """Positions of this run's failed downloads among a product's images."""
        return {i: self.results[image] for i, image in enumerate(images)
                if isinstance(image, str) and image in self.results and not self.results[image].ok}


def record_failures(extraction: Extraction, failures: dict[int, Fetched]) -> Extraction:
    """The extraction with each failed download as an 'unreadable' note and an error naming the URL and
    the reason (replacing the extractor's generic "not available offline"), under the marked version."""
    if not failures:
        return extraction
    notes = [n for n in extraction.image_notes if n.image not in failures]
    notes += [ImageNote(image=i, issue="unreadable", detail=f"download failed: {f.error}"[:200])
              for i, f in sorted(failures.items())]
    errors = [e for e in extraction.errors if REMOTE_UNREAD not in e]
    errors += [f"image {i}: {f.url}: download failed: {f.error}" for i, f in sorted(failures.items())]
    version = extraction.extractor_version
    if not version.endswith(PHOTOS_MISSING):
        version += PHOTOS_MISSING
    return extraction.model_copy(update={"image_notes": sorted(notes, key=lambda n: n.image), "errors": errors,
                                         "extractor_version": version})
