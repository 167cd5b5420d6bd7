"""The Retriever: a question in, cited articles out. Loads the model and the index once.

It owns the query side: search, the articles around a result (`context`), its closest articles in other
regulations (`related`), and whether a newer build has been switched in (`newer_build_current`,
`reloaded`).
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.embed import Embedder, make_embedder
from ingest.errors import EmbedderError, IndexFault, QueryError
from ingest.paths import index_dir
from ingest.schema import Article, Regulation
from ingest.stores.index_io import CURRENT, LoadedIndex, current_build, load_index, read_manifest
from ingest.stores.row_filter import RowFilter
from ingest.words import normalise, to_simplified, warm_up, words
from retrieval.abstain import AbstainRule, Evidence, coverage
from retrieval.answer_kind import judge
from retrieval.dense import dense_scores
from retrieval.filters import Facets, newest
from retrieval.fuse import fuse
from retrieval.glossary import Glossary, load_glossary
from retrieval.highlight import best_sentence
from retrieval.lookup import IndexMaps
from retrieval.query import clean_query
from retrieval.references import Reference, find_reference, name_table
from retrieval.related import context_articles, related_articles
from retrieval.results import Result, SearchResponse
from retrieval.settings import DEFAULT_MODE, MODES, SearchSettings
from retrieval.signals import BACKGROUND, background_margin, foreign_names, looks_like_words, places_in

log = logging.getLogger(__name__)

RELATED_CACHE = 4096  # (article, k) pairs whose related articles are kept per loaded build


def _related_tuple(index: LoadedIndex, maps: IndexMaps, article_id: str, k: int,
                   within: frozenset[str] | None = None) -> tuple[Result, ...]:
    return tuple(related_articles(index, maps, article_id, k, within))

# 第X条 with a number that is no article number (第〇条, 第-3条, 第一二三条): the citation matcher reads no number.
_ARTICLE_LIKE_RE = re.compile(r"第\s*-?\s*[0-9〇零一二三四五六七八九十百千两]{1,9}\s*条|\b(?:article|art\.?)\s*-?\d+\b")

MAX_K = 50
FILTERS_KEPT = 16  # filters whose regulation ids are kept worked out (see regulation_ids)
CANDIDATES = 100  # chunks taken from each retriever before fusion
# A regulation named in the question ranks its articles first. 0.15 sufficed with dense weight 0.75; with the
# glossary the calibrated weight fell to 0.45 and one regulation's many mentions of a term (杭州第十二条's four
# 首席质量官) outscored the named one's article by up to 0.4 ("湖北的首席质量官制度" answered with Hangzhou's).
# dev MRR@10 is flat from 0.25 to 1.0 (0.960); 0.5 also puts "Hubei chief quality officer" on Hubei's article.
NAMED_REGULATION_BOOST = 0.5


def _best_of(found: dict[int, tuple[float, int]], more: dict[int, tuple[float, int]]) -> dict[int, tuple[float, int]]:
    """Candidates of two searches by the same measure: each article with its better score and chunk."""
    out = dict(found)
    for a, hit in more.items():
        if a not in out or hit[0] > out[a][0]:
            out[a] = hit
    return out


def _pointer_signature(root: Path) -> tuple[int, int, int] | None:
    """Inode, modification time and size of an index's CURRENT pointer; None when it cannot be read, or when the
    directory follows a build published in Milvus (whose catalog, not a file, names the build)."""
    try:
        if (root / "REMOTE").exists():
            return None
        st = os.stat(root / CURRENT)
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def _with_terms(q: str, terms: str) -> str:
    return f"{q} {terms}" if terms else q


@dataclass(frozen=True)
class Scored:
    article: int
    score: float
    found_by: tuple[str, ...]
    chunk: int | None


class Retriever:
    def __init__(self, index: Path | str | None = None, embedder: Embedder | None = None,
                 settings: SearchSettings | None = None, verify: bool = True,
                 glossary: Glossary | None = None) -> None:
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
        self._article_rows = RowFilter(list(self._maps.article_regulation))  # which articles a filter allows
        self._names = name_table(self.index.regulations)
        self.facets = Facets.of(self.index.regulations)  # levels, regions and names: the search's filters
        self._pointer_seen: tuple[int, int, int] | None = None  # the CURRENT file last read, see newer_build_current
        self._filter_ids = functools.lru_cache(maxsize=FILTERS_KEPT)(self._regulation_ids)  # see regulation_ids
        self._regulation = {r.id: r for r in self.index.regulations}
        self._norm_text = [normalise(f"{a.regulation_title}{a.label}{a.text}") for a in self.index.articles]
        self._held_names = list(self._names.exact)
        self._article_counts = Counter(a.regulation_id for a in self.index.articles)
        corpus_text = "".join(self._norm_text)
        self._held_places = places_in(corpus_text, self._held_names)
        # English phrases → the corpus's own terms; only terms this index uses (none for another corpus).
        self._given_glossary = glossary
        self.glossary = (glossary if glossary is not None else load_glossary()).restricted(
            lambda term: normalise(term) in corpus_text)
        # Unrelated sentences as passages: the yardstick of the background margin (≈0.35 s, once per load),
        # embedded on another thread while jieba's and opencc's dictionaries load here: the engines compute
        # without holding the GIL, so the two overlap instead of adding up.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="background") as pool:
            background = pool.submit(self.embedder.embed_documents, list(BACKGROUND))
            warm_up()
            self._background = background.result()
        # An article's related articles depend on the build alone, and every card of a page reply asks for
        # them (a vector search each): kept per loaded build, bounded for corpora of many articles.
        # (Cached over the index and maps, not a bound method: a Retriever must not hold itself in a cycle,
        # or a replaced build would stay in memory until the cycle collector runs.)
        self._related = functools.lru_cache(maxsize=RELATED_CACHE)(
            functools.partial(_related_tuple, self.index, self._maps))
        log.debug("loaded %s (%s)", self.index.path, expected)

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

    def related(self, article_id: str, k: int = 3, within: frozenset[str] | None = None) -> list[Result]:
        """The k closest articles of other regulations (by stored chunk vectors); `within`: only among these."""
        return list(self._related(article_id, k) if within is None else self._related(article_id, k, within))

    def newer_build_current(self) -> bool:
        """Has another build been switched in since this one was loaded? A pointer that is being switched
        or is damaged counts as no: keep serving what is loaded. Asked on every request, so the pointer is
        read again only when its file changed (a switch replaces it: a new inode)."""
        signature = _pointer_signature(self.root)
        if signature is not None and signature == self._pointer_seen:
            return False
        try:
            newer = current_build(self.root).name != self.index.path.name
        except IndexFault:
            return False
        if not newer:
            self._pointer_seen = signature
        return newer

    def reloaded(self) -> Retriever:
        """A Retriever on the build that is current now, reusing this one's model when the build was made
        with the same model (the usual rebuild)."""
        manifest = read_manifest(self.root, verify=False) or {}
        same_model = manifest.get("embedder", {}).get("model_id") == self.index.model_id
        return Retriever(self.root, embedder=self.embedder if same_model else None,
                         settings=self._given_settings, verify=self._verify, glossary=self._given_glossary)

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
               settings: SearchSettings | None = None, levels: Sequence[str] | None = None,
               regions: Sequence[str] | None = None) -> SearchResponse:
        """The k articles that best answer the question. `settings` replaces the Retriever's for this call.
        `regulations`, `levels` and `regions` limit the search (retrieval/filters.py: each kind adds up, the
        kinds narrow each other)."""
        if mode not in MODES:
            raise QueryError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
        if not isinstance(k, int) or not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K}")
        use = settings or self.settings
        q = clean_query(question)
        wanted, allowed = self._allowed(regulations, levels, regions)
        qwords = words(q)
        # The corpus's terms for the English phrases of the question (none for a Chinese one), on both sides:
        # the lexical side finds nothing in English without them, and the model puts a question that carries
        # them closer to its article (dev: English MRR@10 0.73 without, 0.89 lexical side only, 0.90 both;
        # new English questions 0.58 / 0.87 / 0.97). Not counted in the coverage, which measures what was typed.
        terms = " ".join(self.glossary.terms(q))
        dense: dict[int, tuple[float, int]] = {}
        lexical: dict[int, tuple[float, int]] = {}
        qvec = None
        ref = find_reference(q, self._names)
        # A regulation named without an article: its own best chunks join the candidates, which in a library
        # other laws' closer wording can fill before one of them is reached ("the Hangzhou measures' legal
        # liability"); the named regulation's boost (_apply_reference) then has something to lift.
        named = self._named_without_article(ref, wanted)
        if mode in ("hybrid", "dense"):
            qvec = self.embedder.embed_queries([to_simplified(_with_terms(q, terms))])[0]
            dense = dense_scores(self.index, self._maps.chunk_article, qvec, CANDIDATES, wanted)
            if named:
                dense = _best_of(dense, dense_scores(self.index, self._maps.chunk_article, qvec, CANDIDATES, named))
        if mode in ("hybrid", "lexical"):
            from retrieval.lexical import lexical_scores

            lex_query, lex_words = _with_terms(q, terms), qwords + words(terms) if terms else qwords
            lexical = lexical_scores(self.index, self._maps.chunk_article, lex_query, lex_words, CANDIDATES, wanted)
            if named:
                lexical = _best_of(lexical, lexical_scores(self.index, self._maps.chunk_article, lex_query, lex_words,
                                                           CANDIDATES, named))
        ranked = self._rank(mode, dense, lexical, use.dense_weight)
        ranked = self._apply_reference(ref, ranked, allowed)
        top = ranked[:k]
        refusal = self._refusal(q, ref, top)
        rule = use.rule_for(None if wanted is None else self._article_rows.count(wanted))
        abstained = refusal is not None or self._abstain(top, dense, qwords, qvec, mode, rule)
        results = tuple(self._result(s, q, qwords) for s in top)
        verdict = judge(q, [r.article.text for r in results], abstained)
        return SearchResponse(query=q, abstained=abstained, results=results, mode=mode, words=tuple(qwords),
                              message=refusal or None, answer=verdict.answer, reason=verdict.reason)

    # -- steps ----------------------------------------------------------------------------------------
    def regulation_ids(self, regulations: Sequence[str] | None = None, levels: Sequence[str] | None = None,
                       regions: Sequence[str] | None = None) -> frozenset[str] | None:
        """The regulation ids a filter names (None: no filter). QueryError when it names nothing the index holds.
        The last few answers are kept: a library's questions come with the same filter (the ~3,200 versions in
        force), and working it out name by name takes a millisecond each time."""
        try:
            key = tuple(v if v is None or isinstance(v, str) else tuple(v) for v in (regulations, levels, regions))
            hash(key)
        except TypeError:  # a name that is not a string (a list…): worked out, and refused, without the cache
            return self._regulation_ids(regulations, levels, regions)
        return self._filter_ids(*key)

    def _regulation_ids(self, regulations: Sequence[str] | None, levels: Sequence[str] | None,
                        regions: Sequence[str] | None) -> frozenset[str] | None:
        by_facets = self.facets.ids(levels, regions)
        if not regulations:
            return by_facets
        # Each name by its id, title or short name, then as 《中华人民共和国产品质量法》, 中华人民共和国产品质量法 or
        # 产品质量法 alike: a mixed list ("示例条例", "《示例市质量促进办法》") names both.
        wanted = set(self.facets.name_ids([r for r in regulations if isinstance(r, str)]))
        if not wanted:
            raise QueryError("none of the chosen regulations is in the index")
        if by_facets is not None:
            wanted &= by_facets
            if not wanted:
                raise QueryError("所选法规不属于所选层级或地区 (none of the chosen regulations is of the chosen "
                                 "level or region)")
        return frozenset(wanted)

    def _allowed(self, regulations: Sequence[str] | None, levels: Sequence[str] | None = None,
                 regions: Sequence[str] | None = None) -> tuple[frozenset[str] | None, np.ndarray | None]:
        """The regulation ids a filter names, and which articles they hold (None, None: no filter)."""
        wanted = self.regulation_ids(regulations, levels, regions)
        if wanted is None:
            return None, None
        return wanted, self._article_rows.mask(wanted)

    def _named_without_article(self, ref: Reference | None, wanted: frozenset[str] | None) -> frozenset[str]:
        """The regulations a question names without an article (of those the filter allows): empty when it names
        none, an article, or every regulation the search may return anyway."""
        if ref is None or ref.unknown or ref.number is not None or not ref.regulation_ids:
            return frozenset()
        named = frozenset(ref.regulation_ids) if wanted is None else frozenset(ref.regulation_ids) & wanted
        everything = wanted if wanted is not None else self._regulation.keys()
        return frozenset() if named >= everything else named

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

    def _apply_reference(self, ref: Reference | None, ranked: list[Scored],
                         allowed: np.ndarray | None) -> list[Scored]:
        if ref is None or ref.unknown:  # an article of a regulation the index does not hold pins nothing
            return ranked
        top = ranked[0].score if ranked else 1.0
        regulation_of = self._maps.article_regulation
        if ref.number is None:
            # A regulation is named but no article: prefer that regulation's articles.
            named = set(ref.regulation_ids)
            boosted = [Scored(s.article, s.score + NAMED_REGULATION_BOOST * (regulation_of[s.article] in named),
                              s.found_by, s.chunk) for s in ranked]
            return sorted(boosted, key=lambda x: (-x.score, x.article))
        # Of several versions of a named regulation, the article of the newest.
        named = ref.regulation_ids
        if named and allowed is not None:  # of those a filter allows (the version in force, or the one asked for)
            held = tuple(rid for rid in named if (i := self._maps.by_label.get((rid, ref.number, ref.sub_number)))
                         is not None and allowed[i])
            named = held or named
        regs = newest(named, self.index.regulations) if named else tuple(r.id for r in self.index.regulations)
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

    def _refusal(self, q: str, ref: Reference | None, top: list[Scored]) -> str | None:
        """Why no article can answer, when that needs no threshold: "" for a question with no words, else a
        message for a law or place the index does not hold (when it names none it holds; 第十条 then belongs to
        that other law) or an article number that does not exist."""
        if ref is not None and ref.unknown:
            return f"索引中没有“{ref.unknown}”· the index does not hold {ref.unknown}"
        folded = normalise(q)
        if ref is None or not ref.regulation_ids:
            foreign = foreign_names(folded, self._held_names, self._held_places)
            if foreign:
                return (f"索引中没有“{'、'.join(foreign)}”的规定 · the index holds no rules of "
                        f"{', '.join(foreign)}")
        if top and "reference" in top[0].found_by:
            return None
        if ref is not None and ref.number is not None:
            regs = [r for r in self.index.regulations if not ref.regulation_ids or r.id in ref.regulation_ids]
            if not any((r.id, ref.number, ref.sub_number) in self._maps.by_label for r in regs):
                label = f"第{ref.number}条" + (f"之{ref.sub_number}" if ref.sub_number else "")
                counts = "、".join(f"《{r.title}》共 {self._article_counts[r.id]} 条" for r in regs)
                return f"没有{label}（{counts}）· no such article"
            return None
        if _ARTICLE_LIKE_RE.search(folded):  # a readable number was handled above
            return "没有这样的条文（条号不成立）· no such article (the article number is malformed)"
        if not looks_like_words(q):
            return ""
        return None

    def _abstain(self, top: list[Scored], dense: dict[int, tuple[float, int]], qwords: list[str],
                 qvec: np.ndarray | None, mode: str, rule: AbstainRule) -> bool:
        if not top:
            return True
        if "reference" in top[0].found_by:
            return False
        if qvec is None:  # lexical mode: words are all the evidence there is; NaN (another script) is none
            return not coverage(qwords, self._norm_text[top[0].article]) >= rule.min_coverage
        return rule.abstain(self.evidence(top[0].article, dense, qwords, qvec))

    def evidence(self, best: int, dense: dict[int, tuple[float, int]], qwords: list[str],
                 qvec: np.ndarray) -> Evidence:
        """The signals the abstain rule weighs for the best article of one search."""
        dense_top = max((s for s, _ in dense.values()), default=0.0)
        return Evidence(dense_top, coverage(qwords, self._norm_text[best]),
                        background_margin(qvec, dense_top, self._background))

    def _result(self, s: Scored, q: str, qwords: list[str]) -> Result:
        art = self.index.articles[s.article]
        within = None
        if s.chunk is not None:
            c = self.index.chunks[s.chunk]
            within = (c.start, c.end)
        start, end = best_sentence(art.text, q, qwords, within)
        reg = self._regulation.get(art.regulation_id)
        return Result(art, s.score, s.found_by, start, end, level=reg.level if reg else None,
                      region=reg.region if reg else None)
