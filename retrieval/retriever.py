"""The Retriever: a question in, cited articles out. Loads the model and the index once."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, make_embedder
from ingest.errors import EmbedderError, QueryError
from ingest.index_io import LoadedIndex, load_index
from ingest.schema import Article, Result, SearchResponse
from ingest.words import normalise, to_simplified, warm_up, words
from retrieval.abstain import AbstainRule, coverage
from retrieval.dense import dense_scores
from retrieval.fuse import DEFAULT_DENSE_WEIGHT, fuse
from retrieval.highlight import best_sentence
from retrieval.query import clean_query
from retrieval.references import find_reference, name_table

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "lexical")
MAX_K = 50
CANDIDATES = 100  # chunks taken from each retriever before fusion
NAMED_REGULATION_BOOST = 0.15  # a regulation named in the question ranks its articles higher


@dataclass(frozen=True)
class Scored:
    article: int
    score: float
    found_by: tuple[str, ...]
    chunk: int | None


class Retriever:
    def __init__(self, index_dir: Path | str = Path("data/index"), embedder: Embedder | None = None,
                 dense_weight: float = DEFAULT_DENSE_WEIGHT, abstain_rule: AbstainRule | None = None,
                 verify: bool = True) -> None:
        import faiss

        # One search is small; a second thread costs more in hand-off than it gains (2.7x slower at 1M).
        faiss.omp_set_num_threads(1)
        self.index: LoadedIndex = load_index(Path(index_dir), verify=verify)
        expected = self.index.model_id
        self.embedder = embedder or make_embedder(self.index.manifest["embedder"]["spec"], job="query")
        if self.embedder.model_id != expected or self.embedder.dim != self.index.dense.d:
            raise EmbedderError(
                f"the index was built with {expected} ({self.index.dense.d} dims) but the embedder is "
                f"{self.embedder.model_id} ({self.embedder.dim} dims); rebuild with `python -m ingest build "
                f"--embedder ...` or search with the model the index was built with")
        self.dense_weight = dense_weight
        self.abstain_rule = abstain_rule or AbstainRule()
        arts = self.index.articles
        pos = {a.id: i for i, a in enumerate(arts)}
        self._chunk_article = np.array([pos[c.article_id] for c in self.index.chunks], dtype=np.int64)
        self._by_label = {(a.regulation_id, a.number, a.sub_number): i for i, a in enumerate(arts)}
        self._article_reg = np.array([a.regulation_id for a in arts], dtype=object)
        self._names = name_table(self.index.regulations)
        self._norm_text = [normalise(f"{a.regulation_title}{a.label}{a.text}") for a in arts]
        warm_up()

    # -- public API ---------------------------------------------------------------------------------
    @property
    def regulations(self):
        return self.index.regulations

    def article(self, regulation_id: str, number: int, sub_number: int = 0) -> Article | None:
        i = self._by_label.get((regulation_id, number, sub_number))
        return None if i is None else self.index.articles[i]

    def search(self, question: str, k: int = 5, mode: str = "hybrid",
               regulations: list[str] | None = None) -> SearchResponse:
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        q = clean_query(question)
        allowed = self._allowed(regulations)
        qwords = words(q)
        dense: dict[int, tuple[float, int]] = {}
        lexical: dict[int, tuple[float, int]] = {}
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([to_simplified(q)])[0]
            dense = dense_scores(self.index, self._chunk_article, qvec, CANDIDATES, allowed)
        if mode in ("hybrid", "lexical"):
            from retrieval.lexical import lexical_scores

            lexical = lexical_scores(self.index, self._chunk_article, qwords, CANDIDATES, allowed)
        ranked = self._rank(mode, dense, lexical)
        ranked = self._apply_reference(q, ranked, allowed)
        top = ranked[:k]
        abstained = self._abstain(top, dense, qwords, mode)
        results = tuple(self._result(s, q, qwords) for s in top)
        return SearchResponse(query=q, abstained=abstained, results=results, mode=mode)

    # -- steps ----------------------------------------------------------------------------------------
    def _allowed(self, regulations: list[str] | None) -> np.ndarray | None:
        if not regulations:
            return None
        wanted = set()
        for r in regulations:
            for reg in self.index.regulations:
                if r in (reg.id, reg.title) or r in reg.short_names:
                    wanted.add(reg.id)
        if not wanted:
            raise QueryError("none of the chosen regulations is in the index")
        return np.array([rid in wanted for rid in self._article_reg], dtype=bool)

    def _rank(self, mode: str, dense: dict[int, tuple[float, int]],
              lexical: dict[int, tuple[float, int]]) -> list[Scored]:
        if mode == "dense":
            scores = {a: s for a, (s, _) in dense.items()}
        elif mode == "lexical":
            scores = {a: s for a, (s, _) in lexical.items()}
        else:
            scores = fuse({a: s for a, (s, _) in dense.items()}, {a: s for a, (s, _) in lexical.items()},
                          self.dense_weight)
        out = []
        for a, s in scores.items():
            by = tuple(name for name, hits in (("dense", dense), ("lexical", lexical)) if a in hits)
            chunk = (dense.get(a) or lexical.get(a) or (None, None))[1]
            out.append(Scored(a, float(s), by, chunk))
        out.sort(key=lambda x: (-x.score, x.article))
        return out

    def _apply_reference(self, q: str, ranked: list[Scored], allowed: np.ndarray | None) -> list[Scored]:
        ref = find_reference(q, self._names)
        if ref is None or ref.unknown:  # an article of a regulation the index does not hold pins nothing
            return ranked
        top = ranked[0].score if ranked else 1.0
        if ref.number is None:
            # A regulation is named but no article: prefer that regulation's articles.
            named = set(ref.regulation_ids)
            boosted = [Scored(s.article, s.score + NAMED_REGULATION_BOOST * (self._article_reg[s.article] in named),
                              s.found_by, s.chunk) for s in ranked]
            return sorted(boosted, key=lambda x: (-x.score, x.article))
        regs = ref.regulation_ids or tuple(r.id for r in self.index.regulations)
        exact = [self._by_label.get((rid, ref.number, ref.sub_number)) for rid in regs]
        exact = [i for i in exact if i is not None and (allowed is None or allowed[i])]
        if not exact:
            return ranked
        prior = {s.article: s for s in ranked}
        # Referenced articles first, ordered among themselves by how well they match the rest of the question.
        pinned = sorted(exact, key=lambda i: -(prior[i].score if i in prior else -1.0))
        head = [Scored(i, top + 1.0 - 0.001 * n, ("reference", *(prior[i].found_by if i in prior else ())),
                       prior[i].chunk if i in prior else None) for n, i in enumerate(pinned)]
        return head + [s for s in ranked if s.article not in set(exact)]

    def _abstain(self, top: list[Scored], dense: dict[int, tuple[float, int]], qwords: list[str], mode: str) -> bool:
        if not top:
            return True
        if "reference" in top[0].found_by:
            return False
        best = top[0].article
        cov = coverage(qwords, self._norm_text[best])
        if mode == "lexical":
            return cov < self.abstain_rule.min_coverage
        dense_top = max((s for s, _ in dense.values()), default=0.0)
        return self.abstain_rule.abstain(dense_top, cov)

    def _result(self, s: Scored, q: str, qwords: list[str]) -> Result:
        art = self.index.articles[s.article]
        within = None
        if s.chunk is not None:
            c = self.index.chunks[s.chunk]
            within = (c.start, c.end)
        start, end = best_sentence(art.text, q, qwords, within)
        return Result(art, s.score, s.found_by, start, end)
