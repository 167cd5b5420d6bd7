"""The JSON API's limits on a fake engine (fast; no model): votes per client, log lines that any line reader reads
as one record, the abstentions kept apart from the votes and logged once per question and build, and the guard's
settings for an operator's own host names and origins. The real app's behaviour is in test_server_guard.py."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from retrieval.results import SearchResponse
from retrieval.serving.feedback import FeedbackLog, read_all
from retrieval.serving.guard import GuardSettings, protect
from retrieval.serving.http_api import build_api
from retrieval.serving.rate_limit import RateLimit
from retrieval.serving.service import SearchService, ServingSettings

NO_ANSWER = {"question": "今天天气怎么样", "article_id": None, "vote": "down", "kind": "no_answer"}


class _AbstainingEngine:
    """An index whose search never finds an answer; counts its searches."""

    def __init__(self) -> None:
        self.searches = 0
        index = SimpleNamespace(path=Path("build-1"), regulations=(), articles=(), model_id="fake")

        def search(question, k=5, mode="hybrid", regulations=None):
            self.searches += 1
            return SearchResponse(" ".join(question.split()), True, ())

        self.retriever = SimpleNamespace(index=index, search=search, article_by_id=lambda aid: None, embedder=None)
        self.rows: list[dict] = []

    def __call__(self) -> _AbstainingEngine:
        return self


def _client(feedback: FeedbackLog, **settings) -> tuple[TestClient, _AbstainingEngine]:
    engine = _AbstainingEngine()
    service = SearchService(engine, ServingSettings(max_inflight=2, **settings), feedback)
    return TestClient(build_api(service), raise_server_exceptions=False), engine


# -- votes per client --------------------------------------------------------------------------------------------
def test_a_flood_of_votes_gets_429_with_retry_after(tmp_path: Path) -> None:
    client, _ = _client(FeedbackLog(tmp_path), feedback_per_minute=30)
    answers = [client.post("/api/feedback", json=NO_ANSWER) for _ in range(45)]
    assert [r.status_code for r in answers[:30]] == [200] * 30
    refused = answers[30:]
    assert {r.status_code for r in refused} == {429}
    for r in refused:
        assert list(r.json()) == ["error"] and "too many votes" in r.json()["error"]
        assert int(r.headers["retry-after"]) >= 1
    assert len(list(FeedbackLog(tmp_path).read())) == 30  # the refused ones are not written
    bad = client.post("/api/feedback", json={**NO_ANSWER, "vote": "meh"})
    assert bad.status_code == 400  # a bad vote is still told what is wrong


def test_the_rate_comes_back_with_time_and_each_client_has_its_own() -> None:
    now = [0.0]
    limit = RateLimit(per_minute=6, burst=2, clock=lambda: now[0])
    assert [limit.take("a"), limit.take("a")] == [0.0, 0.0]
    assert limit.take("a") == pytest.approx(10.0)  # 6 a minute: one every 10 s
    assert limit.take("b") == 0.0
    now[0] = 10.0
    assert limit.take("a") == 0.0 and limit.take("a") > 0


def test_settings_name_the_vote_rate() -> None:
    assert ServingSettings.from_env({"REGQA_FEEDBACK_PER_MINUTE": "5"}).feedback_per_minute == 5
    assert ServingSettings.from_env({}).feedback_per_minute == 30


def test_a_vote_with_line_separators_stays_one_record_per_line(tmp_path: Path) -> None:
    client, _ = _client(FeedbackLog(tmp_path))
    question = "第一行\u2028第二行\u2029第三段\x85第四行"
    assert client.post("/api/feedback", json={**NO_ANSWER, "question": question}).status_code == 200
    assert client.post("/api/feedback", json=NO_ANSWER).status_code == 200
    lines = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()  # splits on U+2028 too
    assert [json.loads(line)["question"] for line in lines] == [question, NO_ANSWER["question"]]


# -- abstentions -------------------------------------------------------------------------------------------------
def test_an_abstained_question_is_logged_once_per_build_cache_hits_included(tmp_path: Path) -> None:
    client, engine = _client(FeedbackLog(tmp_path))
    for q in ("今天杭州天气怎么样", "今天杭州天气怎么样", " 今天杭州天气怎么样 "):
        r = client.get("/api/search", params={"q": q})
        assert r.status_code == 200 and r.json()["abstained"] is True
    client.post("/api/search", json={"q": "今天杭州天气怎么样", "k": 3})  # a miss (another k), same question
    assert engine.searches >= 2
    rows = list(FeedbackLog(tmp_path, name="abstained").read())
    assert [(r["kind"], r["question"]) for r in rows] == [("abstained", "今天杭州天气怎么样")]
    engine.retriever.index.path = Path("build-2")  # a new build: asked again, logged again
    client.get("/api/search", params={"q": "今天杭州天气怎么样"})
    assert [r["build"] for r in FeedbackLog(tmp_path, name="abstained").read()] == ["build-1", "build-2"]


def test_a_flood_of_votes_cannot_evict_the_abstentions(tmp_path: Path) -> None:
    client, _ = _client(FeedbackLog(tmp_path, max_bytes=3000, keep=2), feedback_per_minute=10**6)
    assert client.get("/api/search", params={"q": "食品安全怎么管"}).json()["abstained"] is True
    for i in range(300):  # ~25 files' worth of votes through a log that keeps 2
        assert client.post("/api/feedback", json={**NO_ANSWER, "question": f"问题 {i}"}).status_code == 200
    votes = list(FeedbackLog(tmp_path).read())
    assert votes and all(v["kind"] == "no_answer" for v in votes)
    assert votes[-1]["question"] == "问题 299" and len(votes) < 300  # the votes log rolled
    kinds = [(e["kind"], e["question"]) for e in read_all(tmp_path)]
    assert ("abstained", "食品安全怎么管") in kinds  # still there


# -- the guard's settings ----------------------------------------------------------------------------------------
def _guarded(env: dict[str, str]) -> TestClient:
    service = SearchService(_AbstainingEngine(), ServingSettings(max_inflight=2))
    return TestClient(protect(build_api(service), GuardSettings.from_env(env)), base_url="http://127.0.0.1:7860")


def test_an_operator_s_host_names_and_origins_are_answered_and_no_others() -> None:
    plain = _guarded({})
    assert plain.get("/api/health", headers={"Host": "regs.example.org"}).status_code == 403
    client = _guarded({"REGQA_ALLOWED_HOSTS": "regs.example.org, 10.0.0.5:8080",
                       "REGQA_ALLOWED_ORIGINS": "https://app.example.org"})
    for host in ("regs.example.org", "regs.example.org:443", "10.0.0.5:8080", "127.0.0.1:7860"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 200, host
    for host in ("10.0.0.5", "10.0.0.5:9090", "evil.example"):
        assert client.get("/api/health", headers={"Host": host}).status_code == 403, host
    # The page behind a TLS proxy: its origin is https://regs.example.org, its Host regs.example.org.
    r = client.post("/api/search", json={"q": "质量"},
                    headers={"Host": "regs.example.org", "Origin": "https://regs.example.org"})
    assert r.status_code == 200
    listed = client.get("/api/health", headers={"Origin": "https://app.example.org"})
    assert listed.status_code == 200 and listed.headers["access-control-allow-origin"] == "https://app.example.org"
    assert "access-control-allow-credentials" not in listed.headers
    assert client.get("/api/health", headers={"Origin": "https://other.example.org"}).status_code == 403
    anything = _guarded({"REGQA_ALLOWED_HOSTS": "*"})
    assert anything.get("/api/health", headers={"Host": "whatever.example"}).status_code == 200
