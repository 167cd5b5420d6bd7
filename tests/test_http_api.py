"""The plain JSON API as programs use it: the real app (`python app.py`), real index and model, over HTTP.

Every route, every error status with its JSON body, the cache header, answers that never cross between
concurrent users, and a full pool answered with 503 and Retry-After (a second app with a pool of one
slot whose batcher waits long, so a test can hold the slot for certain).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.slow]

httpx = require("httpx")  # a missing install fails, never skips

ROOT = Path(__file__).resolve().parent.parent
ART_23 = "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"
HUBEI, HANGZHOU = "湖北省质量促进条例", "杭州市质量促进办法"
INTERNALS = re.compile(r"Traceback|File \"|object at 0x|\.py\b")


@pytest.fixture(scope="module")
def api(app_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_url, timeout=120) as client:
        yield client


def _cli(index: Path, *args: str) -> dict:
    command = [sys.executable, "-m", "retrieval", "search", "--index", str(index), "--json", *args]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def _error(r: httpx.Response, status: int) -> str:
    """The response is `{"error": message}` with the status, as JSON, and says nothing about internals."""
    assert r.status_code == status, (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"] and isinstance(body["error"], str) and body["error"]
    assert not INTERNALS.search(r.text), r.text
    return body["error"]


# -- search ----------------------------------------------------------------------------------------------
def test_get_finds_the_article_asked_for_by_number(api) -> None:
    r = api.get("/api/search", params={"q": "湖北条例第二十三条", "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == "湖北条例第二十三条" and body["abstained"] is False
    assert len(body["results"]) == 3
    top = body["results"][0]
    assert top["citation"] == ART_23
    assert (top["title"], top["article"], top["number"], top["chapter"]) == (HUBEI, "第二十三条", 23, "第三章 创新驱动")
    assert top["text"].startswith("企业应当保障创新有效投入")


def test_get_and_post_return_the_command_line_json(api, real_index: Path) -> None:
    questions = ["湖北条例第二十三条", "企业要不要配专门管质量的人？", "When does the Hangzhou measure take effect?"]
    for question in questions:
        expected = _cli(real_index, "-k", "3", "--mode", "hybrid", question)
        assert api.get("/api/search", params={"q": question, "k": 3, "mode": "hybrid"}).json() == expected
        assert api.post("/api/search", json={"q": question, "k": 3, "mode": "hybrid"}).json() == expected
    bare = "政府对质量奖励有哪些规定？"  # without k and mode: the command line's defaults
    assert api.get("/api/search", params={"q": bare}).json() == _cli(real_index, bare)


def test_an_everyday_question_abstains(api) -> None:
    body = api.get("/api/search", params={"q": "今天杭州天气怎么样"}).json()
    assert body["abstained"] is True
    assert body["results"]  # the nearest articles are still listed, marked as not answering


def test_regulation_limits_the_search_and_may_repeat(api) -> None:
    q = "企业质量管理体系"
    only = api.get("/api/search", params={"q": q, "k": 6, "regulation": "杭州办法"}).json()
    assert only["results"] and {x["title"] for x in only["results"]} == {HANGZHOU}
    by_id = api.get("/api/search", params={"q": q, "k": 6, "regulation": "hubei-quality-promotion-2024"}).json()
    assert by_id["results"] and {x["title"] for x in by_id["results"]} == {HUBEI}
    both = api.get("/api/search", params=[("q", q), ("k", "10"), ("regulation", "杭州办法"),
                                          ("regulation", HUBEI)]).json()
    assert {x["title"] for x in both["results"]} == {HUBEI, HANGZHOU}
    posted = api.post("/api/search", json={"q": q, "k": 6, "regulation": ["杭州办法"]}).json()
    assert posted == only


def test_history_reads_a_follow_up_and_says_how(api) -> None:
    plain = api.post("/api/search", json={"q": "湖北条例第二十三条"}).json()
    r = api.post("/api/search", json={"q": "湖北条例第二十三条", "history": ["企业要不要配质量管理人员？"]})
    assert r.status_code == 200
    complete = r.json()
    assert complete.pop("understood")["merged"] is False and complete == plain  # a complete question: as typed
    follow = api.get("/api/search", params=[("q", "那杭州呢"), ("history", "首席质量官制度是怎么规定的")]).json()
    assert follow["results"][0]["citation"] == "《杭州市质量促进办法》第十二条"
    read = follow["understood"]
    assert read["merged"] and read["shown_as"].startswith("杭州市质量促进办法 · 首席质量官")
    assert read["alone"] == "那杭州呢"


def test_a_repeated_question_comes_from_the_cache(api) -> None:
    params = {"q": "质量诚信体系建设有哪些要求", "k": 4, "mode": "dense"}  # asked nowhere else in the session
    first = api.get("/api/search", params=params)
    second = api.get("/api/search", params=params)
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert second.json() == first.json()
    spaced = api.post("/api/search", json={"q": "  质量诚信体系建设有哪些要求 ", "k": 4, "mode": "dense"})
    assert spaced.headers["x-cache"] == "hit" and spaced.json() == first.json()  # same cleaned question
    other_k = api.get("/api/search", params={**params, "k": 5})
    assert other_k.headers["x-cache"] == "miss" and len(other_k.json()["results"]) == 5


def test_concurrent_users_each_get_their_own_answer(api, app_url: str) -> None:
    numbers = list(range(1, 31))
    answers: dict[int, dict] = {}
    start = threading.Barrier(len(numbers))

    def ask(n: int) -> None:
        with httpx.Client(base_url=app_url, timeout=120) as own:
            start.wait()
            answers[n] = own.get("/api/search", params={"q": f"湖北条例第{n}条", "k": 2}).json()

    threads = [threading.Thread(target=ask, args=(n,)) for n in numbers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert sorted(answers) == numbers
    for n, body in answers.items():
        assert body["query"] == f"湖北条例第{n}条"
        assert (body["results"][0]["title"], body["results"][0]["number"]) == (HUBEI, n)


# -- index -----------------------------------------------------------------------------------------------
def test_regulations_are_the_ingest_list_json(api, real_index: Path) -> None:
    command = [sys.executable, "-m", "ingest", "list", "--index", str(real_index), "--json"]
    expected = json.loads(subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                                         check=True).stdout)
    r = api.get("/api/regulations")
    assert r.status_code == 200 and r.json() == expected
    assert {row["title"]: row["articles"] for row in r.json()["regulations"]} == {HUBEI: 49, HANGZHOU: 27}


def test_health_names_the_build_that_serves(api, real_index: Path) -> None:
    body = api.get("/api/health").json()
    assert body["status"] == "ok" and body["index_loaded"] is True
    assert body["build"] == (real_index / "CURRENT").read_text(encoding="utf-8").strip()
    assert (body["regulations"], body["articles"]) == (2, 76)
    assert body["pool"]["limit"] >= 50
    assert body["engine"] == "onnxruntime"  # the questions' engine, the command line's too


def test_openapi_describes_the_routes(api) -> None:
    spec = api.get("/openapi.json").json()
    assert set(spec["paths"]["/api/search"]) == {"get", "post"}
    assert {"/api/regulations", "/api/health"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params == {"q", "k", "mode", "regulation", "history", "level", "region", "as_of", "all_versions"}
    docs = api.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_page_and_gradio_search_endpoint_are_still_served(api, app_url: str) -> None:
    from gradio_client import Client

    assert api.get("/").status_code == 200
    body = Client(app_url, verbose=False).predict("湖北条例第二十三条", 3, "hybrid", api_name="/search")
    assert body == api.get("/api/search", params={"q": "湖北条例第二十三条", "k": 3}).json()


# -- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("params", "status", "message"), [
    ({}, 400, "q is required"),
    ({"q": "   "}, 400, "请输入问题"),
    ({"q": "质量", "k": "three"}, 400, "whole number"),
    ({"q": "质量", "k": "0"}, 400, "k must be between"),
    ({"q": "质量", "k": "1.5"}, 400, "whole number"),
    ({"q": "质量", "k": "51"}, 400, "k must be between"),
    ({"q": "质量", "mode": "fuzzy"}, 400, "unknown mode"),
    ({"q": "质量", "regulation": "没有这部法规"}, 400, "none of the chosen regulations"),
    ({"q": "质" * 1001}, 413, "问题太长"),
])
def test_get_errors(api, params: dict, status: int, message: str) -> None:
    assert message in _error(api.get("/api/search", params=params), status)


@pytest.mark.parametrize(("body", "status", "message"), [
    (b"not json", 400, "JSON object"),
    (b"[1, 2]", 400, "JSON object"),
    (b"\xff\xfe", 400, "JSON object"),
    (b"{}", 400, "q"),
    (json.dumps({"q": 12345}).encode(), 400, "must be text"),
    (json.dumps({"q": None}).encode(), 400, "must be text"),
    (json.dumps({"q": "质量", "k": "NaN"}).encode(), 400, "whole number"),
    (json.dumps({"q": "质量", "k": True}).encode(), 400, "whole number"),
    (json.dumps({"q": "质量", "k": 1.5}).encode(), 400, "whole number"),
    (json.dumps({"q": "质量", "mode": 5}).encode(), 400, "mode"),
    (json.dumps({"q": "质量", "regulation": [1]}).encode(), 400, "regulation"),
    (json.dumps({"q": "质量", "regulation": {"$ne": ""}}).encode(), 400, "regulation"),
    (json.dumps({"q": "质量", "history": "earlier"}).encode(), 400, "history"),
    (json.dumps({"q": "质" * 1001}).encode(), 413, "问题太长"),
    (json.dumps({"q": "质" * 2_000_000}).encode(), 413, "too large"),  # a 6 MB body is not read
])
def test_post_errors(api, body: bytes, status: int, message: str) -> None:
    r = api.post("/api/search", content=body, headers={"Content-Type": "application/json"})
    assert message in _error(r, status)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_a_body_not_sent_as_json_gets_415_and_writes_nothing(api, app_feedback_dir: Path,
                                                              content_type: str | None) -> None:
    """What a page on another site can post without the browser asking first: text/plain, a form, no type."""
    votes = app_feedback_dir / "feedback.jsonl"
    before = votes.read_bytes() if votes.exists() else b""
    headers = {"Content-Type": content_type} if content_type else {}
    vote = json.dumps({"question": "企业要不要配专门管质量的人？", "article_id": None, "vote": "down"})
    assert "application/json" in _error(api.post("/api/feedback", content=vote, headers=headers), 415)
    _error(api.post("/api/search", content=json.dumps({"q": "湖北条例第二十三条"}), headers=headers), 415)
    _error(api.post("/api/check", content=json.dumps({"text": "湖北条例第二条"}), headers=headers), 415)
    assert (votes.read_bytes() if votes.exists() else b"") == before
    r = api.post("/api/search", content=json.dumps({"q": "湖北条例第二十三条", "k": 1}),
                 headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 200 and r.json()["results"][0]["citation"] == ART_23


def test_a_question_with_control_characters_and_lone_surrogates_is_cleaned_not_refused(api) -> None:
    body = json.dumps({"q": "湖北条例\ud800第二十三条\x00", "k": 1})  # \\ud800 travels as an escape
    r = api.post("/api/search", content=body.encode("ascii"), headers={"Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["results"][0]["citation"] == ART_23


def test_unknown_routes_and_methods_answer_json(api) -> None:
    assert "no such API route" in _error(api.get("/api/nothing"), 404)
    r = api.put("/api/search", json={"q": "质量"})
    _error(r, 405)
    assert r.headers["allow"] == "GET, POST"
    _error(api.post("/api/health"), 405)


# -- a full pool -----------------------------------------------------------------------------------------
def hold_the_only_slot(url: str) -> tuple[threading.Thread, dict]:
    """On the `busy_app_url` app: start a search that holds its one slot; return once it holds it."""
    held: dict = {}

    def ask() -> None:
        with httpx.Client(base_url=url, timeout=120) as own:
            held["response"] = own.get("/api/search", params={"q": "湖北条例第二十三条", "k": 3})

    thread = threading.Thread(target=ask)
    thread.start()
    with httpx.Client(base_url=url, timeout=30) as probe:
        deadline = time.monotonic() + 30
        while probe.get("/api/health").json()["pool"]["in_flight"] < 1:
            assert time.monotonic() < deadline, "the first search never started"
            time.sleep(0.05)
    return thread, held


def test_a_full_pool_answers_503_with_retry_after_and_loses_nothing(busy_app_url: str) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    gradio = Client(busy_app_url, verbose=False)
    thread, held = hold_the_only_slot(busy_app_url)
    with httpx.Client(base_url=busy_app_url, timeout=30) as api:
        r = api.get("/api/search", params={"q": "企业质量管理"})
        message = _error(r, 503)
        assert "try again" in message and "稍后再试" in message
        assert int(r.headers["retry-after"]) >= 1
        posted = api.post("/api/search", json={"q": "企业质量管理"})
        _error(posted, 503)
        assert int(posted.headers["retry-after"]) >= 1
        with pytest.raises(AppError, match="try again"):  # Gradio's /search shares the pool
            gradio.predict("企业质量管理", api_name="/search")
        assert api.get("/api/health").status_code == 200  # health is never refused
        thread.join(timeout=120)
        held_response = held["response"]
        assert held_response.status_code == 200  # the search that held the slot is answered, and right
        assert held_response.json()["results"][0]["citation"] == ART_23
        after = api.get("/api/search", params={"q": "企业质量管理", "k": 2})
        assert after.status_code == 200 and len(after.json()["results"]) == 2
        pool = api.get("/api/health").json()["pool"]
        assert pool["in_flight"] == 0 and pool["refused"] >= 3
