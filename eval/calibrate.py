"""Grid-search the hybrid dense weight (retrieval/fuse.py) and the AbstainRule thresholds
(retrieval/abstain.py) on the DEVELOPMENT questions. Never run it on the test split.

Objective: the weight with the highest MRR@10 (then Recall@5); at that weight, the abstain rule that meets the
constraints (abstain accuracy >= min_abstain on unanswerable questions, false-abstain rate <= max_false_abstain
on answerable ones) with the widest margin (see abstain_grid for what happens when no rule meets both).
`python -m eval calibrate --save` stores the result in the index's manifest ("search"), where every Retriever
that loads the index finds it: calibration belongs to a corpus, not to the code.

It is fast because the expensive part is done once: one loaded index, query vectors cached (in memory, and
on disk with --cache); for each weight the hybrid search runs with the cached vectors and its own
SearchSettings (passed per call: the Retriever is never changed), and a recording rule captures the
evidence the Retriever hands to AbstainRule.abstain so every threshold setting is scored without searching
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
from ingest.errors import QueryError, QuestionFileError
from retrieval.abstain import AbstainRule, Evidence
from retrieval.settings import SearchSettings

log = logging.getLogger(__name__)

WEIGHTS = tuple(round(x, 2) for x in np.arange(0.0, 1.0001, 0.05))
FLOORS = tuple(round(x, 4) for x in np.arange(0.80, 0.9201, 0.0025))
SURES = tuple(round(x, 4) for x in np.arange(0.82, 0.9501, 0.0025))
COVERAGES = tuple(round(x, 3) for x in np.arange(0.0, 1.0001, 0.025))
XFLOORS = tuple(round(x, 4) for x in np.arange(0.70, 0.8401, 0.0025))  # questions in another script
# Background-margin floors (retrieval/signals.py); -1.0 leaves the signal out.
BACKGROUNDS = (-1.0, *(round(x, 4) for x in np.arange(-0.10, 0.0601, 0.005)))
K = 10
RANKING = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")


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
    """An AbstainRule that also records the Evidence it is asked about."""

    seen: list[Evidence] = field(default_factory=list, compare=False, repr=False)

    def abstain(self, e: Evidence) -> bool:
        self.seen.append(e)
        return super().abstain(e)


@dataclass
class WeightRun:
    """Everything the abstain grid needs for one dense weight."""

    weight: float
    metrics: dict[str, float | None]
    answerable: np.ndarray  # bool per question
    fixed: np.ndarray  # decided without the rule (reference hit, refusal, no result): 1/0; -1 when the rule decides
    dense_top: np.ndarray
    coverage: np.ndarray
    background: np.ndarray


def collect(retriever, questions: Sequence[Question], weight: float,
            progress: bool | None = None, within: dict[str, list[str] | None] | None = None) -> WeightRun:
    """Search every question at one weight, recording the abstain evidence. `within`: each question's regulation
    filter (the versions in force, as `eval run` and the CLI search; see versions_within)."""
    from tqdm import tqdm

    rule = RecordingRule(**_rule_fields(retriever.settings.abstain_rule))
    settings = SearchSettings(weight, rule)
    ranked: dict[str, list[str]] = {}
    fixed, seen = [], []
    for q in tqdm(questions, desc=f"w={weight:.2f}", unit="q", leave=False,
                  disable=(None if progress is None else not progress)):
        rule.seen.clear()
        try:
            resp = retriever.search(q.question, k=K, mode="hybrid", settings=settings,
                                    regulations=(within or {}).get(q.id))
        except QueryError:
            ranked[q.id] = []
            fixed.append(1)
            seen.append(Evidence(0.0, 0.0, 0.0))
            continue
        ranked[q.id] = [doc_id(r.article.regulation_title, r.article.label) for r in resp.results]
        # The rule was asked (and its answer stood) unless a reference or a refusal decided first.
        asked = bool(rule.seen) and resp.message is None
        fixed.append(-1 if asked else int(resp.abstained))
        seen.append(rule.seen[-1] if asked else Evidence(0.0, 0.0, 0.0))
    qrels = qrels_from({q.id: [g.doc_id for g in q.relevant] for q in questions})
    metrics = ranking_metrics(qrels, run_from(ranked))
    return WeightRun(weight, metrics, np.array([q.answerable for q in questions]), np.array(fixed),
                     np.array([e.dense_top for e in seen]), np.array([e.coverage for e in seen]),
                     np.array([e.background for e in seen]))


def versions_within(retriever, questions: Sequence[Question]) -> dict[str, list[str] | None]:
    """Each question's regulation filter as the CLI computes it: the versions in force today, or the version the
    question names (None everywhere on an index without versions)."""
    from retrieval.versions.in_force import regulation_filter

    return {q.id: regulation_filter(retriever.index, question=q.question) for q in questions}


def _rule_fields(rule: AbstainRule) -> dict[str, Any]:
    return {k: v for k, v in asdict(rule).items() if k != "seen"}


def _cross_script_floors(top: np.ndarray, background: np.ndarray, answerable: np.ndarray,
                         max_false_abstain: float) -> tuple[float, float, int, int]:
    """Dense and background floors for questions in another script than the articles: the most unanswerable
    ones abstained on while this group alone keeps the false-abstain bar (or a few English questions could be
    sacrificed for the overall figure). Among equals, the middle of the tied settings, away from both edges."""
    floors, bgs = np.array(XFLOORS), np.array(BACKGROUNDS)
    decided = (top[:, None, None] < floors[None, :, None]) | (background[:, None, None] < bgs[None, None, :])
    u, a = decided[~answerable].sum(0), decided[answerable].sum(0)
    ok = a <= max_false_abstain * int(answerable.sum())
    ok[0, 0] = True  # the lowest floors abstain on nothing: always allowed
    score = np.where(ok, u * 10_000 - a, -1)
    tied = np.argwhere(score == score.max())
    i, j = tied[len(tied) // 2]
    return float(floors[i]), float(bgs[j]), int(u[i, j]), int(a[i, j])


def abstain_grid(wr: WeightRun, min_abstain: float, max_false_abstain: float) -> dict[str, Any]:
    """The best AbstainRule for one weight run.

    Questions in another script get their floors first (see _cross_script_floors). For the rest, FLOORS x
    BACKGROUNDS x SURES x COVERAGES is searched: where both bars can be met, the widest margin over both; where
    they cannot, the highest abstain accuracy that keeps the false-abstain bar (abstaining on an answerable
    question is the worse error), else the lowest false-abstain rate. Ties: accuracy minus false-abstain rate.
    """
    ans = wr.answerable
    n_ans, n_unans = max(1, int(ans.sum())), max(1, int((~ans).sum()))
    ruled = wr.fixed < 0
    cross = ruled & np.isnan(wr.coverage)
    box = ruled & ~cross
    base_u = int(((wr.fixed == 1) & ~ans).sum())
    base_a = int(((wr.fixed == 1) & ans).sum())
    xfloor, xbg, x_u, x_a = _cross_script_floors(wr.dense_top[cross], wr.background[cross], ans[cross],
                                                 max_false_abstain)
    top, cov, bg, a = wr.dense_top[box], wr.coverage[box], wr.background[box], ans[box]
    sures = np.array(SURES)
    low_cov = cov[:, None] < np.array(COVERAGES)[None, :]  # [n, C]
    below_sure = top[:, None] < sures[None, :]  # [n, S]
    settings: list[tuple[float, float]] = []
    b_u: list[np.ndarray] = []
    b_a: list[np.ndarray] = []
    for floor in FLOORS:
        for bg_floor in BACKGROUNDS:
            below = (top < floor) | (bg < bg_floor)
            doubtful = (~below[:, None] & below_sure)[:, :, None] & low_cov[:, None, :]  # [n, S, C]
            decided = below[:, None, None] | doubtful
            decided[:, sures < floor, :] = True  # a "sure" under the floor is no setting: never chosen below
            b_u.append(decided[~a].sum(0).ravel())
            b_a.append(decided[a].sum(0).ravel())
            settings.append((floor, bg_floor))
    acc = (base_u + x_u + np.stack(b_u)) / n_unans  # [floor x background, sure x coverage]
    far = (base_a + x_a + np.stack(b_a)) / n_ans
    slack = np.minimum(acc - min_abstain, max_false_abstain - far)
    meets_far = far <= max_false_abstain + 1e-12
    tier = np.where(slack >= -1e-12, 2, np.where(meets_far, 1, 0))
    primary = np.where(tier == 2, slack, np.where(tier == 1, acc, -far))
    order = np.lexsort(((acc - far).ravel(), np.round(primary, 9).ravel(), tier.ravel()))
    t, sc = np.unravel_index(order[-1], acc.shape)
    floor, bg_floor = settings[t]
    sure, min_cov = SURES[sc // len(COVERAGES)], COVERAGES[sc % len(COVERAGES)]
    rule = AbstainRule(float(floor), float(max(sure, floor)), float(min_cov), xfloor, float(bg_floor), xbg)
    return {"rule": rule, "feasible": bool(slack[t, sc] >= 0), "abstain_accuracy": round(float(acc[t, sc]), 4),
            "false_abstain_rate": round(float(far[t, sc]), 4)}


def _files(paths: Path | str | Sequence[Path | str]) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def read_question_files(paths: Path | str | Sequence[Path | str], catalogue: Catalogue,
                        answerable: Sequence[Path | str] = ()) -> list[Question]:
    """One file's questions, or several files' in order (a library's STARD questions with off-topic and junk
    ones, which its abstain rule needs); an id twice is refused. Of the `answerable` files only the answerable
    questions are taken: written for a smaller corpus (the two regulations), their "unanswerable" ones may be
    answered by a larger one (the library holds 产品质量法's fines), but what they answer still stands."""
    questions: list[Question] = []
    seen: dict[str, Path] = {}
    for f, only_answerable in [*((f, False) for f in _files(paths)), *((f, True) for f in _files(answerable))]:
        for q in read_questions(f, catalogue):
            if only_answerable and not q.answerable:
                continue
            if q.id in seen:
                raise QuestionFileError(f"{f}: the id {q.id!r} is also in {seen[q.id]}")
            seen[q.id] = f
            questions.append(q)
    return questions


def questions_digest(paths: Path | str | Sequence[Path | str],
                     answerable: Sequence[Path | str] = ()) -> tuple[str, str]:
    """(name, sha256) the manifest records: a file's own, or for several files their names joined by " + "
    (`dev.jsonl (answerable)` for an answerable-only one) and the sha256 of those names and the files' digests."""
    from ingest.stores.index_io import sha256_file

    files = _files(paths)
    if len(files) == 1 and not answerable:
        return files[0].name, sha256_file(files[0])
    names = [(f.name, f) for f in files] + [(f"{f.name} (answerable)", f) for f in _files(answerable)]
    joined = "".join(f"{name}\t{sha256_file(f)}\n" for name, f in names)
    return " + ".join(name for name, _ in names), hashlib.sha256(joined.encode("utf-8")).hexdigest()


def calibrate(index_dir: Path | str, questions_path: Path | str | Sequence[Path | str], min_abstain: float = 0.90,
              max_false_abstain: float = 0.03, cache: Path | None = None, weights: Sequence[float] = WEIGHTS,
              progress: bool | None = None, retriever=None, answerable: Sequence[Path | str] = ()) -> dict[str, Any]:
    if retriever is None:
        from retrieval.retriever import Retriever

        retriever = Retriever(index_dir)
    embedder = CachingEmbedder(retriever.embedder, cache)
    searcher = retriever.with_embedder(embedder)  # the given Retriever is left as it is
    questions = read_question_files(questions_path, Catalogue.from_index(searcher.index), answerable)
    # The fusion weight is chosen on ranking alone (MRR@10, then Recall@5, then nearest 0.5): the abstain
    # evidence barely moves with it, and the abstain grid then runs once, at that weight.
    within = versions_within(searcher, questions)
    runs = []
    for w in weights:
        runs.append(collect(searcher, questions, float(w), progress, within))
        if w == weights[0]:
            embedder.save()
        log.info("w=%.2f mrr@10=%.4f", w, runs[-1].metrics["mrr@10"])
    grid = [{"dense_weight": r.weight, **{m: r.metrics[m] for m in RANKING}} for r in runs]
    chosen = max(runs, key=lambda r: (round(r.metrics["mrr@10"], 4), round(r.metrics["recall@5"], 4),
                                      -abs(r.weight - 0.5)))
    choice = abstain_grid(chosen, min_abstain, max_false_abstain)
    best = {"dense_weight": chosen.weight, "abstain_rule": asdict(choice["rule"]), "feasible": choice["feasible"],
            **{m: chosen.metrics[m] for m in RANKING}, "abstain_accuracy": choice["abstain_accuracy"],
            "false_abstain_rate": choice["false_abstain_rate"]}
    return {
        "questions": len(questions),
        "constraints": {"min_abstain_accuracy": min_abstain, "max_false_abstain_rate": max_false_abstain},
        "feasible": best["feasible"],
        "best": {"dense_weight": best["dense_weight"], "abstain_rule": best["abstain_rule"],
                 "metrics": {k: best[k] for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10",
                                                  "abstain_accuracy", "false_abstain_rate")}},
        "grid": grid,
    }


