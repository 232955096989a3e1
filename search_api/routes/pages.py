"""The web pages: static HTML + JavaScript modules + CSS from search_api/static, served by this same app.

`/` is the storefront search, `/sell` the listing assistant, `/review` the review queue (each takes
`?store=S`). The pages are clients of the HTTP API; nothing here knows about products.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles

from search_api.errors import ApiError

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PAGES = {"/": "index.html", "/sell": "sell.html", "/review": "review.html"}
# A page is small and changes with a release: the browser revalidates it (ETag) on every visit.
PAGE_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
                # Scripts only from this origin (no inline script, no CDN); photos may redirect to a merchant's host.
                "Content-Security-Policy": "default-src 'self'; img-src 'self' https: http: data: blob:; "
                                           "style-src 'self' 'unsafe-inline'; object-src 'none'; "
                                           "base-uri 'none'; frame-ancestors 'none'"}

router = APIRouter(tags=["pages"], include_in_schema=False)


def _page(name: str):
    def serve() -> FileResponse:
        path = STATIC_DIR / name
        if not path.is_file():
            raise ApiError(404, "not_found", f"page {name} is not installed")
        return FileResponse(path, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    serve.__name__ = f"page_{name.split('.')[0]}"
    return serve


for _route, _file in PAGES.items():
    router.add_api_route(_route, _page(_file), methods=["GET", "HEAD"])

# The tab icon, so a browser's automatic /favicon.ico request is no 404 in the console.
FAVICON = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" '
           b'fill="#1f5fbf"/><circle cx="14" cy="14" r="7" fill="none" stroke="#fff" stroke-width="3"/>'
           b'<path d="M19 19l7 7" stroke="#fff" stroke-width="3" stroke-linecap="round"/></svg>')


@router.get("/favicon.ico")
def favicon() -> Response:
    return Response(FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


class _Static(StaticFiles):
    """Static files revalidated on each load (ETag / Last-Modified answer 304), never sniffed."""

    async def get_response(self, path, scope):
        response = await super().get_response(path, scope)
        response.headers.setdefault("Cache-Control", "no-cache")
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", _Static(directory=STATIC_DIR, check_dir=False), name="static")
