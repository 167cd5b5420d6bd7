"""Run a question set through the Retriever in one or more modes and summarise the result.

A question with a `history` (a conversation's earlier questions) is searched as understood after them
(retrieval.conversation.followup.search_conversation), unless `use_history` is off: that is the "before" of the
follow-up feature, every turn searched alone.

The command line (`python -m eval run`) and the CI quality gate both call `evaluate_file`, so the gate
measures exactly what the CLI reports.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.metrics import (
    RANK_METRICS,
    abstain_metrics,
    answer_metrics,
    gold_ranks,
    latency,
    per_question,
    qrels_from,
    ranking_metrics,
    recall_curve,
    rounded,
    run_from,
)
from eval.questions import Catalogue, Question, doc_id, read_questions, split_of
from ingest.errors import QueryError
from retrieval.settings import MODES

log = logging.getLogger(__name__)

DEFAULT_K = 10
CURVE_K = 10
DEEP_RECALL = (20, 50)


@dataclass(frozen=True)
class QuestionRun:
    """What one question got back in one mode."""

    question: Question
    returned: tuple[str, ...]  # doc ids in rank order
    results: tuple[dict[str, Any], ...]  # title, article, score, found_by per returned article
    abstained: bool
    latency_ms: float
    error: str | None = None
    understood: dict[str, Any] | None = None  # how a question with a history was read
    answer: str = "none"  # direct | related | none, as the search answered (retrieval/answer_kind.py)


@dataclass(frozen=True)
class ModeResult:
    mode: str
    runs: tuple[QuestionRun, ...]
    summary: dict[str, Any]  # the `--json` object of this mode
    curve: list[float] = field(default_factory=list)  # recall@1..CURVE_K
    per_question: dict[str, dict[str, float]] = field(default_factory=dict)


def expand_modes(mode: str) -> tuple[str, ...]:
    return MODES if mode == "all" else (mode,)


def run_mode(retriever, questions: Sequence[Question], mode: str, k: int = DEFAULT_K,
             progress: bool | None = None, use_history: bool = True,
             regulations: Sequence[str] | None = None) -> list[QuestionRun]:
    """Search every question once, as the command line and the API search it: among the versions in force
    today (or the version a question names), within `regulations` when given. progress=None shows a tqdm bar
    only on a terminal."""
    from tqdm import tqdm

    from retrieval.conversation.followup import search_conversation
    from retrieval.versions.in_force import regulation_filter

    if questions:  # first call pays one-off costs (model warm-up); keep it out of the latency figures
        try:
            retriever.search(questions[0].question, k=k, mode=mode)
        except QueryError:
            pass
    out: list[QuestionRun] = []
    bar = tqdm(questions, desc=f"{mode:>7}", unit="q", disable=(None if progress is None else not progress),
               leave=False)
    for q in bar:
        t0 = time.perf_counter()
        understood = None
        try:
            wanted = regulation_filter(retriever.index, regulations, question=q.question)
            if q.history and use_history:
                resp, u = search_conversation(retriever, q.question, list(q.history), k=k, mode=mode,
                                              regulations=wanted)
                understood = u.to_json()
            else:
                resp = retriever.search(q.question, k=k, mode=mode, regulations=wanted)
        except QueryError as exc:
            ms = (time.perf_counter() - t0) * 1000
            log.warning("%s: %s", q.id, exc)
            out.append(QuestionRun(q, (), (), True, ms, str(exc)))
            continue
        ms = (time.perf_counter() - t0) * 1000
        results = tuple({"title": r.article.regulation_title, "article": r.article.label,
                         "score": round(float(r.score), 6), "found_by": list(r.found_by)}
                        for r in resp.results)
        returned = tuple(doc_id(r["title"], r["article"]) for r in results)
        out.append(QuestionRun(q, returned, results, bool(resp.abstained), ms, understood=understood,
                               answer=resp.answer))
    return out


def deep_recalls(k: int) -> tuple[str, ...]:
    """Recall at the depths past 10 that a run of k articles can measure (`-k 50` gives R@20 and R@50)."""
    return tuple(f"recall@{n}" for n in DEEP_RECALL if n <= k)


def summarise(mode: str, runs: Sequence[QuestionRun], k: int = DEFAULT_K) -> ModeResult:
    """The metrics of one mode: ranking over answerable questions, abstention, latency, and by type."""
    qrels = qrels_from({r.question.id: [g.doc_id for g in r.question.relevant] for r in runs})
    run = run_from({r.question.id: list(r.returned) for r in runs})
    answerable = {r.question.id: r.question.answerable for r in runs}
    abstained = {r.question.id: r.abstained for r in runs}
    summary: dict[str, Any] = {}
    summary.update(ranking_metrics(qrels, run, RANK_METRICS + deep_recalls(k)))
    summary.update(abstain_metrics(abstained, answerable))
    summary.update(answer_metrics({r.question.id: r.answer for r in runs},
                                  {r.question.id: r.question.expects_related for r in runs}, answerable))
    summary = rounded(summary)
    summary.update(latency([r.latency_ms for r in runs]))
    summary["questions"] = len(runs)
    summary["answerable"] = sum(answerable.values())
    summary["unanswerable"] = len(runs) - summary["answerable"]
    pq = per_question(qrels, run)
    summary["by_type"] = _by_type(runs, pq)
    return ModeResult(mode, tuple(runs), summary, recall_curve(qrels, run, CURVE_K), pq)


def _by_type(runs: Sequence[QuestionRun], pq: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[QuestionRun]] = {}
    for r in runs:
        groups.setdefault(r.question.type, []).append(r)
    out: dict[str, dict[str, Any]] = {}
    for qtype in sorted(groups):
        group = groups[qtype]
        ans = [r for r in group if r.question.answerable]
        row: dict[str, Any] = {"questions": len(group)}
        for m in RANK_METRICS:
            row[m] = sum(pq[r.question.id][m] for r in ans) / len(ans) if ans else None
        row.update(abstain_metrics({r.question.id: r.abstained for r in group},
                                   {r.question.id: r.question.answerable for r in group}))
        row.update(answer_metrics({r.question.id: r.answer for r in group},
                                  {r.question.id: r.question.expects_related for r in group},
                                  {r.question.id: r.question.answerable for r in group}))
        out[qtype] = {"questions": row.pop("questions"), **rounded(row)}
    return out


def evaluate_questions(retriever, questions: Sequence[Question], modes: Sequence[str], k: int = DEFAULT_K,
                       progress: bool | None = None, use_history: bool = True,
                       regulations: Sequence[str] | None = None) -> dict[str, ModeResult]:
    return {mode: summarise(mode, run_mode(retriever, questions, mode, k, progress, use_history, regulations), k)
            for mode in modes}


def evaluate_file(index_dir: Path | str, questions_path: Path | str, modes: Sequence[str] = ("hybrid",),
                  k: int = DEFAULT_K, progress: bool | None = None, retriever=None, part: str | None = None,
                  use_history: bool = True, regulations: Sequence[str] | None = None) -> dict[str, ModeResult]:
    """Load the index (unless a Retriever is given), check the question file against it, run every mode.
    `part` ("dev" or "test") keeps the questions that `split_of` puts there, split within this file;
    `regulations` (ids, titles or short names) limits every search, as the CLI's --regulation does."""
    if retriever is None:
        from retrieval.retriever import Retriever

        retriever = Retriever(index_dir)
    questions = read_questions(questions_path, Catalogue.from_index(retriever.index))
    if part is not None:
        split = split_of(questions)
        questions = [q for q in questions if split[q.id] == part]
    log.info("%d questions from %s", len(questions), questions_path)
    return evaluate_questions(retriever, questions, modes, k, progress, use_history, regulations)


def question_record(r: QuestionRun, pq: dict[str, float] | None) -> dict[str, Any]:
    """One line of the per-question JSONL: what came back and where each gold article ranked."""
    gold = [g.doc_id for g in r.question.relevant]
    ranks = gold_ranks(gold, r.returned)
    found = [v for v in ranks.values() if v is not None]
    rec: dict[str, Any] = {
        "id": r.question.id, "type": r.question.type, "question": r.question.question,
        "relevant": gold, "abstained": r.abstained, "answer": r.answer, "latency_ms": round(r.latency_ms, 2),
        "gold_ranks": ranks, "first_relevant_rank": min(found) if found else None,
        "returned": [{"rank": i, **res} for i, res in enumerate(r.results, 1)],
    }
    if pq:
        rec["metrics"] = rounded(pq)
    if r.question.history:
        rec["history"] = list(r.question.history)
    if r.understood is not None:
        rec["understood"] = r.understood
    if r.error:
        rec["error"] = r.error
    return rec
