"""The server as a page on another site sees it: the app binds 127.0.0.1 only, but the person's browser on the same
machine can reach it. The real app (`python app.py`) over HTTP: other sites' writes, DNS rebinding, CORS, uploads,
security headers, and requests too long for uvicorn to parse."""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.test_http_api import _error

pytestmark = [pytest.mark.integration, pytest.mark.slow]

EVIL = "http://evil.example"
VOTE = {"question": "企业要不要配专门管质量的人？", "article_id": None, "vote": "down"}
SECURITY = {"x-frame-options": "SAMEORIGIN", "x-content-type-options": "nosniff"}


@pytest.fixture(scope="module")
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=120) as client:
        yield client


def _own(app_url: str) -> str:
    return app_url.rstrip("/")


def _votes(directory: Path) -> list[dict]:
    path = directory / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


# -- 1. other sites' pages cannot write --------------------------------------------------------------------------
def test_a_page_on_another_site_cannot_post_a_vote(api, app_url: str, app_feedback_dir: Path) -> None:
    before = len(_votes(app_feedback_dir))
    body = json.dumps(VOTE)
    # What a form or a fetch without preflight can send from any page: text/plain, with the page's origin.
    r = api.post("/api/feedback", content=body, headers={"Content-Type": "text/plain", "Origin": EVIL})
    assert "another site" in _error(r, 403)
    r = api.post("/api/feedback", content=body, headers={"Content-Type": "application/json", "Origin": EVIL})
    _error(r, 403)
    r = api.post("/api/feedback", content=body, headers={"Content-Type": "application/json", "Origin": "null"})
    _error(r, 403)  # a sandboxed frame or a file: page
    r = api.post("/api/feedback", content=body,  # no Origin (an old browser), but another site's page as Referer
                 headers={"Content-Type": "application/json", "Referer": f"{EVIL}/page.html"})
    _error(r, 403)
    r = api.post("/api/search", content=json.dumps({"q": "质量"}),
                 headers={"Content-Type": "text/plain", "Origin": EVIL})
    _error(r, 403)
    r = api.post("/gradio_api/call/search", content=json.dumps({"data": ["质量"]}),
                 headers={"Content-Type": "text/plain", "Origin": EVIL})
    _error(r, 403)  # the page's own routes too
    assert len(_votes(app_feedback_dir)) == before  # nothing written


