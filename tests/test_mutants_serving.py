"""The serving room's own regressions (retrieval/serving/: service, answer_cache, admission, http_api, feedback),
fast: the fixtures indexed with the fake embedder of tests/conftest.py (no model) and FastAPI's TestClient (no
server, no browser). Each test names the change it catches (tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from retrieval.serving.service import SearchService, ServingSettings
from retrieval.versions.in_force import annotate
from tests.conftest import FakeEmbedder

MEASURE = "示例市质量促进办法"


@pytest.fixture(scope="module")
def fake(fake_index: Path):
    from retrieval.retriever import Retriever

    return Retriever(fake_index, embedder=FakeEmbedder())


def _service(retriever, **kw) -> SearchService:
    return SearchService(lambda: SimpleNamespace(retriever=retriever, rows=[{"title": "x"}]),
                         ServingSettings(max_inflight=2), **kw)


# -- (h) the cache key holds the whole history ---------------------------------------------------------------------
def test_two_users_with_the_same_last_turn_get_their_own_reading_of_a_follow_up(fake):
    service = _service(fake)
    question = f"那{MEASURE}呢"
    one = service.converse(question, ["首席质量官是怎么规定的", "示例条例的呢"], 3)
    other = service.converse(question, ["质量管理体系是怎么规定的", "示例条例的呢"], 3)
    assert one.understood.query.startswith("首席质量官") and not one.cached
    assert other.understood.query == "质量管理体系" and not other.cached  # not the first user's reading
    assert other.understood.shown_as == f"{MEASURE} · 质量管理体系"
    again = service.converse(question, ["首席质量官是怎么规定的", " 示例条例的呢 "], 3)  # spaces do not matter
    assert again.cached and again.understood == one.understood and again.response is one.response


# -- the JSON API on the fake index ----------------------------------------------------------------------------------
def _client(service: SearchService):
    from fastapi.testclient import TestClient

    from retrieval.serving.http_api import build_api

    return TestClient(build_api(service), raise_server_exceptions=False)


@pytest.fixture
def api(fake, tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    service = _service(fake, feedback=FeedbackLog(tmp_path / "feedback"))
    client = _client(service)
    client.service = service
    return client


def _labels(body: dict) -> list[str]:
    return [f"{r['title']}{r['article']}" for r in body["results"]]


def test_get_and_post_answer_with_the_search_json_and_say_whether_it_was_cached(api, fake):
    first = api.get("/api/search", params={"q": "示例条例第二条", "k": "2"})
    assert first.status_code == 200 and first.headers["x-cache"] == "miss"
    assert first.json() == annotate(fake.search("示例条例第二条", k=2, mode="hybrid").to_json(), fake.index)
    assert _labels(first.json())[0] == "示例省质量促进条例第二条" and len(first.json()["results"]) <= 2
    again = api.post("/api/search", json={"q": "示例条例第二条", "k": 2, "mode": "hybrid"})
    assert again.headers["x-cache"] == "hit" and again.json() == first.json()
    assert "understood" not in again.json()
    default = api.get("/api/search", params={"q": "首席质量官"}).json()
    assert len(default["results"]) == min(5, len(fake.index.articles))  # DEFAULT_K
    dense = api.post("/api/search", json={"q": "首席质量官", "mode": "dense", "k": 1})
    assert dense.json() == annotate(fake.search("首席质量官", k=1, mode="dense").to_json(), fake.index)


def test_a_regulation_filter_and_a_history_are_read(api, fake):
    measure = next(r.id for r in fake.regulations if r.title == MEASURE)
    one = api.get("/api/search", params={"q": "质量", "regulation": measure}).json()
    assert one["results"] and {r["title"] for r in one["results"]} == {MEASURE}
    both = api.post("/api/search", json={"q": "质量", "regulation": [measure, ""], "k": 3}).json()
    assert {r["title"] for r in both["results"]} == {MEASURE}
    follow = api.post("/api/search", json={"q": "下一条", "history": ["示例条例第二条"], "k": 1})
    assert follow.status_code == 200
    assert follow.json()["understood"]["kind"] == "relative" and _labels(follow.json()) == ["示例省质量促进条例第三条"]
    got = api.get("/api/search", params=[("q", "下一条"), ("history", "示例条例第二条"), ("k", "1")]).json()
    assert got["understood"] == follow.json()["understood"]
    plain = api.post("/api/search", json={"q": "下一条", "history": [], "k": 1}).json()
    assert "understood" not in plain  # an empty history is a plain search


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"q": "   "}, 400, None),
    ({"q": "质" * 1001}, 413, None),
    ({"q": "质量", "k": "three"}, 400, "whole number"),
    ({"q": "质量", "mode": 3}, 400, "mode"),
    ({"q": "质量", "history": "示例条例第二条"}, 400, "history"),
    ({"q": "质量", "history": ["ok", 2]}, 400, "history"),
    ({"q": "质量", "regulation": [1]}, 400, "regulation"),
    ({"q": "质量", "regulation": {"$ne": ""}}, 400, "regulation"),
    ({"k": 3}, 400, "question"),
])
def test_bad_search_input_is_a_json_error_with_its_status(api, body, status, words):
    r = api.post("/api/search", json=body)
    assert r.status_code == status and list(r.json()) == ["error"]
    assert words is None or words in r.json()["error"]
    assert "retry-after" not in r.headers


def test_bodies_that_are_not_json_objects_or_too_large_are_refused_unread(api):
    from retrieval.serving.http_api import MAX_BODY_BYTES

    for raw in (b"[1, 2]", b"{not json", b"\xff\xfe"):
        r = api.post("/api/search", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 400 and "JSON" in r.json()["error"]
    big = b'{"q": "' + b"x" * MAX_BODY_BYTES + b'"}'
    r = api.post("/api/search", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and str(MAX_BODY_BYTES) in r.json()["error"]
    exact = b'{"q": "' + b"x" * (MAX_BODY_BYTES - 9) + b'"}'  # at the limit: read, then refused as too long
    assert len(exact) == MAX_BODY_BYTES
    assert api.post("/api/search", content=exact, headers={"content-type": "application/json"}).status_code == 413

    def chunks():  # no Content-Length: the limit holds while reading
        yield b'{"q": "'
        for _ in range(MAX_BODY_BYTES // 1000 + 1):
            yield b"x" * 1000
        yield b'"}'

    r = api.post("/api/search", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_a_full_pool_is_503_with_retry_after(api):
    with api.service.pool.slot(), api.service.pool.slot():
        r = api.get("/api/search", params={"q": "质量"})
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and "try again" in r.json()["error"]
        c = api.post("/api/check", json={"text": "示例条例第二条"})
        assert c.status_code == 503 and c.headers["retry-after"] == "1"
    assert api.get("/api/search", params={"q": "质量"}).status_code == 200


def test_regulations_and_health_describe_the_loaded_index(api, fake):
    assert api.get("/api/regulations").json() == {"regulations": [{"title": "x"}]}
    api.get("/api/search", params={"q": "质量"})
    health = api.get("/api/health").json()
    assert health["status"] == "ok" and health["index_loaded"] is True
    assert health["build"] == fake.index.path.name and health["model"] == fake.index.model_id
    assert health["engine"] == "fake"
    assert (health["regulations"], health["articles"]) == (2, len(fake.index.articles))
    assert health["pool"] == {"in_flight": 0, "limit": 2, "admitted": 1, "refused": 0}
    assert health["cache"]["entries"] == 1 and "build" not in health["cache"]


def test_check_returns_the_checker_json(api, fake):
    from retrieval.checker.catalogue import Catalogue
    from retrieval.checker.check import check_citations

    draft = "《示例省质量促进条例》第二条规定“本条例适用于本省行政区域内的质量促进活动”。示例条例第九条。"
    r = api.post("/api/check", json={"text": draft})
    assert r.status_code == 200
    assert r.json() == check_citations(draft, Catalogue(fake.index.regulations, fake.index.articles)).to_json()
    assert r.json()["counts"]["found"] == 1 and r.json()["counts"]["no_such_article"] == 1
    for bad in ({"text": 3}, {"draft": "x"}, {}):
        assert api.post("/api/check", json=bad).status_code == 400
    from retrieval.checker.check import MAX_DRAFT_CHARS

    long = api.post("/api/check", json={"text": "质" * (MAX_DRAFT_CHARS + 1)})
    assert long.status_code == 413 and "too long" in long.json()["error"]


def test_feedback_is_checked_and_logged_with_the_build(api, fake):
    article = fake.index.articles[1]
    ok = api.post("/api/feedback", json={"question": "质量是什么", "article_id": article.id, "vote": "up"})
    assert ok.status_code == 200 and ok.json() == {"ok": True}
    none = api.post("/api/feedback", json={"question": "天气", "article_id": None, "vote": "down"})
    assert none.json() == {"ok": True}
    rows = list(api.service.feedback.read())
    assert [(r["kind"], r["vote"], r["article_id"], r["article"], r["build"]) for r in rows] == [
        ("answer", "up", article.id, article.citation, fake.index.path.name),
        ("no_answer", "down", None, None, fake.index.path.name)]
    bad = [({"vote": "up"}, "question"), ({"question": " ", "vote": "up"}, "question"),
           ({"question": "q" * 1001, "vote": "up"}, "1000"), ({"question": "q", "vote": "meh"}, "vote"),
           ({"question": "q", "vote": "up", "kind": "other"}, "kind"),
           ({"question": "q", "vote": "up", "article_id": "nope"}, "article_id"),
           ({"question": "q", "vote": "up", "article_id": 7}, "article_id"),
           ({"question": "q", "vote": "up", "kind": "answer"}, "answer needs"),
           ({"question": "q", "vote": "up", "kind": "no_answer", "article_id": article.id}, "answer needs")]
    for body, words in bad:
        r = api.post("/api/feedback", json=body)
        assert r.status_code == 400 and words in r.json()["error"], body
    assert len(list(api.service.feedback.read())) == 2  # nothing logged for them


def test_a_vote_whose_question_holds_a_lone_surrogate_is_logged_not_a_server_error(api):
    """JSON may escape half a character ("\\ud800"); the vote is kept, the half written as U+FFFD, and the log stays
    UTF-8 that reads back."""
    import json

    body = json.dumps({"question": "质量\ud800是什么😀", "article_id": None, "vote": "down"})  # ASCII-escaped JSON
    r = api.post("/api/feedback", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == {"ok": True}
    assert list(api.service.feedback.read())[-1]["question"] == "质量\ufffd是什么😀"
    api.service.feedback.path.read_bytes().decode("utf-8")  # strict: raises on anything but UTF-8


def test_feedback_without_a_log_is_503(fake):
    r = _client(_service(fake)).post("/api/feedback", json={"question": "q", "vote": "up"})
    assert r.status_code == 503 and "not recorded" in r.json()["error"]


def test_unknown_routes_and_methods_are_json_errors(api):
    r = api.get("/api/nothing")
    assert r.status_code == 404 and "no such API route" in r.json()["error"]
    for method, path, allowed in (("DELETE", "/api/search", "GET, POST"), ("GET", "/api/feedback", "POST"),
                                  ("POST", "/api/health", "GET"), ("PUT", "/api/check/", "POST"),
                                  ("POST", "/api/regulations", "GET")):
        r = api.request(method, path)
        assert (r.status_code, r.headers.get("allow")) == (405, allowed), path
        assert "not allowed" in r.json()["error"]
    missing = api.get("/api/search")  # no q: FastAPI's validation, worded as ours
    assert missing.status_code == 400 and missing.json() == {"error": "q is required"}


def test_an_index_that_cannot_be_loaded_is_503_on_every_route(tmp_path: Path):
    from ingest.errors import IndexFault
    from retrieval.serving.feedback import FeedbackLog

    def engine():
        raise IndexFault("no index here")

    client = _client(SearchService(engine, ServingSettings(max_inflight=2), FeedbackLog(tmp_path)))
    for r in (client.get("/api/health"), client.get("/api/regulations"), client.get("/api/search?q=质量"),
              client.post("/api/feedback", json={"question": "q", "vote": "up"}),
              client.post("/api/check", json={"text": "示例条例第二条"})):
        assert r.status_code == 503 and r.headers["retry-after"] == "5" and r.json() == {"error": "no index here"}


# -- the service on its own ------------------------------------------------------------------------------------------
def test_search_caches_by_question_and_logs_every_abstention(fake, tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    service = _service(fake, feedback=FeedbackLog(tmp_path))
    measure = next(r.id for r in fake.regulations if r.title == MEASURE)
    first = service.search("质量", 2, None, measure)  # one name as a string, mode by default hybrid
    assert not first.cached and first.response.to_json() == fake.search("质量", k=2, mode="hybrid",
                                                                        regulations=[measure]).to_json()
    answers = [first, service.search("质量", 2, "hybrid", [measure]), service.search("质量", 2, "dense", [measure])]
    assert [a.cached for a in answers] == [False, True, False]
    assert first.engine.retriever is fake
    off = "今天天气怎么样 weather forecast"
    answers += [service.search(off, 3), service.search(off, 3), service.search("示例条例第二条", 3)]
    assert answers[3].response.abstained and answers[4].cached and not answers[5].response.abstained
    logged = [(r["kind"], r["question"], r["build"]) for r in service.abstentions.read()]
    # every abstained question once per build (asking again, cached or not, adds nothing), in its own log
    abstained = dict.fromkeys(a.response.query for a in answers if a.response.abstained)
    assert logged == [("abstained", q, fake.index.path.name) for q in abstained] and off in abstained
    assert answers[3].response.query == off and not list(service.feedback.read())  # the votes' log holds no votes


def test_converse_without_history_is_a_search_and_an_abstained_turn_is_logged(fake, tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    service = _service(fake, feedback=FeedbackLog(tmp_path))
    plain = service.converse("示例条例第二条", [], 1, None, None)
    assert plain.understood is None and plain.response.results[0].article.label == "第二条"
    assert service.converse("示例条例第二条", None, 1).cached
    turn = service.converse("下一条", ["示例条例第二条"], 1)
    assert turn.understood.kind == "relative" and turn.response.results[0].article.label == "第三条"
    assert not service.converse("下一条", ["示例条例第二条"], 1, "dense").cached
    filtered = service.converse("下一条", ["示例条例第二条"], 1, None, MEASURE)  # the caller's filter wins
    assert all(r.article.regulation_title == MEASURE for r in filtered.response.results)
    assert not filtered.cached
    gone = service.converse("下一条", ["示例条例第五条"], 3)  # 第六条 does not exist
    assert gone.response.abstained and gone.understood.query == "示例省质量促进条例第六条"
    assert service.converse("下一条", ["示例条例第五条"], 3).cached
    answers = [plain, turn, filtered, gone]
    logged = [r["question"] for r in service.abstentions.read()]
    assert logged[-1:] == [gone.response.query]  # the query as understood, once however often it is asked
    assert logged[:-1] == [a.response.query for a in answers[:3] if a.response.abstained]
    with pytest.raises(Exception, match="history"):
        service.converse("下一条", "示例条例第二条", 3)


def test_the_async_paths_run_in_a_pool_slot(fake):
    import asyncio

    service = _service(fake)

    async def scenario():
        a = await service.search_async("示例条例第二条", 1)
        b = await service.converse_async("下一条", ["示例条例第二条"], 1)
        c = await service.run(lambda x: x * 2, 21)
        return a, b, c

    a, b, c = asyncio.run(scenario())
    assert a.response.results[0].article.label == "第二条" and b.understood.kind == "relative" and c == 42
    assert service.pool.stats()["admitted"] == 3 and service.pool.in_flight == 0


def test_every_setting_is_read_from_the_environment():
    from ingest.errors import RegQAError

    env = {"REGQA_MAX_INFLIGHT": "3", "REGQA_BATCH_MAX": "8", "REGQA_BATCH_WAIT_MS": "0",
           "REGQA_EMBED_WORKERS": "4", "REGQA_CACHE_ENTRIES": "7", "REGQA_CACHE_MB": "2", "REGQA_SEARCH_WORKERS": "5"}
    assert ServingSettings.from_env(env) == ServingSettings(3, 8, 0.0, 4, 7, 2 * 2**20, search_workers=5)
    with pytest.raises(RegQAError, match="REGQA_SEARCH_WORKERS must be at least 1"):
        ServingSettings.from_env({"REGQA_SEARCH_WORKERS": "0"})
    assert ServingSettings.from_env({"REGQA_BATCH_MAX": " "}) == ServingSettings()
    defaults = ServingSettings()
    assert (defaults.max_inflight, defaults.batch_max, defaults.embed_workers) == (64, 32, 2)
    assert defaults.search_workers == 4
    assert (defaults.cache_entries, defaults.cache_bytes, defaults.batch_wait_s) == (2048, 16 * 2**20, 0.003)
    for name, raw, words in (("REGQA_BATCH_MAX", "0", "at least 1"), ("REGQA_EMBED_WORKERS", "1.5", "a number"),
                             ("REGQA_BATCH_WAIT_MS", "-1", "at least 0"), ("REGQA_CACHE_MB", "x", "not 'x'")):
        with pytest.raises(Exception, match=f"{name} must be {words}" if "at least" in words or words ==
                           "a number" else words):
            ServingSettings.from_env({name: raw})
    import os

    os.environ["REGQA_CACHE_ENTRIES"] = "5"
    try:
        assert ServingSettings.from_env().cache_entries == 5  # the process environment by default
    finally:
        del os.environ["REGQA_CACHE_ENTRIES"]


def test_the_service_is_built_from_its_settings(fake):
    service = SearchService(lambda: None, ServingSettings(max_inflight=3, cache_entries=9, cache_bytes=1234,
                                                          search_workers=2))
    assert (service.pool.limit, service.cache.max_entries, service.cache.max_bytes) == (3, 9, 1234)
    assert service.pool.workers == 2
    assert service.feedback is None
    assert SearchService(lambda: None).pool.limit == 64


def test_a_level_or_a_region_limits_every_search_path_and_keys_the_cache(faceted_index: Path):
    import asyncio

    from ingest.errors import QueryError
    from retrieval.retriever import Retriever

    service = _service(Retriever(faceted_index, embedder=FakeEmbedder()))
    question, regulation = "企业应当配备专职质量管理人员", "示例省质量促进条例"

    def titles(answer) -> set[str]:
        return {r.article.regulation_title for r in answer.response.results}

    for levels, regions, want in ((None, None, {regulation, MEASURE}), ("地方政府规章", None, {MEASURE}),
                                  (None, ["示例省"], {regulation}), (["地方性法规"], "示例省", {regulation})):
        assert titles(service.search(question, 9, levels=levels, regions=regions)) == want
        assert titles(service.converse(question, [], 9, levels=levels, regions=regions)) == want
        assert titles(service.converse(question, ["质量"], 9, levels=levels, regions=regions)) == want

        async def scenario(levels=levels, regions=regions):
            return (await service.search_async(question, 9, levels=levels, regions=regions),
                    await service.converse_async(question, ["质量"], 9, levels=levels, regions=regions))

        by_search, by_turn = asyncio.run(scenario())
        assert titles(by_search) == titles(by_turn) == want and by_search.cached and by_turn.cached
    for levels, regions, what in ((5, None, "level"), (None, ["示例省", 1], "region")):
        with pytest.raises(QueryError) as info:
            service.search(question, 9, levels=levels, regions=regions)
        assert str(info.value) == f"{what} 须为名称或名称列表 ({what} must be a name or a list of names)"


def test_an_abstained_question_is_logged_once_until_it_leaves_the_newest_remembered(fake, tmp_path: Path,
                                                                                    monkeypatch):
    import retrieval.serving.service as service_module
    from retrieval.serving.feedback import FeedbackLog

    service = _service(fake, feedback=FeedbackLog(tmp_path))
    monkeypatch.setattr(service_module, "ABSTAINED_SEEN", 2)
    for question in ("一", "二", "三", "三", "一", "三"):  # 一 was the oldest of three: forgotten, logged again
        service.note_abstained(question, "b")
    assert [r["question"] for r in service.abstentions.read()] == ["一", "二", "三", "一"]
    assert service.abstentions.path == tmp_path / "abstained.jsonl"  # beside the votes, under its own name


def test_the_feedback_rate_and_k_are_read_with_their_exact_messages():
    from ingest.errors import QueryError, RegQAError
    from retrieval.serving.service import as_k

    assert ServingSettings.from_env({"REGQA_FEEDBACK_PER_MINUTE": "2.5"}).feedback_per_minute == 2.5
    assert ServingSettings.from_env({"REGQA_FEEDBACK_PER_MINUTE": "0.1"}).feedback_per_minute == 0.1
    with pytest.raises(RegQAError) as info:
        ServingSettings.from_env({"REGQA_FEEDBACK_PER_MINUTE": "0.09"})
    assert str(info.value) == "REGQA_FEEDBACK_PER_MINUTE must be at least 0.1"
    for k in (True, "三", 1.5):
        with pytest.raises(QueryError) as refused:
            as_k(k, 5)
        assert str(refused.value) == "k 必须是整数 (k must be a whole number)"


# -- the cache -----------------------------------------------------------------------------------------------------
def test_a_cache_of_zero_entries_keeps_nothing_and_a_replaced_answer_keeps_its_bytes_right():
    from retrieval.serving.answer_cache import AnswerCache, _key_bytes

    off = AnswerCache(0, 10_000, size_of=len)
    off.put("b", "k", "v")
    assert off.get("b", "k") is None and off.stats()["entries"] == 0
    cache = AnswerCache(5, 10_000, size_of=len)
    cache.put("b", "k", "long answer")
    cache.put("b", "k", "short")
    assert cache.get("b", "k") == "short"
    assert cache.stats() == {"entries": 1, "bytes": 5 + _key_bytes("k"), "hits": 1, "misses": 0, "build": "b"}
    cache.clear()
    assert cache.stats()["entries"] == 0 and cache.stats()["bytes"] == 0 and cache.get("b", "k") is None
    exact = AnswerCache(5, 4 + _key_bytes("k"), size_of=len)
    exact.put("b", "k", "four")  # exactly the bound: kept
    assert exact.get("b", "k") == "four"


def test_a_cache_key_and_size_are_what_the_answer_holds():
    from retrieval.serving.answer_cache import _key_bytes, response_bytes

    assert _key_bytes(("a", "b")) > _key_bytes(("a",))
    small = response_bytes({"a": "x"})
    assert response_bytes({"a": "x" * 1000}) >= small + 999
    assert response_bytes(["x" * 1000]) >= 1000 and response_bytes(("x" * 1000,)) >= 1000
    assert response_bytes({"x" * 1000: 1}) >= 1000  # keys count too
    shared = "y" * 1000
    assert response_bytes([shared, shared]) < 2000  # the same object once
    assert response_bytes([None, True]) == response_bytes([1, 2]) - 2 * __import__("sys").getsizeof(1)


# -- the pool ------------------------------------------------------------------------------------------------------
def test_a_pool_needs_a_slot_and_counts_what_it_admits():
    from retrieval.serving.admission import SearchPool

    with pytest.raises(ValueError, match="at least one"):
        SearchPool(limit=0)
    pool = SearchPool(limit=1)
    assert pool.retry_after_s == 1 and pool.limit == 1
    with pool.slot():
        assert pool.stats() == {"in_flight": 1, "limit": 1, "admitted": 1, "refused": 0}
    assert pool.stats()["in_flight"] == 0
    pool.shutdown()


# -- the feedback log ----------------------------------------------------------------------------------------------
def test_a_log_of_one_file_starts_again_when_full_and_others_roll_in_order(tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    one = FeedbackLog(tmp_path / "one", max_bytes=300, keep=0)  # at least one file is kept
    assert one.keep == 1
    for i in range(6):
        one.record("abstained", f"问题{i}", "b")
    assert [p.name for p in one.files()] == ["feedback.jsonl"]
    assert [r["question"] for r in one.read()][-1] == "问题5" and len(list(one.read())) < 6
    log = FeedbackLog(tmp_path / "many", max_bytes=300, keep=3)
    for i in range(12):
        log.record("abstained", f"问题{i:02d}", "b")
    (log.dir / "feedback-x.jsonl").write_text('{"question": "not a roll"}\n', encoding="utf-8")
    assert [p.name for p in log.files()] == ["feedback-2.jsonl", "feedback-1.jsonl", "feedback.jsonl"]
    questions = [r["question"] for r in log.read()]
    assert questions == sorted(questions) and questions[-1] == "问题11"
    assert all(p.stat().st_size <= 300 for p in log.files())


def test_an_event_records_its_time_and_a_failed_write_does_not_break_the_search(tmp_path: Path):
    from datetime import UTC, datetime

    from retrieval.serving.feedback import FeedbackLog, event

    at = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert event("answer", "q", "b", vote="up", article_id="a", article="《x》第一条", now=at) == {
        "time": "2026-01-02T03:04:05+00:00", "kind": "answer", "vote": "up", "question": "q",
        "article": "《x》第一条", "article_id": "a", "build": "b"}
    assert event("no_answer", "q", "b", vote="down")["vote"] == "down"
    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    log = FeedbackLog(blocked / "feedback")  # cannot be created
    log.record("abstained", "q", "b")  # logged as a warning, not raised
    with pytest.raises(OSError):
        log.append(event("abstained", "q", "b"))
    empty = FeedbackLog(tmp_path / "never-written")
    assert empty.files() == [] and list(empty.read()) == [] and empty.path.name == "feedback.jsonl"


def test_the_openapi_document_describes_each_route_its_body_and_its_errors(api):
    from retrieval.serving.http_api import CHECK_RESPONSE_SCHEMA, ERROR_SCHEMA, FEEDBACK_BODY_SCHEMA, SEARCH_BODY_SCHEMA

    doc = api.get("/openapi.json").json()
    assert doc["info"]["title"] == "法规条文检索 API · Regulation search API" and doc["info"]["version"] == "1"
    assert doc["info"]["description"].startswith("- `GET /api/search?q=")
    paths = doc["paths"]
    assert set(paths) == {"/api/search", "/api/regulations", "/api/health", "/api/check", "/api/feedback"}
    post = paths["/api/search"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == SEARCH_BODY_SCHEMA
    assert post["requestBody"]["required"] is True
    errors = {code: r["description"] for code, r in post["responses"].items() if code != "200"}
    assert errors == {"400": "bad input", "413": "question, draft or body too long",
                      "415": "the body is not sent as application/json",
                      "503": "busy or index unavailable (see Retry-After)"}
    assert post["responses"]["503"]["content"]["application/json"]["schema"] == ERROR_SCHEMA
    get = paths["/api/search"]["get"]
    assert [p["name"] for p in get["parameters"]][:5] == ["q", "k", "mode", "regulation", "history"]
    assert [p["name"] for p in get["parameters"]][5:] == ["level", "region", "as_of", "all_versions"]
    assert get["summary"] == "Find the articles that answer a question" and get["tags"] == ["search"]
    assert set(paths["/api/regulations"]["get"]["responses"]) == {"200", "503"}
    check = paths["/api/check"]["post"]
    assert check["responses"]["200"]["content"]["application/json"]["schema"] == CHECK_RESPONSE_SCHEMA
    assert check["requestBody"]["content"]["application/json"]["schema"]["required"] == ["text"]
    feedback = paths["/api/feedback"]["post"]
    assert feedback["requestBody"]["content"]["application/json"]["schema"] == FEEDBACK_BODY_SCHEMA
    assert set(feedback["responses"]) >= {"400", "413", "503"}


def test_more_api_errors_are_worded_and_coded_for_the_caller(fake, tmp_path: Path):
    from ingest.errors import EmbedderError
    from retrieval.serving.feedback import FeedbackLog

    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    client = _client(_service(fake, feedback=FeedbackLog(blocked / "feedback")))  # cannot be written
    r = client.post("/api/feedback", json={"question": "q", "vote": "up"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and "could not be saved" in r.json()["error"]

    def no_model():
        raise EmbedderError("the model is missing")

    r = _client(SearchService(no_model, ServingSettings(max_inflight=2))).get("/api/search", params={"q": "质量"})
    assert r.status_code == 503 and r.headers["retry-after"] == "5" and r.json() == {"error": "the model is missing"}
    many = client.get("/api/search", params={"k": "x", "mode": 1})  # q missing: FastAPI's validation, worded as ours
    assert many.status_code == 400 and many.json() == {"error": "q is required"}
    blank = client.get("/api/search", params={"q": "示例条例第二条", "k": "", "regulation": ""})
    assert blank.status_code == 200 and len(blank.json()["results"]) <= 5
    for method in ("HEAD", "OPTIONS", "PATCH"):
        assert client.request(method, "/api/health").status_code == 405
    assert client.request("GET", "/api/").status_code == 404


def test_the_validation_message_names_at_most_three_problems():
    from types import SimpleNamespace as NS

    from retrieval.serving.http_api import _validation_message

    errors = [{"loc": ("query", "q"), "type": "missing"}, {"loc": ("body", "k", 0), "msg": "not a number"},
              {"loc": (), "msg": "bad"}, {"loc": ("x",), "msg": "fourth"}]
    assert _validation_message(NS(errors=lambda: errors)) == "q is required; k.0 not a number; bad"
    assert _validation_message(NS(errors=lambda: [{"loc": ("q",)}])) == "q is not valid"
    assert _validation_message(NS(errors=lambda: [])) == "bad request"


def test_the_query_embedder_is_the_index_models_batched_on_its_workers(fake_index, tmp_path: Path, monkeypatch):
    import ingest.embed
    from ingest.errors import IndexFault
    from ingest.stores.index_io import current_build
    from retrieval.serving.service import query_embedder

    made: list[tuple] = []

    def make_embedder(spec, job=None):
        made.append((spec, job))
        return FakeEmbedder()

    monkeypatch.setattr(ingest.embed, "make_embedder", make_embedder)
    batcher = query_embedder(fake_index, ServingSettings(batch_max=7, batch_wait_s=0.25, embed_workers=3))
    spec = "instance:fake-embedder@tests"  # as the manifest records it
    assert made == [(spec, "batched-queries")] * 3 and len(batcher.engines) == 3
    assert (batcher.max_batch, batcher.max_wait_s, batcher.model_id) == (7, 0.25, "fake-embedder@tests")
    copy = tmp_path / "index"
    shutil.copytree(fake_index, copy)
    articles = current_build(copy) / "articles.jsonl"
    articles.write_bytes(articles.read_bytes()[:-10])  # damaged: the loader refuses it, with its own message
    assert query_embedder(copy, ServingSettings(embed_workers=1)).model_id == "fake-embedder@tests"
    with pytest.raises(IndexFault, match="no index at"):
        query_embedder(tmp_path / "nothing", ServingSettings())


def test_settings_bounds_are_those_named():
    with pytest.raises(Exception, match="REGQA_EMBED_WORKERS must be at least 1"):
        ServingSettings.from_env({"REGQA_EMBED_WORKERS": "0"})
    assert ServingSettings.from_env({"REGQA_EMBED_WORKERS": "1"}).embed_workers == 1
    assert ServingSettings.from_env({"REGQA_BATCH_WAIT_MS": "2.5"}).batch_wait_s == 0.0025  # fractions of a ms


def test_search_async_passes_the_mode_and_filter(fake):
    import asyncio

    service = _service(fake)
    measure = next(r.id for r in fake.regulations if r.title == MEASURE)
    a = asyncio.run(service.search_async("质量", 3, "dense", [measure]))
    assert a.response.to_json() == fake.search("质量", k=3, mode="dense", regulations=[measure]).to_json()


def test_feedback_errors_are_the_exact_messages(api):
    from retrieval.serving.feedback import MAX_QUESTION

    r = api.post("/api/feedback", json={"vote": "up"})
    assert r.json() == {"error": "请提供问题 question (the vote needs its question)"}
    r = api.post("/api/feedback", json={"question": "q", "vote": "sideways"})
    assert r.json() == {"error": "vote 须为 up 或 down (vote must be up or down)"}
    assert api.post("/api/feedback", json={"question": "问" * MAX_QUESTION, "vote": "up"}).json() == {"ok": True}


def test_a_cache_of_one_keeps_the_latest_and_counts_its_bytes_from_zero():
    import dataclasses
    import sys

    from retrieval.serving.answer_cache import AnswerCache, _key_bytes, response_bytes

    one = AnswerCache(1, 10_000, size_of=len)
    one.put("b", "k1", "v1")
    assert one.stats()["build"] == "b" and one.get("b", "k1") == "v1"
    one.put("b", "k2", "v2")
    assert one.get("b", "k1") is None and one.get("b", "k2") == "v2" and one.get("b", "k2") == "v2"
    assert (one.hits, one.misses) == (3, 1)
    assert one.stats()["bytes"] == 2 + _key_bytes("k2")
    assert one.get("new build", "k2") is None and one.stats()["bytes"] == 0  # a new build starts from nothing
    assert _key_bytes(("a", "bb")) == sys.getsizeof(("a", "bb")) + sys.getsizeof("a") + sys.getsizeof("bb")
    assert _key_bytes("k") == 2 * sys.getsizeof("k")
    assert response_bytes("abc") == sys.getsizeof("abc")
    assert response_bytes([None, True, "x" * 1000]) >= 1000  # None and booleans are skipped, not the end

    @dataclasses.dataclass
    class Held:
        text: str

    assert response_bytes(Held("y" * 1000)) >= 1000  # a dataclass's fields count


def test_an_article_id_the_index_does_not_hold_is_named(api):
    r = api.post("/api/feedback", json={"question": "q", "vote": "up", "article_id": "nope"})
    assert r.json() == {"error": "没有这个条文 (article_id is not an article of the index)"}


def test_the_log_is_compact_utf8_in_a_folder_it_makes_and_reads_past_bad_bytes(tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    log = FeedbackLog(tmp_path / "a" / "b")  # parent folders are made
    log.record("answer", "问题", "b1", vote="up", article_id="reg#1-0", article="《示例条例》第一条")
    raw = log.path.read_bytes()
    assert '"question":"问题"'.encode() in raw and b", " not in raw and raw.endswith(b"\n")  # one compact line
    with log.path.open("ab") as f:
        f.write(b'\xff\xfe not json\n{"question": "\xe9\x97\xae\xff"}\n')
    log.record("abstained", "后来", "b1")
    rows = list(log.read())
    assert [r["question"] for r in rows] == ["问题", "问\ufffd", "后来"]  # bad bytes replaced, a bad line skipped
    assert rows[0]["vote"] == "up" and rows[0]["article_id"] == "reg#1-0"  # record() passes every field on


@pytest.mark.parametrize(("body", "message"), [
    ({"q": "质量", "k": "three"}, "k 必须是整数 (k must be a whole number)"),
    ({"q": "质量", "k": True}, "k 必须是整数 (k must be a whole number)"),
    ({"q": "质量", "mode": 3}, "mode 须为 hybrid、dense 或 lexical (mode must be hybrid, dense or lexical)"),
    ({"q": "质量", "history": "示例条例第二条"}, "history 须为问题列表 (history must be a list of earlier questions)"),
    ({"q": "质量", "regulation": {"$ne": ""}},
     "regulation 须为法规名称或名称列表 (regulation must be a name or a list of names)"),
    ({"q": "质量", "regulation": 5},
     "regulation 须为法规名称或名称列表 (regulation must be a name or a list of names)"),
])
def test_bad_search_input_gets_its_exact_message(api, body, message):
    assert api.post("/api/search", json=body).json() == {"error": message}


def test_bodies_are_refused_with_their_exact_message_and_the_limit_is_inclusive(api):
    from retrieval.serving.http_api import MAX_BODY_BYTES

    for raw in (b"[1]", b"{oops"):
        r = api.post("/api/search", content=raw, headers={"content-type": "application/json"})
        assert r.json() == {"error": "请求须为 JSON 对象 (the body must be a JSON object)"}

    def exactly_the_limit():  # streamed without Content-Length: read up to the limit, not refused at it
        head = '{"q": "质"'.encode()
        body = head + b" " * (MAX_BODY_BYTES - len(head) - 1) + b"}"  # JSON may be padded with spaces
        assert len(body) == MAX_BODY_BYTES
        yield body[:100]
        yield body[100:]

    r = api.post("/api/search", content=exactly_the_limit(), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json()["query"] == "质"
    assert api.get("/redoc").status_code == 404  # no page that loads its script from a CDN


def test_the_service_keys_its_cache_by_k_mode_and_filter_and_logs_the_build(fake, tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    service = _service(fake, feedback=FeedbackLog(tmp_path))
    measure = next(r.id for r in fake.regulations if r.title == MEASURE)
    assert not service.search("质量", 2).cached and not service.search("质量", 3).cached
    assert not service.search("质量", 3, None, [measure]).cached and service.search("质量", 3, "hybrid").cached
    history = ["示例条例第二条"]
    first = service.converse("下一条", history, 1, None)
    assert first.engine.retriever is fake
    assert service.converse("下一条", history, 1, "hybrid").cached  # no mode is hybrid
    assert not service.converse("下一条", history, 3).cached
    dense = service.converse("下一条", history, 3, "dense")
    assert not dense.cached and dense.response.to_json() == fake.search(
        dense.understood.query, k=3, mode="dense", regulations=list(dense.understood.regulations)).to_json()
    gone = service.converse("下一条", ["示例条例第五条"], 3)
    assert gone.response.abstained
    assert list(service.abstentions.read())[-1]["build"] == fake.index.path.name


def test_the_pool_passes_keyword_arguments_and_counts_every_refusal():
    import asyncio

    from ingest.errors import ServiceBusy
    from retrieval.serving.admission import SearchPool

    pool = SearchPool(limit=1, retry_after_s=3)

    async def scenario():
        assert await pool.run(lambda a, b=0: a + b, 1, b=2) == 3
        with pool.slot():
            for _ in range(2):
                with pytest.raises(ServiceBusy) as busy:
                    await pool.run(lambda: None)
                assert busy.value.retry_after_s == 3

    asyncio.run(scenario())
    assert pool.stats() == {"in_flight": 0, "limit": 1, "admitted": 2, "refused": 2}
    with pytest.raises(ValueError) as info:
        SearchPool(limit=0)
    assert str(info.value) == "the pool needs at least one slot"
    pool.shutdown()


def test_more_than_nine_rolled_files_are_read_oldest_first(tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog

    log = FeedbackLog(tmp_path, max_bytes=200, keep=15)
    for i in range(40):
        log.record("abstained", f"问题{i:02d}", "b")
    names = [p.name for p in log.files()]
    assert len(names) == 15 and names[:2] == ["feedback-14.jsonl", "feedback-13.jsonl"]  # by number, not by text
    questions = [r["question"] for r in log.read()]
    assert questions == sorted(questions) and questions[-1] == "问题39"


def test_a_pool_runs_as_many_searches_at_once_as_its_workers_whatever_the_cores():
    import asyncio
    import threading

    from retrieval.serving.admission import SearchPool

    limit = 40  # more than any default thread count of a ThreadPoolExecutor (min(32, cores + 4))
    pool = SearchPool(limit=limit, workers=limit)
    together = threading.Barrier(limit, timeout=10)  # each search waits until all of them are running

    async def scenario():
        return await asyncio.gather(*(pool.run(together.wait) for _ in range(limit)))

    try:
        arrived = asyncio.run(scenario())
    finally:
        together.abort()
        pool.shutdown()
    assert sorted(arrived) == list(range(limit))  # no admitted search waited for another one to finish


def test_searches_beyond_the_workers_wait_their_turn_in_arrival_order_and_beyond_the_limit_are_refused():
    import asyncio
    import threading
    import time

    from ingest.errors import ServiceBusy
    from retrieval.serving.admission import DEFAULT_WORKERS, SearchPool

    assert SearchPool().workers == DEFAULT_WORKERS and SearchPool(limit=2).workers == 2  # never more than the limit
    with pytest.raises(ValueError, match="at least one worker"):
        SearchPool(workers=0)
    pool = SearchPool(limit=6, workers=2)
    lock = threading.Lock()
    release = threading.Event()  # the searches hold their places until the seventh has been refused
    running, most, started = 0, 0, []

    def search(i: int) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
            started.append(i)
        release.wait(10)
        time.sleep(0.01)  # long enough for a third search to overlap, were it let in
        with lock:
            running -= 1
        return i

    async def scenario():
        waiting = []
        for i in range(6):
            waiting.append(asyncio.ensure_future(pool.run(search, i)))
            await asyncio.sleep(0)  # submitted one after the other
        try:
            with pytest.raises(ServiceBusy):  # the seventh finds the six slots taken, running or waiting
                await pool.run(search, 6)
        finally:
            release.set()
        return await asyncio.gather(*waiting)

    try:
        answered = asyncio.run(scenario())
    finally:
        pool.shutdown()
    assert answered == list(range(6)) and most == 2
    assert started == list(range(6))  # first come, first served
    assert pool.stats() == {"in_flight": 0, "limit": 6, "admitted": 6, "refused": 1}


def test_shutting_the_pool_down_does_not_wait_for_a_running_search():
    import asyncio
    import threading
    import time

    from retrieval.serving.admission import SearchPool

    pool = SearchPool(limit=2)
    started, finish = threading.Event(), threading.Event()

    def search() -> str:
        started.set()
        finish.wait(3)
        return "done"

    async def scenario():
        running = asyncio.ensure_future(pool.run(search))
        assert await asyncio.to_thread(started.wait, 10)
        t0 = time.monotonic()
        pool.shutdown()
        took = time.monotonic() - t0
        finish.set()
        assert await running == "done"  # the search that was running ends normally
        with pytest.raises(RuntimeError):  # nothing new is started after shutdown ...
            await pool.run(search)
        return took

    took = asyncio.run(scenario())
    assert took < 2, f"shutdown waited {took:.1f} s for the running search"
    assert pool.stats()["in_flight"] == 0  # ... and a refused start holds no slot


def test_a_pool_of_one_worker_runs_one_search_at_a_time_and_its_shutdown_drops_the_waiting_ones():
    import asyncio
    import threading

    from retrieval.serving.admission import SearchPool

    with pytest.raises(ValueError) as info:
        SearchPool(workers=0)
    assert str(info.value) == "the pool needs at least one worker"
    pool = SearchPool(limit=3, workers=1)  # REGQA_SEARCH_WORKERS=1
    started, finish = threading.Event(), threading.Event()
    ran = []

    def first() -> str:
        started.set()
        finish.wait(5)
        ran.append("first")
        return "first"

    def second() -> str:
        ran.append("second")
        return "second"

    async def scenario():
        running = asyncio.ensure_future(pool.run(first))
        assert await asyncio.to_thread(started.wait, 10)
        waiting = asyncio.ensure_future(pool.run(second))
        await asyncio.sleep(0.05)
        assert ran == [] and pool.in_flight == 2  # the second waits for the one worker
        pool.shutdown()  # the server stops: what is waiting is not started
        finish.set()
        assert await running == "first"
        with pytest.raises(asyncio.CancelledError):
            await waiting

    asyncio.run(scenario())
    assert ran == ["first"] and pool.stats()["in_flight"] == 0  # the dropped search holds no slot


# -- the feedback logs: what a caller and an operator read -------------------------------------------------------
@pytest.mark.parametrize(("kind", "vote", "message"), [
    ("like", "up", "kind must be one of answer, no_answer, abstained"),
    ("answer", None, "a vote is up or down, and only abstained events have none"),
    ("abstained", "up", "a vote is up or down, and only abstained events have none"),
    ("answer", "meh", "vote must be up or down"),
])
def test_an_event_outside_the_format_is_refused_with_what_the_format_allows(kind, vote, message):
    from retrieval.serving.feedback import event

    with pytest.raises(ValueError) as info:
        event(kind, "问题", "b1", vote=vote)
    assert str(info.value) == message


def test_the_abstentions_are_written_beside_the_votes_and_read_after_them(tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog, read_all

    votes = FeedbackLog(tmp_path, max_bytes=10_000, keep=2)
    abstained = votes.beside("abstained")
    assert (abstained.path.name, abstained.max_bytes, abstained.keep) == ("abstained.jsonl", 10_000, 2)
    abstained.record("abstained", "先弃权", "b1")
    votes.record("answer", "后投票", "b1", vote="up")
    assert sorted(p.name for p in tmp_path.glob("*.jsonl")) == ["abstained.jsonl", "feedback.jsonl"]
    assert [(r["kind"], r["question"]) for r in read_all(tmp_path)] == [("answer", "后投票"), ("abstained", "先弃权")]


def test_a_file_rolls_only_when_a_line_would_take_it_past_its_limit(tmp_path: Path):
    from retrieval.serving.feedback import FeedbackLog, event, json_line

    record = event("abstained", "问题", "b1")
    size = len(json_line(record))
    log = FeedbackLog(tmp_path, max_bytes=2 * size, keep=3)
    log.append(record)
    log.append(record)  # exactly at the limit: still one file
    assert [p.name for p in log.files()] == ["feedback.jsonl"] and log.path.stat().st_size == 2 * size
    log.append(record)  # past it: rolled
    assert [p.name for p in log.files()] == ["feedback-1.jsonl", "feedback.jsonl"]


def test_a_log_file_is_readable_by_all_and_writable_by_its_owner_only(tmp_path: Path):
    import os

    from retrieval.serving.feedback import FeedbackLog

    old = os.umask(0)  # the mode the log asks for, not the one the process's umask leaves of it
    try:
        FeedbackLog(tmp_path).record("abstained", "问题", "b1")
    finally:
        os.umask(old)
    assert (tmp_path / "feedback.jsonl").stat().st_mode & 0o777 == 0o644


def test_blank_lines_are_passed_over_and_a_damaged_line_is_named_by_file_and_line(tmp_path: Path, caplog):
    import logging

    from retrieval.serving.feedback import FeedbackLog

    log = FeedbackLog(tmp_path)
    log.record("abstained", "一", "b1")
    with log.path.open("a", encoding="utf-8") as f:
        f.write('\n   \n{"question": "torn\n')
    log.record("abstained", "二", "b1")
    with caplog.at_level(logging.WARNING, logger="retrieval.serving.feedback"):
        assert [r["question"] for r in log.read()] == ["一", "二"]
    assert [r.getMessage() for r in caplog.records] == [f"{log.path}:4 is not JSON; skipped"]


def test_a_failed_write_is_logged_with_the_file_and_the_reason(tmp_path: Path, caplog):
    import logging

    from retrieval.serving.feedback import FeedbackLog

    blocked = tmp_path / "file"
    blocked.write_text("x", encoding="utf-8")
    log = FeedbackLog(blocked / "feedback")
    with caplog.at_level(logging.WARNING, logger="retrieval.serving.feedback"):
        log.record("abstained", "问题", "b1")
    [message] = [r.getMessage() for r in caplog.records]
    assert message.startswith(f"could not write feedback to {log.path}: [Errno 20] Not a directory")


def test_what_is_loaded_is_put_out_of_the_collectors_sight_and_a_reload_lets_the_old_cycles_go():
    import gc
    import weakref

    from retrieval.serving.engines import settle_heap

    class Build:  # an object of a loaded build that refers to itself, as parsed structures do
        pass

    old = Build()
    old.me = old
    gone = weakref.ref(old)
    try:
        settle_heap()
        assert gc.get_freeze_count() > 0  # full collections no longer walk what was loaded
        del old
        gc.collect()
        assert gone() is not None  # frozen: a collection does not look at it ...
        settle_heap()  # ... until the next load (a new build switched in) unfreezes first
        assert gone() is None
    finally:
        gc.unfreeze()
