"""Metrics as pure functions over plain dicts: qrels and runs share one shape, {qid: {doc_id: number}}.

Ranking metrics come from ranx (never hand-rolled); they are computed over the answerable questions only.
Abstention is scored apart: unanswerable questions should abstain, answerable ones should not.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence

import numpy as np

Qrels = dict[str, dict[str, int]]
RunDict = dict[str, dict[str, float]]

RANK_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


def qrels_from(relevant: Mapping[str, Sequence[str]]) -> Qrels:
    """{qid: [doc_id, ...]} -> qrels with relevance 1; questions with no relevant article are left out."""
    return {qid: {d: 1 for d in docs} for qid, docs in relevant.items() if docs}


def run_from(ranked: Mapping[str, Sequence[str]]) -> RunDict:
    """{qid: [doc_id in rank order]} -> run whose scores reproduce exactly that order (no ties)."""
    out: RunDict = {}
    for qid, docs in ranked.items():
        scores: dict[str, float] = {}
        for rank, d in enumerate(docs):
            scores.setdefault(d, float(len(docs) - rank))
        out[qid] = scores
    return out


def _evaluate(qrels: Qrels, run: RunDict,
              metrics: Sequence[str]) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """ranx means and per-question values ({metric: {qid: value}}); questions missing from the run score 0."""
    from ranx import Qrels as RQrels
    from ranx import Run as RRun
    from ranx import evaluate

    comparable = {qid: dict(run.get(qid, {})) for qid in qrels}
    if not any(comparable.values()):  # ranx cannot build a run with no document at all: every metric is 0
        return {m: 0.0 for m in metrics}, {m: dict.fromkeys(qrels, 0.0) for m in metrics}
    ranx_run = RRun(comparable)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unsafe cast.*")
        means = evaluate(RQrels(qrels), ranx_run, list(metrics))
    if not isinstance(means, dict):  # ranx returns a bare value for a single metric
        means = {metrics[0]: means}
    per_q = {m: {qid: float(v) for qid, v in ranx_run.scores[m].items()} for m in metrics}
    return {m: float(means[m]) for m in metrics}, per_q


def ranking_metrics(qrels: Qrels, run: RunDict,
                    metrics: Sequence[str] = RANK_METRICS) -> dict[str, float | None]:
    """Mean of each ranx metric over the questions in qrels; None for every metric when qrels is empty."""
    if not qrels:
        return {m: None for m in metrics}
    return _evaluate(qrels, run, metrics)[0]


def per_question(qrels: Qrels, run: RunDict,
                 metrics: Sequence[str] = RANK_METRICS) -> dict[str, dict[str, float]]:
    """{qid: {metric: value}} for each question in qrels."""
    if not qrels:
        return {}
    per_q = _evaluate(qrels, run, metrics)[1]
    return {qid: {m: per_q[m][qid] for m in metrics} for qid in qrels}


def recall_curve(qrels: Qrels, run: RunDict, max_k: int = 10) -> list[float]:
    """Recall@k for k = 1..max_k."""
    if not qrels:
        return []
    metrics = [f"recall@{k}" for k in range(1, max_k + 1)]
    means = _evaluate(qrels, run, metrics)[0]
    return [means[m] for m in metrics]


def gold_ranks(relevant: Sequence[str], ranked: Sequence[str]) -> dict[str, int | None]:
    """1-based rank of each relevant article in the returned list, None when it was not returned."""
    pos: dict[str, int] = {}
    for i, d in enumerate(ranked, 1):
        pos.setdefault(d, i)
    return {d: pos.get(d) for d in relevant}


def abstain_metrics(abstained: Mapping[str, bool], answerable: Mapping[str, bool]) -> dict[str, float | None]:
    """abstain_accuracy: share of unanswerable questions that abstained;
    false_abstain_rate: share of answerable questions that abstained.
    Each is None when there are no such questions."""
    unans = [abstained[q] for q, a in answerable.items() if not a]
    ans = [abstained[q] for q, a in answerable.items() if a]
    return {
        "abstain_accuracy": sum(unans) / len(unans) if unans else None,
        "false_abstain_rate": sum(ans) / len(ans) if ans else None,
    }


def answer_metrics(answers: Mapping[str, str], expect_related: Mapping[str, bool],
                   answerable: Mapping[str, bool]) -> dict[str, float | None]:
    """related_accuracy: share of the questions the articles only touch (or that presume what no article
    says) answered "related" with the articles shown; false_related_rate: share of the other answerable
    questions answered "related". Each is None when there are no such questions."""
    rel = [answers[q] == "related" for q, e in expect_related.items() if e]
    other = [answers[q] == "related" for q, e in expect_related.items() if not e and answerable[q]]
    return {
        "related_accuracy": sum(rel) / len(rel) if rel else None,
        "false_related_rate": sum(other) / len(other) if other else None,
    }


def latency(ms: Sequence[float]) -> dict[str, float | None]:
    if not ms:
        return {"latency_p50_ms": None, "latency_p95_ms": None}
    arr = np.asarray(ms, dtype=float)
    return {"latency_p50_ms": round(float(np.percentile(arr, 50)), 2),
            "latency_p95_ms": round(float(np.percentile(arr, 95)), 2)}


def rounded(d: Mapping[str, float | None], places: int = 4) -> dict[str, float | None]:
    return {k: (None if v is None or (isinstance(v, float) and math.isnan(v)) else round(float(v), places))
            for k, v in d.items()}
