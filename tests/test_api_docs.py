"""The JSON API's docs page works offline: the real app (`python app.py`) serves /docs and every asset it
loads, and headless Debian Chromium with every other host cut off renders Swagger UI with the routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from tests.conftest import require, require_chromium

pytestmark = [pytest.mark.integration, pytest.mark.slow]

httpx = require("httpx")  # a missing install fails, never skips

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the browser test then fails at setup with the install command (see `require`), no skip
    expect = sync_playwright = None

INTERNALS = re.compile(r"Traceback|File \"|site-packages|fastapi_offline|/work/|/usr/|\.py\b")
EXPECTED_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


class _Assets(HTMLParser):
    """The URLs a page's script and link tags load."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest.fixture(scope="module")
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=120) as client:
        yield client


def _assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def test_docs_page_loads_nothing_from_another_host(api, app_url: str) -> None:
    page = api.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = _assets(page.text)
    assert len(urls) == 3, urls  # swagger-ui's script and stylesheet, and the favicon
    app_host = urlsplit(app_url).netloc
    for url in urls:
        assert urlsplit(urljoin(app_url, url)).netloc == app_host, url
    # nothing else on the page names another host either (e.g. a CDN in an inline script)
    assert not re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}", page.text), page.text
    assert "'/openapi.json'" in page.text


def test_every_asset_of_the_docs_page_is_served_with_its_type(api) -> None:
    for url in _assets(api.get("/docs").text):
        got = api.get(url)
        suffix = url[url.rfind("."):]
        assert got.status_code == 200, url
        assert EXPECTED_TYPES[suffix] in got.headers["content-type"], (url, got.headers["content-type"])
        assert len(got.content) > 500, url
    assert "SwaggerUIBundle" in api.get("/docs/static/swagger-ui-bundle.js").text


@pytest.mark.parametrize("path", [
    "/docs/static/", "/docs/static", "/docs/static/nothing.js", "/docs/static/%2e%2e/__init__.py",
    "/docs/static/..%2f__init__.py", "/docs/static/%2e%2e/%2e%2e/fastapi/__init__.py", "/docs/static/../core.py",
    "/docs/static//etc/passwd",
])
def test_the_asset_folder_lists_nothing_and_serves_nothing_outside_it(api, path: str) -> None:
    got = api.get(path)
    assert got.status_code == 404, (path, got.status_code, got.text[:200])
    assert "SwaggerUIBundle" not in got.text and "def " not in got.text and "root:" not in got.text
    assert not INTERNALS.search(got.text), got.text[:300]


def test_redoc_is_off(api) -> None:
    got = api.get("/redoc")  # FastAPI's ReDoc page would load its script from a CDN: not served at all
    assert got.status_code == 404 and "redoc" not in got.text.lower()


@pytest.mark.browser
def test_docs_page_renders_offline_in_chromium(app_url: str) -> None:
    from eval.app_server import launch_browser

    require("playwright.sync_api")
    require_chromium()
    assert sync_playwright is not None
    app_host = urlsplit(app_url).hostname
    elsewhere: list[str] = []

    def offline(route) -> None:  # as on a machine without internet: only the app answers
        if urlsplit(route.request.url).hostname == app_host:
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as p:
        browser = launch_browser(p)
        try:
            page = browser.new_page()
            page.route("**/*", offline)
            failed: list[str] = []
            page.on("requestfailed", lambda r: failed.append(r.url))
            page.goto(urljoin(app_url, "docs"))
            search = page.locator(".opblock-summary-path[data-path='/api/search']")
            expect(search.first).to_be_visible(timeout=30_000)
            expect(search).to_have_count(2)  # GET and POST
            expect(page.locator(".info .title")).to_contain_text("Regulation search API")
            assert "Unable to render" not in page.locator("body").inner_text()
            # the stylesheet applied: Swagger UI's GET badge is styled, not plain text
            assert page.locator(".opblock-get .opblock-summary-method").first.evaluate(
                "e => getComputedStyle(e).backgroundColor") not in ("rgba(0, 0, 0, 0)", "transparent")
            page.locator(".opblock-get .opblock-summary-path[data-path='/api/search']").click()
            names = page.locator(".opblock-get .parameter__name")
            expect(names.first).to_be_visible()
            shown = [re.sub(r"[\s*]", "", n) for n in names.all_inner_texts()]
            assert shown == ["q", "k", "mode", "regulation", "history", "level", "region", "as_of",
                             "all_versions"], shown
        finally:
            browser.close()
    assert elsewhere == [], f"the docs page tried to reach other hosts: {elsewhere}"
    assert failed == [], f"requests to the app failed: {failed}"
