"""The FAISS vector store on its own (no model): index type by size, saved search settings, exact filters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ingest.stores.faiss_store import HNSW_EF_SEARCH, IVF_NPROBE, FaissStore, choose_factory
from ingest.stores.vector_store import VectorStore, build_store, load_store

FACTORIES = ("Flat", "IVF32,Flat", "HNSW16")


@pytest.fixture(scope="module")
def corpus() -> tuple[np.ndarray, list[str]]:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((4_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    regulations = ["small" if i % 50 == 0 else "big" if i % 2 else "other" for i in range(len(vectors))]
    return vectors, regulations


def test_index_type_by_corpus_size():
    assert choose_factory(1_485) == "Flat" and choose_factory(50_000) == "Flat"
    assert choose_factory(100_000) == "IVF256,Flat" and choose_factory(1_000_000) == "IVF1024,Flat"
    assert choose_factory(10, "HNSW32") == "HNSW32"


@pytest.mark.parametrize(("factory", "expected"), [
    ("Flat", {}), ("IVF32,Flat", {"nprobe": IVF_NPROBE}), ("HNSW16", {"efSearch": HNSW_EF_SEARCH})])
def test_search_settings_survive_saving(corpus, tmp_path: Path, factory: str, expected: dict):
    vectors, regulations = corpus
    store = build_store(vectors, regulations, factory)
    assert isinstance(store, VectorStore) and store.settings == {"factory": factory, "metric": "inner_product"}
    store.save(tmp_path)
    loaded = load_store(tmp_path, {"faiss": store.settings}, regulations)
    assert isinstance(loaded, FaissStore) and loaded.search_params() == expected
    assert (loaded.count, loaded.dim) == (4_000, 32)
    assert np.array_equal(loaded.search(vectors[:5], 10)[1], store.search(vectors[:5], 10)[1])


@pytest.mark.parametrize("factory", FACTORIES)
def test_stored_vectors_come_back(corpus, factory: str):
    vectors, regulations = corpus
    store = build_store(vectors, regulations, factory)
    np.testing.assert_allclose(store.vectors([0, 7, 3999]), vectors[[0, 7, 3999]], atol=1e-6)
    assert store.vectors([]).shape == (0, 32)


def test_a_filter_is_exact_on_flat(corpus):
    vectors, regulations = corpus
    store = build_store(vectors, regulations, "Flat")
    queries = vectors[1:4]
    scores, ids = store.search(queries, 10, {"small"})
    allowed = np.array([r == "small" for r in regulations])
    sims = queries @ vectors.T
    sims[:, ~allowed] = -np.inf
    expected = np.argsort(-sims, axis=1)[:, :10]
    assert np.array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(sims, expected, axis=1), atol=1e-5)


@pytest.mark.parametrize("factory", FACTORIES)
def test_a_filter_returns_only_the_chosen_regulations(corpus, factory: str):
    vectors, regulations = corpus
    store = build_store(vectors, regulations, factory)
    _, ids = store.search(vectors[:20], 30, ["small", "other"])
    found = [regulations[i] for i in ids.ravel() if i >= 0]
    assert found and set(found) <= {"small", "other"}
    _, ids = store.search(vectors[:3], 100, {"small"})  # 80 "small" rows in all: fewer than k
    assert ((ids >= 0).sum(axis=1) <= 80).all() and (ids[ids >= 0] % 50 == 0).all()


def test_a_narrow_filter_on_hnsw_finds_what_exact_search_finds(corpus):
    """A graph walk meets few rows of a filter that allows 2 % of them; the narrow filter is searched exactly."""
    vectors, regulations = corpus
    hnsw, flat = build_store(vectors, regulations, "HNSW16"), build_store(vectors, regulations, "Flat")
    for k in (10, 80):  # 80: every row of "small"
        h_scores, h_ids = hnsw.search(vectors[:5], k, {"small"})
        f_scores, f_ids = flat.search(vectors[:5], k, {"small"})
        assert np.array_equal(h_ids, f_ids) and (h_ids >= 0).all()
        np.testing.assert_allclose(h_scores, f_scores, atol=1e-5)


def test_a_filter_naming_no_stored_regulation_finds_nothing(corpus):
    vectors, regulations = corpus
    _, ids = build_store(vectors, regulations, "Flat").search(vectors[:2], 5, {"nowhere"})
    assert (ids == -1).all()


def test_k_beyond_the_store_and_an_empty_store():
    store = FaissStore.build(np.eye(3, 8, dtype=np.float32), ["a", "b", "c"])
    scores, ids = store.search(np.eye(1, 8, dtype=np.float32), 10)
    assert ids[0, 0] == 0 and sorted(ids[0].tolist()) == [0, 1, 2] and scores[0, 0] == pytest.approx(1.0)
    assert store.search(np.eye(1, 8, dtype=np.float32), 10, {"b"})[1].tolist() == [[1, -1, -1]]
    empty = FaissStore.build(np.zeros((0, 8), np.float32), [])
    assert empty.count == 0 and empty.search(np.eye(1, 8, dtype=np.float32), 5)[1].shape == (1, 0)