def test_the_page_s_own_origin_may_post(api, app_url: str, app_feedback_dir: Path) -> None:
    before = len(_votes(app_feedback_dir))
    own = _own(app_url)
    r = api.post("/api/feedback", json=VOTE, headers={"Origin": own, "Referer": f"{own}/?q=x"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert len(_votes(app_feedback_dir)) == before + 1
    r = api.post("/api/search", json={"q": "湖北条例第二十三条", "k": 1}, headers={"Origin": own})
    assert r.status_code == 200
    # A link from another site to the page (a navigation: GET, Referer but no Origin) still opens it.
    assert api.get("/", params={"q": "质量"}, headers={"Referer": f"{EVIL}/links.html"}).status_code == 200


# -- 2. DNS rebinding --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/", "/api/health", "/api/search?q=质量", "/gradio_api/info", "/docs"])
def test_a_host_name_the_server_does_not_answer_is_refused(api, path: str) -> None:
    for host in ("evil.example", "evil.example:7860", "127.0.0.1.evil.example", "localhost.evil.example:80"):
        assert "host" in _error(api.get(path, headers={"Host": host}), 403)


def test_loopback_names_with_or_without_the_port_are_answered(api, app_url: str) -> None:
    port = httpx.URL(app_url).port
    for host in ("127.0.0.1", f"127.0.0.1:{port}", "localhost", f"LOCALHOST:{port}", "[::1]", f"[::1]:{port}"):
        r = api.get("/api/health", headers={"Host": host})
        assert r.status_code == 200, (host, r.text)
    assert api.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200


# -- 3. CORS -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("origin", ["http://localhost:3000", "http://127.0.0.1:8080", EVIL, "null"])
def test_no_other_origin_is_allowed_to_read(api, origin: str) -> None:
    for path in ("/gradio_api/info", "/config", "/api/search?q=质量", "/api/health"):
        r = api.get(path, headers={"Origin": origin})
        _error(r, 403)
        assert "access-control-allow-origin" not in r.headers
        assert "access-control-allow-credentials" not in r.headers
        preflight = api.options(path, headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                                               "Access-Control-Request-Headers": "content-type"})
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-credentials" not in preflight.headers


def test_the_page_s_own_origin_reads_without_cors_headers(api, app_url: str) -> None:
    r = api.get("/gradio_api/info", headers={"Origin": _own(app_url)})
    assert r.status_code == 200 and "named_endpoints" in r.json()
    assert "access-control-allow-credentials" not in r.headers  # same origin: no CORS needed or granted


# -- 4. uploads --------------------------------------------------------------------------------------------------
def test_uploads_are_refused_and_nothing_is_stored(api, app_url: str) -> None:
    name = f"regqa-upload-{uuid.uuid4().hex}.txt"
    files = {"files": (name, b"x" * 1000, "text/plain")}
    for headers in ({}, {"Origin": _own(app_url)}):
        r = api.post("/gradio_api/upload", files=files, headers=headers)
        assert r.status_code in (403, 404), r.text
        _error(r, r.status_code)
    r = api.post("/gradio_api/upload?upload_id=abc", files=files)
    assert r.status_code in (403, 404)
    # Any other route that would parse files out of a multipart body: refused before it reads one.
    r = api.post("/gradio_api/component_server", files=files, data={"session_hash": "x", "component_id": "1",
                                                                    "fn_name": "x"})
    assert r.status_code in (403, 415), r.text
    temp = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    if temp.is_dir():
        assert not list(temp.rglob(name))


# -- 7. security headers -----------------------------------------------------------------------------------------
def test_every_response_carries_the_security_headers(api, app_url: str) -> None:
    page = api.get("/")
    assert page.status_code == 200
    responses = [page, api.get("/api/health"), api.get("/api/search", params={"q": "质量", "k": 1}),
                 api.get("/api/nothing"), api.get("/gradio_api/info"), api.get("/docs"), api.get("/openapi.json"),
                 api.get("/api/search", params={"q": "   "}), api.get("/", headers={"Host": "evil.example"}),
                 api.post("/api/feedback", content=b"{}", headers={"Content-Type": "text/plain"})]
    for r in responses:
        for name, value in SECURITY.items():
            assert r.headers.get(name) == value, (r.url, r.status_code, name)
        assert "frame-ancestors 'self'" in r.headers.get("content-security-policy", ""), r.url
        assert "script-src" not in r.headers.get("content-security-policy", "")  # the page keeps its scripts


# -- 8. errors as documented -------------------------------------------------------------------------------------
def _raw_get(app_url: str, target: str) -> httpx.Response:
    """A GET whatever its length (httpx itself refuses a URL past 64 KB; a browser or curl sends it)."""
    url = httpx.URL(app_url)
    conn = http.client.HTTPConnection(url.host, url.port, timeout=60)
    try:
        conn.request("GET", target)
        raw = conn.getresponse()
        return httpx.Response(raw.status, headers=raw.getheaders(), content=raw.read())
    finally:
        conn.close()


@pytest.mark.parametrize("question", ["a" * 100_000, "质" * 100_000, "质" * 20_000])
def test_a_very_long_get_query_gets_a_json_error(app_url: str, question: str) -> None:
    r = _raw_get(app_url, "/api/search?" + urllib.parse.urlencode({"q": question}))
    assert r.status_code in (413, 414)
    message = _error(r, r.status_code)
    assert "POST" in message or "问题太长" in message  # says what the limit is, or how to send it instead
    assert r.headers.get("x-content-type-options") == "nosniff"
    after = httpx.get(f"{app_url}api/search", params={"q": "湖北条例第二十三条", "k": 1}, timeout=60)
    assert after.status_code == 200  # the server goes on answering
