"""FAISS index types at the library's size: `python -m eval.bench.faiss_types [--index DIR] [--size 160000]`.

The library holds ~160k chunks (the national part ~66k). This prints, for Flat, HNSW32 and IVF (Flat and PQ), each
built exactly as `python -m ingest build` builds it: build time, size, recall@10 against exact search (from a k=100
search, as the Retriever asks) and single-query latency on one thread. Vectors: the real ones of a built library
index (`--index`, default data/index-library, else data/index-library-national), topped up to --size with
synthetic ones shaped like them (eval/bench/scale.py); without a library index, synthetic vectors shaped like the
served index's. Queries: real STARD questions on the library, embedded by the bundled model. Figures also go to
bench-output/faiss_types.json. Run it on a quiet machine; the figures are medians over --repeats.
"""

from __future__ import annotations

import argparse
import json
import logging
import tempfile
from pathlib import Path

import numpy as np

from eval.bench.common import OUT, REPO, machine, questions, table
from eval.bench.scale import bench_vectors, real_vectors, synthetic_vectors

LIBRARY_QUESTIONS = REPO / "data" / "benchmarks" / "stard-library" / "report.jsonl"
LIBRARY_INDEXES = (REPO / "data" / "index-library", REPO / "data" / "index-library-national")
FAMILIES = ["Flat", "HNSW32", "IVF-Flat", "IVF-PQ"]

log = logging.getLogger("eval.bench.faiss_types")


def cached_vectors(folder: Path) -> np.ndarray:
    """The vectors a running (or killed) build has kept in its index's embedding cache (ingest/embed_cache.py)."""
    parts = [np.load(f, allow_pickle=False) for f in sorted(folder.rglob("part-*.npy"))]
    if not parts:
        raise SystemExit(f"no embedding-cache parts under {folder}")
    return np.vstack(parts)


def library_vectors(index: Path | None, cache: Path | None = None) -> tuple[np.ndarray, str]:
    if cache is not None:
        return cached_vectors(cache), f"{cache.parent.name}'s embedding cache"
    for d in ([index] if index else list(LIBRARY_INDEXES)):
        if d is not None and (d / "CURRENT").is_file():
            return real_vectors(d), d.name
    return real_vectors(None), "served index"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.bench.faiss_types", description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=None, help="a library index whose vectors to use")
    ap.add_argument("--cache", type=Path, default=None,
                    help="take the real vectors from an index's embedding-cache folder (a build still running)")
    ap.add_argument("--size", type=int, default=160_000, help="vectors in the benchmark corpus (default 160,000)")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--latency-queries", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--types", default=",".join(FAMILIES), help=f"comma-separated, from {','.join(FAMILIES)}")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from ingest.embed import make_embedder
    from ingest.stores.faiss_store import set_threads

    set_threads(1)  # as a server searches: one thread per question
    real, source = library_vectors(args.index, args.cache)
    if len(real) >= args.size:
        x, label = real[: args.size], f"{args.size:,} real ({source})"
    else:
        extra = synthetic_vectors(real, args.size - len(real))
        x, label = np.vstack([real, extra]), f"{len(real):,} real ({source}) + {len(extra):,} synthetic"
    texts = questions(LIBRARY_QUESTIONS, n=args.queries, spread=True)
    q = make_embedder("bundled", job="query").embed_queries(texts)
    with tempfile.TemporaryDirectory() as work:
        rows = bench_vectors(label, x, q, args.types.split(","), args.repeats, args.latency_queries, Path(work))
    cols = ["type", "factory", "search", "shipped", "build_s", "size_mb", "recall@10", "p50_ms", "p95_ms"]
    print(f"{label}; {len(q)} STARD-library questions; {machine()}")
    print(table(rows, cols))
    OUT.mkdir(exist_ok=True)
    (OUT / "faiss_types.json").write_text(json.dumps({"corpus": label, "machine": machine(), "rows": rows},
                                                     ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
