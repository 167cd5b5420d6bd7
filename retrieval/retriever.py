"""The Retriever: a question in, cited articles out. Loads the model and the index once.

It owns the query side: search, the articles around a result (`context`), its closest articles in other
regulations (`related`), and whether a newer build has been switched in (`newer_build_current`,
`reloaded`).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, make_embedder
from ingest.errors import EmbedderError, IndexFault, QueryError
from ingest.index_io import LoadedIndex, current_build, load_index, read_manifest
from ingest.paths import index_dir
from ingest.schema import Article, Regulation
from ingest.words import normalise, to_simplified, warm_up, words
from retrieval.abstain import coverage
from retrieval.dense import dense_scores
from retrieval.fuse import fuse
from retrieval.highlight import best_sentence
from retrieval.lookup import IndexMaps
from retrieval.query import clean_query
from retrieval.references import find_reference, name_table
from retrieval.related import context_articles, related_articles
from retrieval.results import Result, SearchResponse
from retrieval.settings import DEFAULT_MODE, MODES, SearchSettings

log = logging.getLogger(__name__)

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
    def __init__(self, index: Path | str | None = None, embedder: Embedder | None = None,
                 settings: SearchSettings | None = None, verify: bool = True) -> None:
        self.root = index_dir(index)
        self.index: LoadedIndex = load_index(self.root, verify=verify)
        # One search is small; a second thread costs more in hand-off than it gains (2.7x slower at 1M).
        self.index.store.limit_threads(1)
        expected = self.index.model_id
        self.embedder = embedder or make_embedder(self.index.manifest["embedder"]["spec"], job="query")
        self._check_embedder(self.embedder)
        self._given_settings = settings
        self._verify = verify
        # Defaults: what the caller gave, else what the index was calibrated with, else the code's defaults.
        self.settings = settings or SearchSettings.from_manifest(self.index.manifest)
        self._maps = IndexMaps.of(self.index)
        self._names = name_table(self.index.regulations)
        self._norm_text = [normalise(f"{a.regulation_title}{a.label}{a.text}") for a in self.index.articles]
        log.debug("loaded %s (%s)", self.index.path, expected)
        warm_up()

    def _check_embedder(self, embedder: Embedder) -> None:
        expected, dim = self.index.model_id, self.index.store.dim
        if embedder.model_id != expected or embedder.dim != dim:
            raise EmbedderError(
                f"the index was built with {expected} ({dim} dims) but the embedder is "
                f"{embedder.model_id} ({embedder.dim} dims); rebuild with `python -m ingest build "
                f"--embedder ...` or search with the model the index was built with")

    # -- the index ------------------------------------------------------------------------------------
    @property
    def regulations(self) -> tuple[Regulation, ...]:
        return self.index.regulations

    def article(self, regulation_id: str, number: int, sub_number: int = 0) -> Article | None:
        i = self._maps.by_label.get((regulation_id, number, sub_number))
        return None if i is None else self.index.articles[i]

    def article_by_id(self, article_id: str) -> Article | None:
        i = self._maps.position.get(article_id)
        return None if i is None else self.index.articles[i]

    def context(self, article_id: str, before: int = 2, after: int = 2) -> list[Article]:
        """The article between its neighbours: same regulation and chapter, in article order."""
        return context_articles(self.index, self._maps, article_id, before, after)

    def related(self, article_id: str, k: int = 3) -> list[Result]:
        """The k closest articles of other regulations (by stored chunk vectors)."""
        return related_articles(self.index, self._maps, article_id, k)

    def newer_build_current(self) -> bool:
        """Has another build been switched in since this one was loaded? A pointer that is being switched
        or is damaged counts as no: keep serving what is loaded."""
        try:
            return current_build(self.root).name != self.index.path.name
        except IndexFault:
            return False

    def reloaded(self) -> Retriever:
        """A Retriever on the build that is current now, reusing this one's model when the build was made
        with the same model (the usual rebuild)."""
        manifest = read_manifest(self.root, verify=False) or {}
        same_model = manifest.get("embedder", {}).get("model_id") == self.index.model_id
        return Retriever(self.root, embedder=self.embedder if same_model else None,
                         settings=self._given_settings, verify=self._verify)

    def with_embedder(self, embedder: Embedder) -> Retriever:
        """The same loaded index searched with another engine of the same model (e.g. a caching wrapper);
        this Retriever is left as it is."""
        self._check_embedder(embedder)
        other = copy.copy(self)
        other.embedder = embedder
        return other

    # -- search ---------------------------------------------------------------------------------------
    def search(self, question: str, k: int = 5, mode: str = DEFAULT_MODE,
               regulations: Sequence[str] | None = None,
               settings: SearchSettings | None = None) -> SearchResponse:
        """The k articles that best answer the question. `settings` replaces the Retriever's for this call."""
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        use = settings or self.settings
        q = clean_query(question)
        wanted, allowed = self._allowed(regulations)
        qwords = words(q)
        dense: dict[int, tuple[float, int]] = {}
        lexical: dict[int, tuple[float, int]] = {}
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([to_simplified(q)])[0]
            dense = dense_scores(self.index, self._maps.chunk_article, qvec, CANDIDATES, wanted)
        if mode in ("hybrid", "lexical"):
            from retrieval.lexical import lexical_scores

            lexical = lexical_scores(self.index, self._maps.chunk_article, qwords, CANDIDATES, allowed)
        ranked = self._rank(mode, dense, lexical, use.dense_weight)
        ranked = self._apply_reference(q, ranked, allowed)
        top = ranked[:k]
        abstained = self._abstain(top, dense, qwords, mode, use)
        results = tuple(self._result(s, q, qwords) for s in top)
        return SearchResponse(query=q, abstained=abstained, results=results, mode=mode, words=tuple(qwords))

    # -- steps ----------------------------------------------------------------------------------------
    def _allowed(self, regulations: Sequence[str] | None) -> tuple[frozenset[str] | None, np.ndarray | None]:
        """The regulation ids a filter names, and which articles they hold (None, None: no filter)."""
        if not regulations:
            return None, None
        wanted = set()
        for r in regulations:
            for reg in self.index.regulations:
                if r in (reg.id, reg.title) or r in reg.short_names:
                    wanted.add(reg.id)
        if not wanted:
            raise QueryError("none of the chosen regulations is in the index")
        return frozenset(wanted), np.array([rid in wanted for rid in self._maps.article_regulation], dtype=bool)

    def _rank(self, mode: str, dense: dict[int, tuple[float, int]], lexical: dict[int, tuple[float, int]],
              dense_weight: float) -> list[Scored]:
        if mode == "dense":
            scores = {a: s for a, (s, _) in dense.items()}
        elif mode == "lexical":
            scores = {a: s for a, (s, _) in lexical.items()}
        else:
            scores = fuse({a: s for a, (s, _) in dense.items()}, {a: s for a, (s, _) in lexical.items()},
                          dense_weight)
        out = []
        for a, s in scores.items():
            by = tuple(name for name, hits in (("dense", dense), ("lexical", lexical)) if a in hits)
            chunk = (dense.get(a) or lexical.get(a) or (None, None))[1]
            out.append(Scored(a, float(s), by, chunk))
        out.sort(key=lambda x: (-x.score, x.article))
        return out

    def _apply_reference(self, q: str, ranked: list[Scored], allowed: np.ndarray | None) -> list[Scored]:
        ref = find_reference(q, self._names)
        if ref is None:
            return ranked
        top = ranked[0].score if ranked else 1.0
        regulation_of = self._maps.article_regulation
        if ref.number is None:
            # A regulation is named but no article: prefer that regulation's articles.
            named = set(ref.regulation_ids)
            boosted = [Scored(s.article, s.score + NAMED_REGULATION_BOOST * (regulation_of[s.article] in named),
                              s.found_by, s.chunk) for s in ranked]
            return sorted(boosted, key=lambda x: (-x.score, x.article))
        regs = ref.regulation_ids or tuple(r.id for r in self.index.regulations)
        exact = [self._maps.by_label.get((rid, ref.number, ref.sub_number)) for rid in regs]
        exact = [i for i in exact if i is not None and (allowed is None or allowed[i])]
        if not exact:
            return ranked
        prior = {s.article: s for s in ranked}
        # Referenced articles first, ordered among themselves by how well they match the rest of the question.
        pinned = sorted(exact, key=lambda i: -(prior[i].score if i in prior else -1.0))
        head = [Scored(i, top + 1.0 - 0.001 * n, ("reference", *(prior[i].found_by if i in prior else ())),
                       prior[i].chunk if i in prior else None) for n, i in enumerate(pinned)]
        return head + [s for s in ranked if s.article not in set(exact)]

    def _abstain(self, top: list[Scored], dense: dict[int, tuple[float, int]], qwords: list[str], mode: str,
                 settings: SearchSettings) -> bool:
        if not top:
            return True
        if "reference" in top[0].found_by:
            return False
        best = top[0].article
        cov = coverage(qwords, self._norm_text[best])
        if mode == "lexical":
            return cov < settings.abstain_rule.min_coverage
        dense_top = max((s for s, _ in dense.values()), default=0.0)
        return settings.abstain_rule.abstain(dense_top, cov)

    def _result(self, s: Scored, q: str, qwords: list[str]) -> Result:
        art = self.index.articles[s.article]
        within = None
        if s.chunk is not None:
            c = self.index.chunks[s.chunk]
            within = (c.start, c.end)
        start, end = best_sentence(art.text, q, qwords, within)
        return Result(art, s.score, s.found_by, start, end)
