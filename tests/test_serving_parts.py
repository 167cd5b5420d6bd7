"""The answer cache and the search pool on their own (fast; no model)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from ingest.errors import QueryError, QueryTooLong, RegQAError, ServiceBusy
from retrieval.serving.admission import SearchPool
from retrieval.serving.answer_cache import AnswerCache, cache_key
from retrieval.serving.service import ServingSettings, as_k


def _sized(value: str) -> int:
    return len(value)


# -- cache -----------------------------------------------------------------------------------------------
def test_a_repeated_question_is_a_hit_until_a_new_build_serves() -> None:
    cache = AnswerCache(10, 10_000, size_of=_sized)
    key = cache_key("湖北条例第二十三条", 5, "hybrid", None)
    assert cache.get("build-1", key) is None
    cache.put("build-1", key, "answer")
    assert cache.get("build-1", key) == "answer"
    assert cache.get("build-2", key) is None  # a new build empties the cache
    assert cache.stats()["entries"] == 0
    cache.put("build-1", key, "late answer of the old build")  # finished after the switch: not kept
    assert cache.get("build-2", key) is None
    assert (cache.hits, cache.misses) == (1, 3)


def test_the_key_is_the_cleaned_question_and_the_filter_as_a_set() -> None:
    assert cache_key("  湖北条例\u200b第二十三条 ", 5, "hybrid", ["b", "a"]) == \
        cache_key("湖北条例 第二十三条", 5, "hybrid", ["a", "b", "a"])
    assert cache_key("质量", 5, "hybrid", None) != cache_key("质量", 3, "hybrid", None)
    assert cache_key("质量", 5, "hybrid", None) != cache_key("质量", 5, "dense", None)
    with pytest.raises(QueryError):
        cache_key("   ", 5, "hybrid", None)
    with pytest.raises(QueryTooLong):
        cache_key("质" * 1001, 5, "hybrid", None)
    with pytest.raises(QueryError, match="by name"):
        cache_key("质量", 5, "hybrid", [{"$ne": ""}])


def test_the_least_recently_used_answers_go_first_when_full() -> None:
    cache = AnswerCache(max_entries=3, max_bytes=10_000, size_of=_sized)
    for q in "abcd":
        cache.put("b", q, q)
        if q == "c":
            assert cache.get("b", "a") == "a"  # a is used again, so b is the oldest
    assert cache.get("b", "b") is None
    assert [cache.get("b", q) for q in "acd"] == ["a", "c", "d"]


def test_the_cache_holds_at_most_its_bytes() -> None:
    from retrieval.serving.answer_cache import _key_bytes

    entry = 4 + _key_bytes(1)  # a 4-character answer and its key
    cache = AnswerCache(max_entries=100, max_bytes=2 * entry + entry // 2, size_of=_sized)
    cache.put("b", 1, "xxxx")
    cache.put("b", 2, "yyyy")
    cache.put("b", 3, "zzzz")  # three do not fit: the oldest goes
    assert cache.get("b", 1) is None and cache.stats()["bytes"] == 2 * entry
    cache.put("b", 4, "w" * 3 * entry)  # larger than the whole cache: not kept, nothing evicted for it
    assert cache.get("b", 4) is None and cache.stats()["entries"] == 2


@pytest.mark.integration  # the real index and the bundled model
def test_a_real_answer_is_counted_without_the_articles_the_index_holds(retriever) -> None:
    from retrieval.serving.answer_cache import response_bytes

    response = retriever.search("湖北条例第二十三条", k=5)
    assert 200 < response_bytes(response) < 5000  # the article texts are shared with the index


# -- pool ------------------------------------------------------------------------------------------------
def test_the_pool_refuses_at_once_when_full_and_frees_the_slot_afterwards() -> None:
    pool = SearchPool(limit=1, retry_after_s=2)
    release = threading.Event()
    started = threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "done"

    async def scenario() -> None:
        first = asyncio.ensure_future(pool.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        with pytest.raises(ServiceBusy) as busy:
            await pool.run(lambda: "never runs")
        assert busy.value.retry_after_s == 2
        assert "try again" in str(busy.value) and "稍后再试" in str(busy.value)
        release.set()
        assert await first == "done"
        assert await pool.run(lambda: "next") == "next"

    asyncio.run(scenario())
    assert pool.stats() == {"in_flight": 0, "limit": 1, "admitted": 2, "refused": 1}
    pool.shutdown()


def test_a_failing_search_frees_its_slot_and_reaches_its_caller() -> None:
    pool = SearchPool(limit=1)

    def fail() -> None:
        raise QueryError("bad question")

    async def scenario() -> None:
        with pytest.raises(QueryError, match="bad question"):
            await pool.run(fail)
        with pool.slot():
            with pytest.raises(ServiceBusy):
                await pool.run(lambda: None)
        assert await pool.run(lambda: 7) == 7

    asyncio.run(scenario())
    assert pool.in_flight == 0
    pool.shutdown()


def test_a_caller_who_stops_waiting_holds_the_slot_until_the_work_ends() -> None:
    pool = SearchPool(limit=1)
    release = threading.Event()
    started = threading.Event()

    def slow() -> None:
        started.set()
        release.wait(10)

    async def scenario() -> None:
        task = asyncio.ensure_future(pool.run(slow))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert pool.in_flight == 1  # the search still runs: no second one may start beside it
        release.set()
        for _ in range(100):
            if pool.in_flight == 0:
                break
            await asyncio.sleep(0.01)
        assert pool.in_flight == 0

    asyncio.run(scenario())
    pool.shutdown()


# -- settings --------------------------------------------------------------------------------------------
def test_settings_come_from_the_environment_and_bad_values_are_named() -> None:
    s = ServingSettings.from_env({"REGQA_MAX_INFLIGHT": "3", "REGQA_BATCH_WAIT_MS": "250",
                                  "REGQA_CACHE_MB": "0.5", "REGQA_CACHE_ENTRIES": "0"})
    assert (s.max_inflight, s.batch_wait_s, s.cache_bytes, s.cache_entries) == (3, 0.25, 2**19, 0)
    assert ServingSettings.from_env({}) == ServingSettings()
    with pytest.raises(RegQAError, match="REGQA_MAX_INFLIGHT"):
        ServingSettings.from_env({"REGQA_MAX_INFLIGHT": "many"})
    with pytest.raises(RegQAError, match="at least 1"):
        ServingSettings.from_env({"REGQA_MAX_INFLIGHT": "0"})


@pytest.mark.parametrize(("raw", "expected"), [(None, 5), ("", 5), (3, 3), ("3", 3), (3.0, 3), ("4.0", 4)])
def test_k_from_a_form_or_request(raw, expected) -> None:
    assert as_k(raw, 5) == expected


@pytest.mark.parametrize("raw", ["three", "NaN", "inf", True, [3], {"k": 3}, 2.6, "1.5"])
def test_k_that_is_not_a_number_is_refused(raw) -> None:
    with pytest.raises(QueryError, match="whole number"):
        as_k(raw, 5)


# -- the JSON API on a fake engine (fast; the real app is tested in test_http_api.py) ----------------------
class _NoIndex:
    def __call__(self):
        from ingest.errors import IndexFault

        raise IndexFault("no index at data/index/: build it with `python -m ingest build`")


def _broken():
    """An engine whose search fails in an unexpected way."""
    from types import SimpleNamespace

    def search(*args, **kwargs):
        raise RuntimeError("boom at 0x7f00")

    index = SimpleNamespace(path=SimpleNamespace(name="build-1"))
    return SimpleNamespace(retriever=SimpleNamespace(index=index, search=search), rows=[])


def _client(engine):
    from fastapi.testclient import TestClient

    from retrieval.serving.http_api import build_api
    from retrieval.serving.service import SearchService

    return TestClient(build_api(SearchService(engine, ServingSettings(max_inflight=2))), raise_server_exceptions=False)


def test_without_an_index_every_route_says_so_with_503_and_retry_after() -> None:
    client = _client(_NoIndex())
    for r in (client.get("/api/health"), client.get("/api/regulations"), client.get("/api/search?q=质量")):
        assert r.status_code == 503 and int(r.headers["retry-after"]) >= 1
        assert list(r.json()) == ["error"] and "ingest build" in r.json()["error"]


def test_an_unexpected_failure_is_a_short_json_500_without_internals() -> None:
    r = _client(_broken).get("/api/search", params={"q": "质量"})
    assert r.status_code == 500
    assert r.json() == {"error": "检索时出错，请稍后再试 (something went wrong; please try again)"}
