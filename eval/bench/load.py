"""Load on the web app over loopback: `python -m eval.bench.load [--routes api,page] [--users 1,10,50,200]`.

Starts `python app.py` on a free port (or uses --url, with --pid for its memory) and measures:

- closed loop: N users, each sending its next question as soon as the last one is answered, for
  --seconds per level, over each route: `api` (GET /api/search, the JSON API), `page` (the chat's own
  route: Gradio's queue/join + event stream, with the rendered reply, as the browser does it) and
  `gradio` (Gradio's `/search` endpoint over plain HTTP). Every question is distinct (STARD's questions
  and the project's own question files; once they run out, the next pass asks with another k), so the
  answer cache never flatters the figures; the API's X-Cache header confirms it.
- open loop (--rates): questions arrive at a fixed rate whatever the answers do; reports each rate and
  the highest one answered with p95 ≤ --target-p95 seconds, no errors and no one told busy.
- cache hits (--cache): the same questions asked again, answered from the cache.
- cold start (--cold-start N): seconds from starting `python app.py` to the first answer (the launcher
  polls readiness every 0.3 s, so figures may be up to 0.3 s high).

Per level: latency p50/p95/p99 of answered requests, answers/s, the share told busy (try again) and
the share that failed otherwise, and the app's resident memory (psutil, every 50 ms, children included)
at the start, end and peak of the level. JSON goes to bench-output/load.json. Everything is bounded: a
duration per level, a timeout per request.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.common import OUT, REPO, STARD, default_index, machine

QUESTION_FILES = [STARD / "dev.jsonl", STARD / "test.jsonl",
                  REPO / "data" / "questions" / "dev.jsonl", REPO / "data" / "questions" / "test.jsonl"]
BUSY_WORDS = ("稍后再试", "try again", "queue is full")
K_PASSES = (5, 4, 6, 3, 7, 2, 8)  # k of each pass through the questions: a new pass is a new cache key

log = logging.getLogger("eval.bench.load")


def pid_listening_on(url: str) -> int | None:
    import psutil

    port = int(url.rstrip("/").rsplit(":", 1)[-1])
    for c in psutil.net_connections(kind="tcp"):
        if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN:
            return c.pid
    return None


class RssMonitor:
    """Resident memory of a process and its children, sampled in the background."""

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

    def reset(self) -> int:
        self.peak = self.current()
        return self.peak

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


# -- questions -------------------------------------------------------------------------------------------
def load_questions(files: list[Path] = QUESTION_FILES) -> list[str]:
    """Distinct questions from the files that exist, shuffled with a fixed seed."""
    seen: dict[str, None] = {}
    for path in files:
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    q = json.loads(line).get("question")
                    if isinstance(q, str) and q.strip() and len(q) <= 1000:
                        seen.setdefault(q.strip(), None)
    questions = list(seen)
    random.Random(7).shuffle(questions)
    return questions


class QuestionSource:
    """Hands out (question, k) pairs that were never asked before in this run."""

    def __init__(self, questions: list[str]) -> None:
        self.questions = questions
        self._next = 0
        self._lock = threading.Lock()

    def take(self) -> tuple[str, int]:
        with self._lock:
            i = self._next
            self._next += 1
        n = len(self.questions)
        return self.questions[i % n], K_PASSES[(i // n) % len(K_PASSES)]


# -- users -----------------------------------------------------------------------------------------------
class ApiUser:
    """A program on the JSON API."""

    def __init__(self, url: str, timeout: float) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=timeout)
        self.cache_hits = 0

    def ask(self, question: str, k: int) -> tuple[str, str]:
        r = self.http.get(f"{self.url}api/search", params={"q": question, "k": k})
        if r.headers.get("x-cache") == "hit":
            self.cache_hits += 1
        if r.status_code == 200 and "results" in r.json():
            return "ok", ""
        message = r.json().get("error", r.text[:200]) if "json" in r.headers.get("content-type", "") else r.text[:200]
        if r.status_code == 503:
            return "busy", message
        return ("refused" if 400 <= r.status_code < 500 else "error"), f"HTTP {r.status_code}: {message}"

    def close(self) -> None:
        self.http.close()


class PageUser:
    """A person in the browser: the chat's submit event through Gradio's queue, one session per user."""

    def __init__(self, url: str, timeout: float, fn_index: int, trigger_id: int) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=timeout)
        self.fn_index = fn_index
        self.trigger_id = trigger_id
        self.session = uuid.uuid4().hex[:11]
        self.cache_hits = 0

    @staticmethod
    def find_chat_event(url: str) -> tuple[int, int]:
        import httpx

        config = httpx.get(f"{url}config", timeout=30).json()
        for dep in config["dependencies"]:
            if dep.get("api_name") == "ask":
                return dep["id"], dep["targets"][0][0]
        raise RuntimeError("the page has no chat event named 'ask'")

    def ask(self, question: str, k: int) -> tuple[str, str]:
        # the chat event's inputs: message, chat so far, earlier questions, k, mode, regulations, levels, regions, as of
        body = {"data": [question, [], [], k, "hybrid", [], [], [], ""], "fn_index": self.fn_index,
                "session_hash": self.session, "event_data": None, "trigger_id": self.trigger_id}
        r = self.http.post(f"{self.url}gradio_api/queue/join", json=body)
        if r.status_code != 200:
            return _http_failure(r)
        with self.http.stream("GET", f"{self.url}gradio_api/queue/data", params={"session_hash": self.session}) as s:
            for line in s.iter_lines():
                if not line.startswith("data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") != "process_completed":
                    continue
                if not msg.get("success", True):
                    return "error", str((msg.get("output") or {}).get("error"))[:200]
                chat = msg["output"]["data"][0]
                reply = chat[-1]["content"]
                text = reply[0]["text"] if isinstance(reply, list) else str(reply)
                if "regqa-answer" in text:
                    return "ok", ""
                if "regqa-error" in text and any(w in text.lower() for w in BUSY_WORDS):
                    return "busy", "told to try again"
                return "refused", text[:200]
        return "error", "the event stream ended without a reply"

    def close(self) -> None:
        self.http.close()


class GradioApiUser:
    """A program on Gradio's `/search` endpoint over plain HTTP (POST the call, then read its event)."""

    def __init__(self, url: str, timeout: float) -> None:
        import httpx

        self.url = url
        self.http = httpx.Client(timeout=timeout)
        self.cache_hits = 0

    def ask(self, question: str, k: int) -> tuple[str, str]:
        r = self.http.post(f"{self.url}gradio_api/call/search", json={"data": [question, k, "hybrid", None]})
        if r.status_code != 200:
            return _http_failure(r)
        stream = self.http.get(f"{self.url}gradio_api/call/search/{r.json()['event_id']}").text
        kind, _, data = stream.strip().rpartition("event: ")[2].partition("\ndata: ")
        value = json.loads(data) if data.strip() else None
        if kind.strip() == "complete":
            return "ok", ""
        message = str(value.get("error") if isinstance(value, dict) else value)
        return ("busy" if any(w in message.lower() for w in BUSY_WORDS) else "refused"), message[:200]

    def close(self) -> None:
        self.http.close()


