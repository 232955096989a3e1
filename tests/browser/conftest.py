"""Browser test fixtures: a real `catalog serve` and headless Debian Chromium driven by Playwright.

- `served` (session): a `catalog serve` subprocess on a free 127.0.0.1 port, on its own CATALOG_HOME
  holding the bundled fixture catalog as store `demo`, imported, extracted and indexed. The home is a
  copy of the session's `demo_settings` home (built once per session, shared with the API tests), taken
  with the SQLite backup API and without the lock files, so the served process owns its own engines
  (DESIGN.md section 2) while `demo_runtime` may hold the original's. Waits for /readyz 200. As `make demo`
  leaves it, store `demo`'s search is public and `served.key` is a merchant key (scopes suggest, write);
  `served.headers` sends it. The server logs every request (uvicorn's access log, `served.log`): the session
  ends by checking that no key was ever in it.
- `browser` (session): Chromium from /usr/bin/chromium (never a downloaded browser), headless.
- `page` (per test): a fresh context (no cookies, storage or history) with `base_url` = the served URL,
  1440x900. The pages run under their real Content-Security-Policy (no eval), so wait with locators and
  `expect(...)`, not with `page.wait_for_function("...")` (a string predicate is an eval and is refused).
- `screenshot(page, name)`: saves var/screenshots/<name>-375.png and <name>-1440.png (full page).

Without Chromium or Playwright the tests skip, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.required import service_missing

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
READY_TIMEOUT_S = 240
# Settings the served process must not inherit from the developer's shell: it runs fully embedded.
SCRUBBED_ENV = ("DATABASE_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "CELERY_BROKER_URL", "REDIS_URL",
                "EXTRACTOR_URL", "QUERY_PARSER", "QUERY_PARSER_URL", "CATALOG_ADMIN_KEY")


@dataclass
class Served:
    url: str
    home: Path
    log: Path
    process: subprocess.Popen
    key: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def _demo_access(home: Path) -> str:
    """What `catalog demo` sets up: store demo public for search, and a merchant key, returned."""
    from indexer.settings import Settings
    from indexer.store import CatalogStore
    from tests.keys import store_key

    with CatalogStore.open(Settings(CATALOG_HOME=home, DATABASE_URL=None).sqlalchemy_url) as catalog:
        catalog.set_public_search("demo", True)
        return store_key(catalog, "demo", "suggest", "write")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _copy_home(source: Path, target: Path) -> None:
    """A consistent copy of a built CATALOG_HOME: the SQLite store by the backup API, the index files as
    they are, no lock files (each process takes its own)."""
    target.mkdir(parents=True, exist_ok=True)
    for entry in source.iterdir():
        if entry.name.endswith(".lock") or entry.name.startswith("catalog.db"):
            continue
        if entry.is_dir():
            shutil.copytree(entry, target / entry.name, ignore=shutil.ignore_patterns("*.lock"))
        else:
            shutil.copy2(entry, target / entry.name)
    with sqlite3.connect(source / "catalog.db") as src, sqlite3.connect(target / "catalog.db") as dst:
        src.backup(dst)


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"catalog serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"catalog serve not ready after {READY_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")


@pytest.fixture(scope="session")
def served(demo_settings, tmp_path_factory):
    home = tmp_path_factory.mktemp("served-home")
    _copy_home(Path(demo_settings.catalog_home), home)
    key = _demo_access(home)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    env.update(CATALOG_HOME=str(home), EXTRACTOR_BACKEND="local", PYTHONUNBUFFERED="1")
    log = home / "serve.log"
    catalog = Path(sys.executable).with_name("catalog")
    command = [str(catalog)] if catalog.exists() else [sys.executable, "-c", "from search_api.cli import main; main()"]
    with log.open("wb") as out:
        # cwd = the home: no developer .env file is read by the served settings.
        process = subprocess.Popen([*command, "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--log-level", "info"], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_ready(url, process, log)
        yield Served(url=url, home=home, log=log, process=process, key=key)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Every request was logged (the access log is on): not one line holds the key or its secret.
    logged = log.read_text(errors="replace")
    assert "GET /readyz" in logged and key.rsplit("_", 1)[1] not in logged, "a key reached the server's log"


# Per module, not per session: Playwright's sync API keeps an asyncio loop running on the main thread while it
# is open, and every later test that calls asyncio.run() would fail with "cannot be called from a running
# event loop".
@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        service_missing(f"Chromium not found at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        service_missing(f"Playwright for Python is not installed ({exc}); pip install -e '.[dev]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, served):
    context = browser.new_context(base_url=served.url, viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def screenshot():
    """screenshot(page, name): the page at 375 px and at 1440 px wide, full length, into var/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> list[Path]:
        before = page.viewport_size
        paths = []
        for width, height in ((375, 812), (1440, 900)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(150)  # a relayout, and lazy images entering the viewport start loading
            page.wait_for_load_state("networkidle")
            path = SCREENSHOTS / f"{name}-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
        if before:
            page.set_viewport_size(before)
        return paths

    return take
