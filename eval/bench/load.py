"""Load on the web app's `/search` API over loopback: `python -m eval.bench.load [--users 1,10,50]`.

Starts `python app.py` on a free port (or uses --url, with --pid for its memory), then for each number of
concurrent users sends a fixed number of real questions to `/search`, each user one request at a time:
over Gradio's plain HTTP API (`--client http`, the default: POST /gradio_api/call/search, then read the
event stream; light enough not to steal the app's CPU) or through `gradio_client` (`--client gradio`, the
documented Python client, which adds ~0.1 s and some CPU per request on the client side).

Reports per level: latency p50/p95/p99 of answered requests, throughput (answers/s), the share of
requests refused as busy (the queue was full: the user is told to try again) and the share that failed
otherwise, plus the app's peak RSS (psutil, sampled every 50 ms, children included).
Figures are medians over --runs runs; JSON goes to bench-output/load.json.
The load is bounded: a fixed number of requests, a timeout per request and a deadline per level.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import OUT, QUESTIONS, default_index, questions

BUSY_WORDS = ("queue is full", "busy", "try again")

log = logging.getLogger("eval.bench.load")


def pid_listening_on(url: str) -> int | None:
    import psutil

    port = int(url.rstrip("/").rsplit(":", 1)[-1])
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
            return c.pid
    return None


class RssMonitor:
    """Peak resident memory of a process and its children, sampled in the background."""

    def __init__(self, pid: int | None, interval: float = 0.05) -> None:
        import psutil

        self.proc = psutil.Process(pid) if pid else None
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def current(self) -> int:
        import psutil

        if self.proc is None:
            return 0
        try:
            procs = [self.proc, *self.proc.children(recursive=True)]
            return sum(p.memory_info().rss for p in procs)
        except psutil.Error:
            return 0

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(self.interval)

    def reset(self) -> None:
        self.peak = self.current()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def classify(exc: BaseException) -> tuple[str, str]:
    from gradio_client.exceptions import AppError

    message = str(exc) or type(exc).__name__
    if any(w in message.lower() for w in BUSY_WORDS):
        return "busy", message
    if isinstance(exc, AppError | AppRefused):
        return "refused", message  # a clear message about the question itself
    if isinstance(exc, TimeoutError):
        return "timeout", message
    return "error", f"{type(exc).__name__}: {message}"


class HttpUser:
    """One user on Gradio's HTTP API: POST the question, then read the result event."""

    def __init__(self, url: str, timeout: float) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=timeout)

    def ask(self, question: str, timeout: float) -> dict[str, Any]:
        r = self.http.post(f"{self.url}gradio_api/call/search", json={"data": [question, 5, "hybrid", None]})
        if r.status_code != 200:
            detail = r.json().get("detail") if "json" in r.headers.get("content-type", "") else r.text
            raise RuntimeError(f"HTTP {r.status_code}: {detail}")
        event_id = r.json()["event_id"]
        stream = self.http.get(f"{self.url}gradio_api/call/search/{event_id}").text
        kind, _, data = stream.strip().rpartition("event: ")[2].partition("\ndata: ")
        value = json.loads(data)
        if kind.strip() == "complete":
            return value[0]
        message = value.get("error") if isinstance(value, dict) else value
        raise AppRefused(str(message))

    def close(self) -> None:
        self.http.close()


class GradioUser:
    """One user through gradio_client, one session each."""

    def __init__(self, url: str, timeout: float) -> None:
        from gradio_client import Client

        self.client = Client(url, verbose=False)

    def ask(self, question: str, timeout: float) -> dict[str, Any]:
        return self.client.submit(question, api_name="/search").result(timeout=timeout)

    def close(self) -> None:
        self.client.close()


class AppRefused(Exception):
    """The app answered with a message instead of results."""


