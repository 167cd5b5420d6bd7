"""`POST /api/check` as programs use it: the real app, the real index, over HTTP; the same JSON as
`python -m retrieval check --json`, and errors as the other routes give them."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest

from retrieval.checker.check import MAX_DRAFT_CHARS
from retrieval.serving.http_api import MAX_REPORTED
from retrieval.web.check_tab import EXAMPLE_DRAFT
from tests.test_http_api import ROOT, _error, hold_the_only_slot

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HUBEI, HANGZHOU = "湖北省质量促进条例", "杭州市质量促进办法"


@pytest.fixture(scope="module")
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=120) as client:
        yield client


def test_each_verdict_in_draft_order(api) -> None:
    draft = ("《湖北省质量促进条例》第四十九条规定：“本条例自2024年11月1日起施行。”杭州办法第三十条。"
             "《杭州市质量促进办法》第十二条规定：“鼓励企业实行首席质量官制度”。《中华人民共和国产品质量法》第十条。")
    r = api.post("/api/check", json={"text": draft})
    assert r.status_code == 200, r.text
    body = r.json()
    got = [(c["cited"], c["title"], c["article"], c["verdict"]) for c in body["citations"]]
    assert got == [("《湖北省质量促进条例》第四十九条", HUBEI, "第四十九条", "found"),
                   ("杭州办法第三十条", HANGZHOU, None, "no_such_article"),
                   ("《杭州市质量促进办法》第十二条", HANGZHOU, "第十二条", "quote_differs"),
                   ("《中华人民共和国产品质量法》第十条", None, None, "unknown_regulation")]
    found, missing, differs, _ = body["citations"]
    assert found["text"] == "本条例自 2024 年 11 月 1 日起施行。"  # verbatim, as the regulation prints it
    assert found["citation"] == "《湖北省质量促进条例》第四十九条（第七章 附则）"
    assert missing["article_count"] == 27
    assert differs["diff_text"] == "鼓励企业实[-施-]{+行+}首席质量官制度"
    assert body["counts"] == {"found": 1, "unknown_regulation": 1, "no_such_article": 1, "quote_differs": 1}
    for c in body["citations"]:
        assert draft[c["start"]:c["end"]] == c["cited"]


def test_the_api_returns_the_command_line_json(api, real_index) -> None:
    command = [sys.executable, "-m", "retrieval", "check", "--index", str(real_index), "--json", "-"]
    out = subprocess.run(command, cwd=ROOT, input=EXAMPLE_DRAFT.encode("utf-8"), capture_output=True, timeout=300)
    assert out.returncode == 1, out.stderr  # the example has failing citations
    assert api.post("/api/check", json={"text": EXAMPLE_DRAFT}).json() == json.loads(out.stdout)


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"not json", 400, "JSON object"),
    (b"[1]", 400, "JSON object"),
    (b"{}", 400, "text"),
    (json.dumps({"text": 12}).encode(), 400, "text"),
    (json.dumps({"text": None}).encode(), 400, "text"),
    (json.dumps({"q": "湖北条例第二条"}).encode(), 400, "text"),
    (json.dumps({"text": "质" * (MAX_DRAFT_CHARS + 1)}).encode(), 413, "草稿太长"),
    (json.dumps({"text": "质" * 2_000_000}).encode(), 413, "too large"),  # refused unread
])
def test_errors(api, body: bytes, status: int, message: str) -> None:
    r = api.post("/api/check", content=body, headers={"Content-Type": "application/json"})
    assert message in _error(r, status)


def test_a_draft_of_thousands_of_citations_gets_an_answer_smaller_than_itself(api) -> None:
    numbers = [n % 60 + 1 for n in range(19_000)]  # 第1条 … 第60条 over and over: 湖北 has 49 articles
    draft = "第五条；" * 2_000 + "".join(f"湖北条例第{n}条；" for n in numbers)  # 2,000 bare 第五条 first
    body = json.dumps({"text": draft}, ensure_ascii=False).encode("utf-8")
    r = api.post("/api/check", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:300]
    assert len(r.content) < len(body)  # was 20 MB for this 0.5 MB draft
    report = r.json()
    assert report["truncated"] is True
    assert (report["citations_total"], report["unattributed_total"]) == (19_000, 2_000)
    assert len(report["citations"]) == len(report["unattributed"]) == MAX_REPORTED
    # The first ones in full and in draft order, every one counted by verdict.
    assert [c["cited"] for c in report["citations"][:3]] == ["湖北条例第1条", "湖北条例第2条", "湖北条例第3条"]
    assert report["citations"][0]["text"] and report["citations"][0]["verdict"] == "found"
    assert report["counts"] == {"found": sum(n <= 49 for n in numbers), "unknown_regulation": 0,
                                "no_such_article": sum(n > 49 for n in numbers), "quote_differs": 0}


def test_wrong_method_and_openapi(api) -> None:
    r = api.get("/api/check")
    _error(r, 405)
    assert r.headers["allow"] == "POST"
    spec = api.get("/openapi.json").json()
    body = spec["paths"]["/api/check"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["text"] and body["properties"]["text"]["type"] == "string"


def test_a_full_pool_refuses_a_check_with_503(busy_app_url: str) -> None:
    thread, held = hold_the_only_slot(busy_app_url)
    with httpx.Client(base_url=busy_app_url, timeout=30) as client:
        r = client.post("/api/check", json={"text": "湖北条例第二条"})
        assert "try again" in _error(r, 503)
        assert int(r.headers["retry-after"]) >= 1
        thread.join(timeout=120)
        assert held["response"].status_code == 200
        after = client.post("/api/check", json={"text": "湖北条例第二条"})
        assert after.status_code == 200 and after.json()["citations"][0]["verdict"] == "found"