def _http_failure(r: Any) -> tuple[str, str]:
    """A non-200 answer of Gradio's routes: its "queue is full" means busy, anything else failed."""
    detail = r.text[:200]
    return ("busy" if any(w in detail.lower() for w in BUSY_WORDS) else "error"), f"HTTP {r.status_code}: {detail}"


def make_user(route: str, url: str, timeout: float, chat_event: tuple[int, int] | None) -> Any:
    if route == "api":
        return ApiUser(url, timeout)
    if route == "page":
        assert chat_event is not None
        return PageUser(url, timeout, *chat_event)
    return GradioApiUser(url, timeout)


def _ask(user: Any, question: str, k: int, t0: float | None = None) -> tuple[str, float, str]:
    """Ask and time it, from t0 when given (an open-loop arrival's scheduled time)."""
    t0 = time.perf_counter() if t0 is None else t0
    try:
        outcome, detail = user.ask(question, k)
    except Exception as exc:  # a timeout or a broken connection: the load generator records it, goes on
        outcome, detail = ("timeout" if "timeout" in type(exc).__name__.lower() else "error"), \
            f"{type(exc).__name__}: {exc}"[:200]
    return outcome, 1000 * (time.perf_counter() - t0), detail


def summarise(records: list[tuple[str, float, str]], wall: float) -> dict[str, Any]:
    counts = Counter(o for o, _, _ in records)
    ok = [lat for o, lat, _ in records if o == "ok"]
    total = len(records)
    failed = counts["error"] + counts["timeout"]

    def p(q: float) -> float:
        return round(float(np.percentile(ok, q)), 1) if ok else float("nan")

    return {
        "requests": total, "ok": counts["ok"], "busy": counts["busy"], "refused": counts["refused"],
        "errors": failed, "p50_ms": p(50), "p95_ms": p(95), "p99_ms": p(99), "seconds": round(wall, 2),
        "throughput_rps": round(counts["ok"] / wall, 1) if wall else 0.0,
        "busy_rate": round(counts["busy"] / total, 4) if total else 0.0,
        "error_rate": round(failed / total, 4) if total else 0.0,
        "messages": sorted({d for o, _, d in records if o != "ok"})[:5],
    }