def calibrate_and_save(index_dir: Path | str, questions_path: Path | str | Sequence[Path | str],
                       only_if_stale: bool = False, answerable: Sequence[Path | str] = (),
                       **options: Any) -> dict[str, Any] | None:
    """Calibrate on a corpus's development questions and store the result in the index's manifest, where
    every Retriever that loads the index finds it. With only_if_stale, nothing is done (None is returned)
    when the serving build was already calibrated on these very questions and with the same glossary (the
    glossary changes what English questions search, so the weight and floors fitted without it are stale)."""
    from ingest.stores.index_io import read_manifest, record_in_manifest
    from retrieval.glossary import glossary_digest
    from retrieval.settings import MANIFEST_KEY

    name, digest = questions_digest(questions_path, answerable)
    glossary = glossary_digest()
    stored = (read_manifest(Path(index_dir), verify=False) or {}).get(MANIFEST_KEY) or {}
    done = stored.get("calibrated_on") or {}
    if only_if_stale and done.get("sha256") == digest and done.get("glossary_sha256") == glossary:
        return None
    result = calibrate(index_dir, questions_path, answerable=answerable, **options)
    best = result["best"]
    record_in_manifest(Path(index_dir), MANIFEST_KEY, {
        "dense_weight": best["dense_weight"], "abstain_rule": best["abstain_rule"],
        "calibrated_on": {"questions": name, "count": result["questions"], "sha256": digest,
                          "glossary_sha256": glossary, "dev_metrics": best["metrics"]}})
    return result
