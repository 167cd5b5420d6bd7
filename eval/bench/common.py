"""What every benchmark shares: where the data is, reading question and article files, percentiles and
medians, a plain-text table, and a description of the machine the figures came from."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from ingest.paths import index_dir

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "bench-output"
QUESTIONS = REPO / "data" / "questions" / "dev.jsonl"  # the served regulations' development questions
STARD = REPO / "data" / "benchmarks" / "stard"
STARD_CORPUS = STARD / "corpus.jsonl"
STARD_QUESTIONS = STARD / "dev.jsonl"


def default_index() -> Path:
    """The index `make run` serves: $REGQA_INDEX, else the repository's data/index."""
    return index_dir(base=REPO)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def questions(path: Path, n: int | None = None, answerable: bool = False, max_chars: int | None = None,
              spread: bool = False) -> list[str]:
    """Question texts of a question file: only those with relevant articles (answerable), only short ones
    (max_chars), the first n, or n spread over the whole file (spread)."""
    rows = read_jsonl(path)
    qs = [r["question"] for r in rows if (not answerable or r.get("relevant"))
          and (max_chars is None or len(r.get("question", "")) <= max_chars)]
    if n is None:
        return qs
    return qs[:: max(1, len(qs) // n)][:n] if spread else qs[:n]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def median(values: list[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def latency_ms(seconds: list[float]) -> dict[str, float]:
    """p50 / p95 / mean of timings given in seconds, in milliseconds."""
    ms = np.asarray(seconds) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "mean_ms": round(float(ms.mean()), 2)}


def table(rows: list[dict[str, Any]], cols: list[str]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "—" if math.isnan(v) else f"{v:.3g}" if abs(v) < 100 else f"{v:,.0f}"
        return f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v)

    cells = [[fmt(r.get(c, "")) for c in cols] for r in rows]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(cols)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    """CPUs, load and versions: a figure means little without them (load above the CPU count: other jobs)."""
    return {"cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(), "platform": platform.platform()}
