"""The question batcher with a fake model: concurrent callers share batches, each gets its own vectors,
and a question the model cannot embed fails only its own caller. The real model is exercised by
`test_batched_search_answers_exactly_like_one_at_a_time` and by the API tests against the real app."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from ingest.embed import Embedder
from ingest.errors import EmbedderError
from retrieval.serving.batcher import LONG_TEXT_CHARS, BatchingEmbedder


class FakeModel:
    """Vectors that name their text: "q-17" -> [17, 1, 0, 0]. A text containing "BAD" breaks any call."""

    model_id = "fake"
    engine = "fake"
    dim = 4
    max_tokens = 512

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls: list[list[str]] = []
        self._lock = threading.Lock()

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            self.calls.append(list(texts))
        time.sleep(self.delay_s)
        if any("BAD" in t for t in texts):
            raise ValueError("this text cannot be embedded")
        return np.array([[float(t.rsplit("-", 1)[1]), 1, 0, 0] for t in texts], dtype=np.float32)

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        return self.embed_queries(texts)


def _ask_at_once(batcher: BatchingEmbedder, texts: list[str]) -> dict[str, object]:
    """Every text from its own thread, released together; returns each thread's vector or exception."""
    out: dict[str, object] = {}
    start = threading.Barrier(len(texts))

    def ask(text: str) -> None:
        start.wait()
        try:
            out[text] = batcher.embed_queries([text])
        except Exception as exc:
            out[text] = exc

    threads = [threading.Thread(target=ask, args=(t,)) for t in texts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return out


def test_it_is_an_embedder_of_the_same_model() -> None:
    batcher = BatchingEmbedder(FakeModel())
    try:
        assert isinstance(batcher, Embedder)
        assert (batcher.model_id, batcher.engine, batcher.dim) == ("fake", "fake", 4)
    finally:
        batcher.close()


def test_concurrent_questions_are_embedded_together_and_each_caller_gets_its_own() -> None:
    model = FakeModel(delay_s=0.02)  # while one batch runs, the others queue up
    batcher = BatchingEmbedder(model, max_batch=8, max_wait_s=0.005)
    try:
        texts = [f"q-{i}" for i in range(40)]
        got = _ask_at_once(batcher, texts)
    finally:
        batcher.close()
    for text in texts:
        vec = got[text]
        assert isinstance(vec, np.ndarray), vec
        assert vec.shape == (1, 4) and vec[0, 0] == float(text.split("-")[1])
    assert sorted(t for call in model.calls for t in call) == sorted(texts)  # each embedded exactly once
    assert len(model.calls) < len(texts) / 2  # batched, not one call per question
    assert max(len(call) for call in model.calls) <= 8


def test_several_engines_share_the_work_and_answers_still_reach_their_callers() -> None:
    models = [FakeModel(delay_s=0.02), FakeModel(delay_s=0.02)]
    batcher = BatchingEmbedder(models, max_batch=4, max_wait_s=0.005)
    try:
        texts = [f"q-{i}" for i in range(40)]
        got = _ask_at_once(batcher, texts)
    finally:
        batcher.close()
    assert all(got[t][0, 0] == float(t.split("-")[1]) for t in texts)
    assert all(m.calls for m in models)  # both instances embedded some
    assert sorted(t for m in models for call in m.calls for t in call) == sorted(texts)


def test_passages_go_in_one_part_per_engine_and_come_back_in_order() -> None:
    models = [FakeModel(), FakeModel()]
    batcher = BatchingEmbedder(models)
    try:
        vecs = batcher.embed_documents([f"p-{i}" for i in range(7)])
    finally:
        batcher.close()
    assert vecs[:, 0].tolist() == [float(i) for i in range(7)]
    assert sorted(len(call) for m in models for call in m.calls) == [3, 4]


def test_engines_of_different_models_are_refused() -> None:
    class Other(FakeModel):
        model_id = "other"

    with pytest.raises(EmbedderError, match="same model"):
        BatchingEmbedder([FakeModel(), Other()])


def test_a_question_the_model_cannot_embed_fails_only_its_caller() -> None:
    model = FakeModel()
    batcher = BatchingEmbedder(model, max_batch=32, max_wait_s=0.5)  # a long wait: all land in one batch
    try:
        texts = [f"q-{i}" for i in range(6)] + ["BAD-99"]
        got = _ask_at_once(batcher, texts)
    finally:
        batcher.close()
    assert isinstance(got["BAD-99"], ValueError)
    for text in texts[:-1]:
        assert isinstance(got[text], np.ndarray), got[text]
        assert got[text][0, 0] == float(text.split("-")[1])
    assert sorted(model.calls[0]) == sorted(texts)  # the failed batch held everyone
    assert sum(call == ["BAD-99"] for call in model.calls) == 1  # then each was embedded alone


def test_a_long_question_is_embedded_apart_from_the_short_ones() -> None:
    model = FakeModel()
    batcher = BatchingEmbedder(model, max_batch=32, max_wait_s=0.3)
    long_text = "长" * (LONG_TEXT_CHARS + 1) + "-7"
    try:
        got = _ask_at_once(batcher, ["q-1", "q-2", long_text])
    finally:
        batcher.close()
    assert all(isinstance(v, np.ndarray) for v in got.values())
    assert [long_text] in model.calls
    assert all(long_text not in call or call == [long_text] for call in model.calls)


def test_a_request_of_several_texts_gets_its_rows_in_order() -> None:
    batcher = BatchingEmbedder(FakeModel())
    try:
        vecs = batcher.embed_queries(["q-3", "q-1", "q-2"])
        assert vecs[:, 0].tolist() == [3.0, 1.0, 2.0]
        assert batcher.embed_queries([]).shape == (0, 4)
    finally:
        batcher.close()


def test_passages_are_embedded_on_the_same_thread_as_the_questions() -> None:
    threads: list[str] = []

    class Recording(FakeModel):
        def embed_queries(self, texts: list[str]) -> np.ndarray:
            threads.append(threading.current_thread().name)
            return super().embed_queries(texts)

        def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
            threads.append(threading.current_thread().name)
            return super().embed_queries(texts)

    batcher = BatchingEmbedder(Recording())
    try:
        assert batcher.embed_documents(["p-5", "p-6"])[:, 0].tolist() == [5.0, 6.0]
        assert batcher.embed_queries(["q-1"])[0, 0] == 1.0
    finally:
        batcher.close()
    assert threads == ["query-batcher-0", "query-batcher-0"]  # the model is never used from two threads


def test_a_model_answering_the_wrong_shape_is_an_error_not_a_wrong_vector() -> None:
    class Short(FakeModel):
        def embed_queries(self, texts: list[str]) -> np.ndarray:
            return np.zeros((len(texts) - 1, 4), np.float32)

    batcher = BatchingEmbedder(Short())
    try:
        with pytest.raises(EmbedderError, match="returned"):
            batcher.embed_queries(["q-1", "q-2"])
    finally:
        batcher.close()


def test_a_closed_batcher_refuses_new_questions() -> None:
    batcher = BatchingEmbedder(FakeModel())
    batcher.close()
    with pytest.raises(EmbedderError, match="shut down"):
        batcher.embed_queries(["q-1"])


@pytest.mark.integration
def test_batched_search_answers_exactly_like_one_at_a_time(real_index) -> None:
    """The real model through the batcher (two single-threaded instances, as the app runs it), 12 searches
    at once: the same JSON as the plain Retriever, which embeds each question alone as the command line does."""
    from ingest.embed import make_embedder
    from retrieval.retriever import Retriever

    questions = ["湖北条例第二十三条", "企业要不要配专门管质量的人？", "政府对质量奖励有哪些规定？",
                 "When does the Hangzhou measure take effect?", "今天杭州天气怎么样", "首席质量官",
                 "质量品牌建设", "杭州办法第12条", "标准化工作", "计量检测", "消费者权益", "质量诚信体系"]
    plain = Retriever(real_index, embedder=make_embedder("bundled", job="query"))  # as `retrieval search`
    expected = {q: plain.search(q, k=5).to_json() for q in questions}
    engines = [make_embedder("bundled", job="batched-queries") for _ in range(2)]  # as the app runs them
    batcher = BatchingEmbedder(engines, max_batch=32, max_wait_s=0.05)
    batched = Retriever(real_index, embedder=batcher)
    got: dict[str, dict] = {}
    start = threading.Barrier(len(questions))

    def ask(q: str) -> None:
        start.wait()
        got[q] = batched.search(q, k=5).to_json()

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    batcher.close()
    assert got == expected
    assert batcher.batches < len(questions)
