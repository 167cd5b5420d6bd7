"""The serving room's own regressions (retrieval/serving/: service, answer_cache, admission, http_api, feedback),
fast: the fixtures indexed with the fake embedder of tests/conftest.py (no model) and FastAPI's TestClient (no
server, no browser). Each test names the change it catches (tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from retrieval.serving.service import SearchService, ServingSettings
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