# -- closed loop -----------------------------------------------------------------------------------------
def closed_loop(url: str, route: str, users: int, seconds: float, source: QuestionSource, timeout: float,
                chat_event: tuple[int, int] | None, monitor: RssMonitor) -> dict[str, Any]:
    clients = [make_user(route, url, timeout, chat_event) for _ in range(users)]
    records: list[tuple[str, float, str]] = []
    lock = threading.Lock()
    start_rss = monitor.reset()
    stop_at = time.monotonic() + seconds
    rng = random.Random(users)

    def user(client: Any) -> None:
        question, k = source.take()
        while time.monotonic() < stop_at:
            outcome, latency, detail = _ask(client, question, k)
            with lock:
                records.append((outcome, latency, detail))
            if outcome == "busy":
                time.sleep(rng.uniform(0.2, 0.6))  # told to try again: wait a moment, ask the same again
            else:
                question, k = source.take()

    timeline: list[int] = []  # resident MB once a second: does memory level off under load?

    def sample() -> None:
        while time.monotonic() < stop_at:
            timeline.append(round(monitor.current() / 2**20))
            time.sleep(1.0)

    started = time.perf_counter()
    threads = [threading.Thread(target=user, args=(c,)) for c in clients]
    threads.append(threading.Thread(target=sample))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    for c in clients:
        c.close()
    row = {"route": route, "users": users, **summarise(records, wall),
           "cache_hits": sum(c.cache_hits for c in clients),
           "rss_start_mb": round(start_rss / 2**20), "rss_end_mb": round(monitor.current() / 2**20),
           "peak_rss_mb": round(monitor.peak / 2**20), "rss_timeline_mb": timeline,
           "load_avg_1m": machine()["load_avg_1m"]}  # above the CPU count: other jobs shared the machine
    return row


# -- open loop -------------------------------------------------------------------------------------------
def open_loop(url: str, route: str, rate: float, seconds: float, source: QuestionSource, timeout: float,
              chat_event: tuple[int, int] | None, monitor: RssMonitor) -> dict[str, Any]:
    local = threading.local()
    made: list[Any] = []
    made_lock = threading.Lock()
    records: list[tuple[str, float, str]] = []

    def one(question: str, k: int, due: float) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = make_user(route, url, timeout, chat_event)
            with made_lock:
                made.append(client)
        result = _ask(client, question, k, due)  # timed from its arrival, even if no sender was free
        with made_lock:
            records.append(result)

    monitor.reset()
    n = int(rate * seconds)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=400) as pool:
        for i in range(n):
            due = started + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, *source.take(), due)
    wall = time.perf_counter() - started
    for c in made:
        c.close()
    return {"route": route, "rate": rate, **summarise(records, wall), "peak_rss_mb": round(monitor.peak / 2**20)}


def find_max_rate(rows: list[dict[str, Any]], target_ms: float) -> float | None:
    good = [r["rate"] for r in rows if r["errors"] == 0 and r["busy"] == 0 and r["ok"]
            and r["p95_ms"] <= target_ms]
    return max(good) if good else None


# -- cache and cold start --------------------------------------------------------------------------------
def cache_hits(url: str, source: QuestionSource, n: int, timeout: float) -> dict[str, Any]:
    user = ApiUser(url, timeout)
    asked = [source.take() for _ in range(n)]
    first = [_ask(user, q, k) for q, k in asked]
    hits_before = user.cache_hits
    again = [_ask(user, q, k) for q, k in asked]
    user.close()
    miss_ms = [lat for o, lat, _ in first if o == "ok"]
    hit_ms = [lat for o, lat, _ in again if o == "ok"]
    return {"questions": n, "first_p50_ms": round(float(np.percentile(miss_ms, 50)), 1),
            "hit_p50_ms": round(float(np.percentile(hit_ms, 50)), 1),
            "hit_p95_ms": round(float(np.percentile(hit_ms, 95)), 1),
            "hits": user.cache_hits - hits_before, "hits_on_first_ask": hits_before}


def cold_start(index: Path, runs: int, timeout: float) -> dict[str, Any]:
    import httpx

    from eval.app_server import running_app

    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        with running_app(index, timeout=300) as url:
            r = httpx.get(f"{url}api/search", params={"q": "湖北条例第二十三条"}, timeout=timeout)
            r.raise_for_status()
            seconds.append(round(time.perf_counter() - t0, 2))
    return {"runs": seconds, "median_s": float(np.median(seconds))}