def run_level(url: str, users: int, n_requests: int, qs: list[str], timeout: float, deadline_s: float,
              seed: int, transport: str = "http") -> dict[str, Any]:
    make = HttpUser if transport == "http" else GradioUser
    clients = [make(url, timeout) for _ in range(users)]
    rng = random.Random(seed)
    order = [rng.choice(qs) for _ in range(n_requests)]
    lock = threading.Lock()
    next_i = 0
    records: list[tuple[str, float, str]] = []
    deadline = time.monotonic() + deadline_s

    def user(client: Any) -> None:
        nonlocal next_i
        while time.monotonic() < deadline:
            with lock:
                if next_i >= len(order):
                    return
                q = order[next_i]
                next_i += 1
            t0 = time.perf_counter()
            try:
                body = client.ask(q, timeout)
                good = isinstance(body, dict) and "results" in body
                outcome, detail = ("ok", "") if good else ("error", "not a search result")
            except Exception as exc:
                outcome, detail = classify(exc)
            latency = 1000 * (time.perf_counter() - t0)
            with lock:
                records.append((outcome, latency, detail))
            if outcome == "busy":
                time.sleep(rng.uniform(0.2, 0.6))  # a user told to try again waits a moment first

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for c in clients:
        try:
            c.close()
        except Exception:
            pass
    counts = Counter(o for o, _, _ in records)
    ok = [lat for o, lat, _ in records if o == "ok"]
    total = len(records)

    def p(q: float) -> float:
        return float(np.percentile(ok, q)) if ok else float("nan")

    return {
        "users": users, "requests": total, "ok": counts["ok"], "busy": counts["busy"],
        "refused": counts["refused"], "errors": counts["error"] + counts["timeout"],
        "p50_ms": p(50), "p95_ms": p(95), "p99_ms": p(99), "seconds": wall,
        "throughput_rps": counts["ok"] / wall if wall else 0.0,
        "busy_rate": counts["busy"] / total if total else 0.0,
        "error_rate": (counts["error"] + counts["timeout"]) / total if total else 0.0,
        "messages": sorted({d for o, _, d in records if o != "ok"})[:5],
        "unfinished": n_requests - total,
    }


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(runs[-1])
    for key, value in runs[0].items():
        if isinstance(value, int | float) and key != "users":
            vals = [r[key] for r in runs if not (isinstance(r[key], float) and np.isnan(r[key]))]
            out[key] = statistics.median(vals) if vals else float("nan")
    out["messages"] = sorted({m for r in runs for m in r["messages"]})[:5]
    out["runs"] = len(runs)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    cols = ["users", "requests", "p50_ms", "p95_ms", "p99_ms", "throughput_rps", "busy_rate", "error_rate",
            "peak_rss_mb"]
    lines = ["  ".join(f"{c:>14}" for c in cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            cells.append(f"{v:>14.3f}" if isinstance(v, float) else f"{v!s:>14}")
        lines.append("  ".join(cells))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start `python app.py` on a free port)")
    parser.add_argument("--pid", type=int, help="the running app's process id, for its memory (with --url)")
    parser.add_argument("--index", type=Path, default=None,
                        help="index the started app serves (default: $REGQA_INDEX, else data/index)")
    parser.add_argument("--users", default="1,10,50", help="concurrent users per level (comma-separated)")
    parser.add_argument("--requests", type=int, default=200, help="requests per level and run")
    parser.add_argument("--runs", type=int, default=3, help="runs per level; medians are reported")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds before one request counts as failed")
    parser.add_argument("--deadline", type=float, default=600.0, help="seconds at most per level and run")
    parser.add_argument("--client", choices=("http", "gradio"), default="http",
                        help="how users call /search: plain HTTP (default) or gradio_client")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    for noisy in ("httpx", "gradio_client"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    app = contextlib.ExitStack()
    if args.url:
        url = args.url if args.url.endswith("/") else args.url + "/"
        pid = args.pid or pid_listening_on(url)
    else:
        from eval.app_server import running_app  # the same launcher the browser and API tests use

        index = args.index or default_index()
        log.info("starting the app on %s", index)
        url = app.enter_context(running_app(index, timeout=300))
        pid = pid_listening_on(url)
    monitor = RssMonitor(pid)
    qs = questions(QUESTIONS)
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    result: dict[str, Any] = {"url": url, "app_pid": pid, "cpus": os.cpu_count(), "client": args.client,
                              "requests_per_level": args.requests, "runs": args.runs, "levels": []}
    try:
        from gradio_client import Client

        warm = Client(url, verbose=False)
        for q in qs[:5]:
            warm.predict(q, api_name="/search")
        result["idle_rss_mb"] = monitor.current() / 2**20
        for users in levels:
            runs = []
            monitor.reset()
            for run in range(args.runs):
                r = run_level(url, users, args.requests, qs, args.timeout, args.deadline,
                              seed=1000 * users + run, transport=args.client)
                log.info("%d users, run %d: p50 %.0f ms, p95 %.0f ms, %.1f answers/s, busy %.0f%%, "
                         "errors %.0f%%",
                         users, run + 1, r["p50_ms"], r["p95_ms"], r["throughput_rps"], 100 * r["busy_rate"],
                         100 * r["error_rate"])
                runs.append(r)
            row = median_of(runs)
            row["peak_rss_mb"] = monitor.peak / 2**20
            result["levels"].append(row)
        result["peak_rss_mb"] = max(r["peak_rss_mb"] for r in result["levels"]) if result["levels"] else 0.0
    finally:
        monitor.close()
        app.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(table(result["levels"]))
    for r in result["levels"]:
        if r["messages"]:
            print(f"{r['users']} users — what users were told: {r['messages']}")
    print(f"app peak RSS {result['peak_rss_mb']:.0f} MB (idle after warm-up {result['idle_rss_mb']:.0f} MB); "
          f"wrote {args.out / 'load.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
