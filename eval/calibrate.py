"""Grid-search the hybrid dense weight (retrieval/fuse.py) and the AbstainRule thresholds
(retrieval/abstain.py) on the DEVELOPMENT questions. Never run it on the test split.

Objective: the highest MRR@10 (then Recall@5) among weights for which some abstain rule meets the
constraints (abstain accuracy >= min_abstain on unanswerable questions, false-abstain rate <=
max_false_abstain on answerable ones); for that weight, the rule with the widest margin (see abstain_grid
for what happens when no rule meets both).

It is fast because the expensive part is done once: one loaded index, query vectors cached (in memory, and
on disk with --cache); for each weight the hybrid search runs with the cached vectors and its own
SearchSettings (passed per call: the Retriever is never changed), and a recording rule captures the
evidence the Retriever hands to AbstainRule.abstain so every threshold triple is scored without searching
again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from eval.metrics import qrels_from, ranking_metrics, run_from
from eval.questions import Catalogue, Question, doc_id, read_questions
from ingest.errors import QueryError
from retrieval.abstain import AbstainRule
from retrieval.settings import SearchSettings

log = logging.getLogger(__name__)

WEIGHTS = tuple(round(x, 2) for x in np.arange(0.0, 1.0001, 0.05))
FLOORS = tuple(round(x, 4) for x in np.arange(0.80, 0.9201, 0.0025))
SURES = tuple(round(x, 4) for x in np.arange(0.82, 0.9501, 0.0025))
COVERAGES = tuple(round(x, 3) for x in np.arange(0.0, 1.0001, 0.025))
XFLOORS = tuple(round(x, 4) for x in np.arange(0.74, 0.8401, 0.0025))  # questions in another script
K = 10


class CachingEmbedder:
    """Wraps an Embedder; remembers query vectors by text (optionally in an .npz file between runs)."""

    def __init__(self, inner, path: Path | None = None) -> None:
        self.inner = inner
        self.model_id, self.dim = inner.model_id, inner.dim
        self.engine = getattr(inner, "engine", "?")
        self.max_tokens = getattr(inner, "max_tokens", 512)
        self.path = path
        self._vectors: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            self._load(path)

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _load(self, path: Path) -> None:
        with np.load(path, allow_pickle=False) as data:
            if str(data["model_id"]) != self.model_id:
                log.warning("%s holds vectors of another model; ignoring it", path)
                return
            for k, v in zip(data["keys"], data["vectors"], strict=True):
                self._vectors[str(k)] = v

    def save(self) -> None:
        if self.path is None or not self._vectors:
            return
        keys = list(self._vectors)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp.npz")
        np.savez(tmp, model_id=np.array(self.model_id), keys=np.array(keys),
                 vectors=np.stack([self._vectors[k] for k in keys]))
        tmp.replace(self.path)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if self._key(t) not in self._vectors]
        if missing:
            for t, v in zip(missing, self.inner.embed_queries(missing), strict=True):
                self._vectors[self._key(t)] = np.asarray(v, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return np.stack([self._vectors[self._key(t)] for t in texts])

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        return self.inner.embed_documents(texts, batch_size)


@dataclass(frozen=True)
class RecordingRule(AbstainRule):
    """An AbstainRule that also records each (dense_top, coverage) it is asked about."""

    seen: list[tuple[float, float]] = field(default_factory=list, compare=False, repr=False)

    def abstain(self, dense_top: float, coverage: float) -> bool:
        self.seen.append((float(dense_top), float(coverage)))
        return super().abstain(dense_top, coverage)


@dataclass
class WeightRun:
    """Everything the abstain grid needs for one dense weight."""

    weight: float
    metrics: dict[str, float | None]
    answerable: np.ndarray  # bool per question
    fixed: np.ndarray  # decided without the rule (reference hit, no result): 1/0; -1 when the rule decides
    dense_top: np.ndarray
    coverage: np.ndarray


def collect(retriever, questions: Sequence[Question], weight: float,
            progress: bool | None = None) -> WeightRun:
    from tqdm import tqdm

    rule = RecordingRule(**_rule_fields(retriever.settings.abstain_rule))
    settings = SearchSettings(weight, rule)
    ranked: dict[str, list[str]] = {}
    fixed, top, cov = [], [], []
    for q in tqdm(questions, desc=f"w={weight:.2f}", unit="q", leave=False,
                  disable=(None if progress is None else not progress)):
        rule.seen.clear()
        try:
            resp = retriever.search(q.question, k=K, mode="hybrid", settings=settings)
        except QueryError:
            ranked[q.id] = []
            fixed.append(1)
            top.append(0.0)
            cov.append(0.0)
            continue
        ranked[q.id] = [doc_id(r.article.regulation_title, r.article.label) for r in resp.results]
        if rule.seen:
            fixed.append(-1)
            top.append(rule.seen[-1][0])
            cov.append(rule.seen[-1][1])
        else:
            fixed.append(int(resp.abstained))
            top.append(0.0)
            cov.append(0.0)
    qrels = qrels_from({q.id: [g.doc_id for g in q.relevant] for q in questions})
    metrics = ranking_metrics(qrels, run_from(ranked))
    return WeightRun(weight, metrics, np.array([q.answerable for q in questions]), np.array(fixed),
                     np.array(top), np.array(cov))


def _rule_fields(rule: AbstainRule) -> dict[str, Any]:
    return {k: v for k, v in asdict(rule).items() if k != "seen"}


def abstain_grid(wr: WeightRun, min_abstain: float, max_false_abstain: float) -> dict[str, Any]:
    """The best AbstainRule for one weight run, searched over FLOORS x SURES x COVERAGES x XFLOORS.

    Where both bars can be met: the widest margin over both. Where they cannot: the highest abstain accuracy
    that keeps the false-abstain bar (abstaining on an answerable question is the worse error), else the
    lowest false-abstain rate. Ties: accuracy minus false-abstain rate. Questions in another script than the
    articles (coverage NaN) must also meet the false-abstain bar as a group.
    """
    ans = wr.answerable
    n_ans, n_unans = max(1, int(ans.sum())), max(1, int((~ans).sum()))
    ruled = wr.fixed < 0
    nan = ruled & np.isnan(wr.coverage)
    box = ruled & ~nan
    base_u = int(((wr.fixed == 1) & ~ans).sum())
    base_a = int(((wr.fixed == 1) & ans).sum())
    xfloors = np.array(XFLOORS)
    below_x = wr.dense_top[nan][:, None] < xfloors[None, :]
    x_u, x_a = below_x[~ans[nan]].sum(0), below_x[ans[nan]].sum(0)
    # The cross-lingual floor decides only for questions in another script; hold that group to the
    # false-abstain bar on its own, or a few English questions could be sacrificed for the overall figure.
    n_x = int(ans[nan].sum())
    keep = x_a <= max_false_abstain * n_x if n_x else np.ones(len(xfloors), dtype=bool)
    keep[0] = keep[0] or not keep.any()
    xfloors, x_u, x_a = xfloors[keep], x_u[keep], x_a[keep]
    top, cov, a = wr.dense_top[box], wr.coverage[box], ans[box]
    covs = np.array(COVERAGES)
    low_cov = cov[:, None] < covs[None, :]
    triples: list[tuple[float, float, float]] = []
    b_u: list[np.ndarray] = []
    b_a: list[np.ndarray] = []
    for floor in FLOORS:
        below = top < floor
        for sure in SURES:
            if sure < floor:
                continue
            decided = below[:, None] | ((~below & (top < sure))[:, None] & low_cov)
            b_u.append(decided[~a].sum(0))
            b_a.append(decided[a].sum(0))
            triples.extend((floor, sure, c) for c in COVERAGES)
    acc = (base_u + np.concatenate(b_u)[:, None] + x_u[None, :]) / n_unans
    far = (base_a + np.concatenate(b_a)[:, None] + x_a[None, :]) / n_ans
    slack = np.minimum(acc - min_abstain, max_false_abstain - far)
    meets_far = far <= max_false_abstain + 1e-12
    tier = np.where(slack >= -1e-12, 2, np.where(meets_far, 1, 0))
    primary = np.where(tier == 2, slack, np.where(tier == 1, acc, -far))
    order = np.lexsort(((acc - far).ravel(), np.round(primary, 9).ravel(), tier.ravel()))
    t, x = np.unravel_index(order[-1], acc.shape)
    floor, sure, min_cov = triples[t]
    rule = AbstainRule(float(floor), float(sure), float(min_cov), float(xfloors[x]))
    return {"rule": rule, "feasible": bool(slack[t, x] >= 0), "abstain_accuracy": round(float(acc[t, x]), 4),
            "false_abstain_rate": round(float(far[t, x]), 4)}


def calibrate(index_dir: Path | str, questions_path: Path | str, min_abstain: float = 0.90,
              max_false_abstain: float = 0.03, cache: Path | None = None, weights: Sequence[float] = WEIGHTS,
              progress: bool | None = None, retriever=None) -> dict[str, Any]:
    if retriever is None:
        from retrieval.retriever import Retriever

        retriever = Retriever(index_dir)
    embedder = CachingEmbedder(retriever.embedder, cache)
    searcher = retriever.with_embedder(embedder)  # the given Retriever is left as it is
    questions = read_questions(questions_path, Catalogue.from_index(searcher.index))
    grid = []
    for w in weights:
        wr = collect(searcher, questions, float(w), progress)
        if w == weights[0]:
            embedder.save()
        choice = abstain_grid(wr, min_abstain, max_false_abstain)
        ranking = {m: wr.metrics[m] for m in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")}
        grid.append({"dense_weight": float(w), **ranking,
                     "abstain_rule": asdict(choice["rule"]), "feasible": choice["feasible"],
                     "abstain_accuracy": choice["abstain_accuracy"],
                     "false_abstain_rate": choice["false_abstain_rate"]})
        log.info("w=%.2f mrr@10=%.4f feasible=%s", w, wr.metrics["mrr@10"], choice["feasible"])
    pool = [g for g in grid if g["feasible"]] or grid
    best = max(pool, key=lambda g: (round(g["mrr@10"], 4), round(g["recall@5"], 4),
                                    -abs(g["dense_weight"] - 0.5)))
    return {
        "questions": len(questions),
        "constraints": {"min_abstain_accuracy": min_abstain, "max_false_abstain_rate": max_false_abstain},
        "feasible": best["feasible"],
        "best": {"dense_weight": best["dense_weight"], "abstain_rule": best["abstain_rule"],
                 "metrics": {k: best[k] for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
                                                  "abstain_accuracy", "false_abstain_rate")}},
        "grid": grid,
    }