# -- report ----------------------------------------------------------------------------------------------
def table(rows: list[dict[str, Any]], first: str) -> str:
    cols = [first, "requests", "p50_ms", "p95_ms", "p99_ms", "throughput_rps", "busy_rate", "error_rate",
            "peak_rss_mb"]
    if "route" in rows[0]:
        cols = ["route", *cols]
    lines = ["  ".join(f"{c:>14}" for c in cols)]
    for r in rows:
        lines.append("  ".join(f"{r.get(c, '')!s:>14}" for c in cols))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running app (default: start `python app.py` on a free port)")
    parser.add_argument("--pid", type=int, help="the running app's process id, for its memory (with --url)")
    parser.add_argument("--index", type=Path, help="index the started app serves (default: $REGQA_INDEX or data/index)")
    parser.add_argument("--routes", default="api,page", help="api, page and/or gradio (comma-separated)")
    parser.add_argument("--users", default="1,10,50,200", help="closed-loop users per level ('' for none)")
    parser.add_argument("--seconds", type=float, default=8.0, help="seconds per level")
    parser.add_argument("--rates", default="", help="open-loop arrivals per second to try, e.g. 20,40,60,80")
    parser.add_argument("--target-p95", type=float, default=1.0, help="open loop: p95 seconds a rate must meet")
    parser.add_argument("--cache", type=int, default=0, help="also measure cache hits on this many questions")
    parser.add_argument("--cold-start", type=int, default=0, help="also time this many cold starts")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before one request counts as failed")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    index = args.index or default_index()
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    levels = [int(u) for u in args.users.split(",") if u.strip()]
    rates = [float(r) for r in args.rates.split(",") if r.strip()]
    source = QuestionSource(load_questions())
    result: dict[str, Any] = {"machine": machine(), "questions": len(source.questions),
                              "seconds_per_level": args.seconds, "closed_loop": [], "open_loop": []}
    if args.cold_start:
        result["cold_start"] = cold_start(index, args.cold_start, args.timeout)
        log.info("cold start: %s", result["cold_start"])
    app = contextlib.ExitStack()
    if args.url:
        url = args.url if args.url.endswith("/") else args.url + "/"
        pid = args.pid or pid_listening_on(url)
    elif levels or rates or args.cache:
        from eval.app_server import running_app  # the same launcher the browser and API tests use

        log.info("starting the app on %s", index)
        url = app.enter_context(running_app(index, timeout=300))
        pid = pid_listening_on(url)
    else:
        url, pid = "", None
    monitor = RssMonitor(pid)
    try:
        if url:
            chat_event = PageUser.find_chat_event(url) if "page" in routes else None
            warm = ApiUser(url, args.timeout)
            for _ in range(5):
                warm.ask(*source.take())
            warm.close()
            result["idle_rss_mb"] = round(monitor.current() / 2**20)
            for route in routes:
                for users in levels:
                    row = closed_loop(url, route, users, args.seconds, source, args.timeout, chat_event, monitor)
                    log.info("%s, %d users: p50 %.0f ms, p95 %.0f ms, %.1f answers/s, busy %.1f%%, errors %.1f%%, "
                             "RSS %d→%d MB (peak %d)", route, users, row["p50_ms"], row["p95_ms"],
                             row["throughput_rps"], 100 * row["busy_rate"], 100 * row["error_rate"],
                             row["rss_start_mb"], row["rss_end_mb"], row["peak_rss_mb"])
                    result["closed_loop"].append(row)
            for rate in rates:
                row = open_loop(url, routes[0], rate, args.seconds, source, args.timeout, chat_event, monitor)
                log.info("%s, open loop %.0f/s: p50 %.0f ms, p95 %.0f ms, %.1f answers/s, busy %.1f%%, errors %.1f%%",
                         routes[0], rate, row["p50_ms"], row["p95_ms"], row["throughput_rps"],
                         100 * row["busy_rate"], 100 * row["error_rate"])
                result["open_loop"].append(row)
            if rates:
                result["max_rate_within_target"] = find_max_rate(result["open_loop"], 1000 * args.target_p95)
            if args.cache:
                result["cache"] = cache_hits(url, source, args.cache, args.timeout)
                log.info("cache: %s", result["cache"])
            result["peak_rss_mb"] = round(monitor.peak / 2**20)
            result["machine_after"] = machine()
    finally:
        monitor.close()
        app.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "load.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if result["closed_loop"]:
        print(table(result["closed_loop"], "users"))
        for r in result["closed_loop"]:
            if r["messages"]:
                print(f"{r['route']}, {r['users']} users — not answered: {r['messages']}")
    if result["open_loop"]:
        print(table(result["open_loop"], "rate"))
        print(f"highest rate with p95 ≤ {args.target_p95} s, no errors, no one told busy: "
              f"{result['max_rate_within_target']}")
    for key in ("cache", "cold_start"):
        if key in result:
            print(f"{key}: {result[key]}")
    print(f"wrote {args.out / 'load.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
