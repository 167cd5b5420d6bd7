"""Write an evaluation report: Markdown summary, per-question runs (JSONL), PNG charts."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from eval.runner import ModeResult, question_record

log = logging.getLogger(__name__)

CHART_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "abstain_accuracy")
TABLE_METRICS = (*CHART_METRICS, "false_abstain_rate", "latency_p50_ms", "latency_p95_ms", "questions")
TYPE_METRICS = ("questions", "recall@1", "recall@5", "recall@10", "mrr@10", "abstain_accuracy",
                "false_abstain_rate")


def write_report(out_dir: Path | str, results: Mapping[str, ModeResult], questions_path: Path | str,
                 index_dir: Path | str) -> list[Path]:
    """Write everything into out_dir (created if needed); returns the files written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [_write_runs(out, r) for r in results.values()]
    written.append(_metrics_chart(out / "metrics.png", results))
    written.append(_curve_chart(out / "recall_at_k.png", results))
    md = out / "report.md"
    md.write_text(markdown(results, questions_path, index_dir), encoding="utf-8")
    written.append(md)
    summary = {m: r.summary for m, r in results.items()}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(out / "summary.json")
    log.info("report written to %s", out)
    return written


def _write_runs(out: Path, result: ModeResult) -> Path:
    path = out / f"run-{result.mode}.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for r in result.runs:
            rec = question_record(r, result.per_question.get(r.question.id))
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return path


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


def markdown(results: Mapping[str, ModeResult], questions_path: Path | str, index_dir: Path | str) -> str:
    modes = list(results)
    lines = [
        "# Retrieval evaluation",
        "",
        f"- Questions: `{questions_path}`",
        f"- Index: `{index_dir}`",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M')}",
        "- Ranking metrics (ranx) are over answerable questions; abstain accuracy is the share of "
        "unanswerable questions that abstained; false-abstain rate the share of answerable ones that did.",
        "",
        "## Metrics per mode",
        "",
        "| metric | " + " | ".join(modes) + " |",
        "|---|" + "---|" * len(modes),
    ]
    for m in TABLE_METRICS:
        lines.append(f"| {m} | " + " | ".join(_fmt(results[mode].summary.get(m)) for mode in modes) + " |")
    lines += ["", "![metrics per mode](metrics.png)", "", "![recall@k](recall_at_k.png)", ""]
    for mode in modes:
        lines += [f"## By question type — {mode}", "",
                  "| type | " + " | ".join(TYPE_METRICS) + " |", "|---|" + "---|" * len(TYPE_METRICS)]
        for qtype, row in results[mode].summary.get("by_type", {}).items():
            lines.append(f"| {qtype} | " + " | ".join(_fmt(row.get(m)) for m in TYPE_METRICS) + " |")
        lines.append("")
    lines += _misses(results)
    lines += ["", "Per-question runs: " + ", ".join(f"`run-{m}.jsonl`" for m in modes), ""]
    return "\n".join(lines)


def _misses(results: Mapping[str, ModeResult], limit: int = 15) -> list[str]:
    """A few answerable questions hybrid (or the first mode) misses in its top 10, to start a diagnosis."""
    mode = "hybrid" if "hybrid" in results else next(iter(results))
    res = results[mode]
    missed = [r for r in res.runs if r.question.answerable
              and res.per_question.get(r.question.id, {}).get("recall@10", 1.0) == 0.0]
    if not missed:
        return []
    lines = [f"## Answerable questions with no relevant article in the top 10 ({mode}: {len(missed)})", ""]
    for r in missed[:limit]:
        gold = "、".join(g.doc_id for g in r.question.relevant)
        top = r.returned[0] if r.returned else "–"
        q = r.question
        lines.append(f"- `{q.id}` ({q.type}) {q.question} — gold: {gold}; top-1: {top}")
    if len(missed) > limit:
        lines.append(f"- … and {len(missed) - limit} more (see `run-{mode}.jsonl`)")
    return lines


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=110)
    FigureCanvasAgg(fig)
    return fig


def _metrics_chart(path: Path, results: Mapping[str, ModeResult]) -> Path:
    fig = _figure(8, 4)
    ax = fig.add_subplot()
    modes = list(results)
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        vals = [results[mode].summary.get(m) or 0.0 for m in CHART_METRICS]
        xs = [j + i * width for j in range(len(CHART_METRICS))]
        bars = ax.bar(xs, vals, width, label=mode)
        ax.bar_label(bars, fmt="%.2f", fontsize=6)
    centres = [j + width * (len(modes) - 1) / 2 for j in range(len(CHART_METRICS))]
    ax.set_xticks(centres, CHART_METRICS, fontsize=8)
    ax.set_ylim(0, 1.05)
    ax.set_title("Metrics per mode")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path


def _curve_chart(path: Path, results: Mapping[str, ModeResult]) -> Path:
    fig = _figure(6, 4)
    ax = fig.add_subplot()
    for mode, res in results.items():
        if res.curve:
            ax.plot(range(1, len(res.curve) + 1), res.curve, marker="o", label=mode)
    ax.set_xlabel("k")
    ax.set_ylabel("recall@k")
    ax.set_ylim(0, 1.0)
    ax.grid(alpha=0.3)
    ax.set_title("Recall@k (answerable questions)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    return path
