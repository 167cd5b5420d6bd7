"""Side by side: what each regulation says on one topic, verbatim, paired article to article.

A question asks for a comparison when it names two regulations or more (湖北和杭州对质量奖励的规定), or names one
or none but uses a comparison word (对比, 不同, 区别, compare) with a topic of its own: then every regulation of
the index is a side. Each side is searched alone for the topic words; a side whose search abstains has no
matching article, and an answer that holds few of the topic's key words (when the side's best answer holds them)
is left out. Rows are made from the first side's answers, each paired with the answer of another side that is
closest to it by stored vectors (Retriever.related) plus the share of its key words the other holds (lexical
overlap, words weighted by how rare they are in the index); answers of the other sides left unpaired get rows of
their own. A pair that shares almost no key words is marked weak. No generation, no rules per topic.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ingest.words import CJK, STOPWORDS, normalise, segments, words
from retrieval.conversation.followup import _read, corpus_of
from retrieval.filters import newest
from retrieval.lexical import document_share
from retrieval.results import Result

PER_SIDE = 3  # answers taken from each side's search
MAX_ROWS = 5
# An index of more regulations than this (a library) does not set all of them side by side: the sides a question
# leaves open are the regulations whose articles answer its topic best, and an article is compared with the
# regulations of its closest articles.
MAX_SIDES = 3
CLOSEST = 2  # articles shown beside one article compared from its card
CANDIDATES = 12  # vector neighbours per other regulation looked at when pairing an article
MAX_NEIGHBOURS = 200  # ... in all, however many regulations the index holds
LEXICAL_CANDIDATES = 5  # and articles found by its key words (a search per other regulation: up to LEXICAL_SIDES)
LEXICAL_SIDES = 8
KEY_WORDS = 8  # the rarest words of an article searched for its counterparts
WEAK = 0.12  # a pair sharing less than this (key-word overlap, both ways averaged) is weak
SECOND = 0.6  # a second counterpart is shown when its key-word overlap is this share of the first's
TOPIC_SHARE = 0.4  # an answer holding less than this share of its side's best topic overlap is left out
TOPIC_FLOOR = 0.3  # ... when that best overlap is at least this (else the topic's words are not in the texts)
# Comparison words beyond those the follow-up rules know (两边, 一样, both): asking to set texts side by side.
_CJK_RE = re.compile(f"[{CJK}]")
_COMPARE_RE = re.compile(r"对比|比较|对照|区别|不同|差别|差异|异同|\bcompare|\bcomparison|\bdiffer", re.IGNORECASE)


@dataclass(frozen=True)
class Comparison:
    topic: str  # the words searched (or the article compared)
    sides: tuple[tuple[str, str], ...]  # (regulation id, title), in column order
    rows: tuple[tuple[tuple[Result, ...], ...], ...]  # per row, per side: the articles (empty: none matches)
    weak: tuple[bool, ...] = ()  # per row: its articles share almost no key words (a loose pair)

    def is_weak(self, row: int) -> bool:
        return row < len(self.weak) and self.weak[row]


@functools.lru_cache(maxsize=4096)
def _tokens(text: str) -> frozenset[str]:
    return frozenset(words(text))


@functools.lru_cache(maxsize=4096)
def _terms(text: str) -> frozenset[str]:
    """An article's words as jieba reads them (two characters or more, filler dropped), simplified."""
    return frozenset(w for w in segments(normalise(text)) if len(w) > 1 and w not in STOPWORDS and _CJK_RE.search(w))


def _rarity(retriever, tokens: list[str]) -> float:
    share = document_share(retriever.index, tokens)
    return -math.log(share) if 0 < share < 1 else 0.0


def _weights(retriever, text: str) -> dict[str, float]:
    """A question's topic as the index's lexical tokens (characters and pairs: 质量奖励 also matches 质量奖),
    each weighted by its rarity in the index (log of 1 / the share of chunks that hold it)."""
    return {t: w for t in _tokens(text) if (w := _rarity(retriever, [t])) > 0}


def _key_words(retriever, text: str) -> dict[str, float]:
    """An article's words, each weighted by its rarity in the index: 首席质量官 weighs much, 质量 nothing."""
    return {t: w for t in _terms(text) if (w := _rarity(retriever, words(t))) > 0}


def overlap(weights: dict[str, float], text: str, tokens: bool = True) -> float:
    """The weighted share of these tokens (or, tokens=False, words) that `text` holds (0..1)."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    if tokens:
        have = _tokens(text)
        return sum(w for t, w in weights.items() if t in have) / total
    folded = normalise(text)
    return sum(w for t, w in weights.items() if t in folded) / total


def pair_overlap(retriever, a: str, b: str) -> float:
    """How much two articles share their key words, both ways averaged."""
    return (overlap(_key_words(retriever, a), b, tokens=False) + overlap(_key_words(retriever, b), a, tokens=False)) / 2


def sides_of(retriever, question: str) -> tuple[tuple[str, ...], str] | None:
    """(regulation ids, topic words) when the question asks for a comparison, else None."""
    corpus = corpus_of(retriever)
    turn = _read(question, corpus)
    named = newest(dict.fromkeys(turn.named), corpus.regulations)  # of several versions, the newest
    if not turn.content.strip() or len(corpus.regulations) < 2:
        return None
    if len(named) >= 2:
        return named, turn.content
    if turn.compare or _COMPARE_RE.search(question):
        if len(corpus.regulations) > MAX_SIDES:
            return named + _answering(retriever, turn.content, named, MAX_SIDES - len(named)), turn.content
        rest = tuple(r.id for r in corpus.regulations if r.id not in named)
        return named + rest, turn.content
    return None


def _answering(retriever, topic: str, named: tuple[str, ...], n: int) -> tuple[str, ...]:
    """The n regulations (none of those named) whose articles answer the topic best, each in its newest version."""
    titles = {r.id: r.title for r in retriever.regulations}
    taken = {titles[r] for r in named if r in titles}
    out: list[str] = []
    for r in retriever.search(topic, k=20).results:
        rid = r.article.regulation_id
        if len(out) < n and titles.get(rid) not in taken:
            taken.add(titles.get(rid, rid))
            out.append(rid)
    return _newest_versions(retriever, out)


def _newest_versions(retriever, ids: Sequence[str]) -> tuple[str, ...]:
    """One side per regulation: each id's title in its newest version (as a regulation named is read), in the
    order the titles first come. An old version whose article answers best does not stand for its regulation."""
    versions: dict[str, list[str]] = {}
    for r in retriever.regulations:
        versions.setdefault(r.title, []).append(r.id)
    titles = {r.id: r.title for r in retriever.regulations}
    return newest([v for rid in ids for v in versions.get(titles.get(rid), ())], retriever.regulations)


def compare_topic(retriever, regulations: Sequence[str], topic: str, mode: str | None = None,
                  settings=None) -> Comparison:
    """Each regulation searched alone for `topic`; rows of articles paired by closeness and shared key words."""
    from retrieval.settings import DEFAULT_MODE

    titles = {r.id: r.title for r in retriever.regulations}
    regs = [r for r in regulations if r in titles]
    topic_weights = _weights(retriever, topic)
    found: dict[str, list[Result]] = {}
    for rid in regs:
        resp = retriever.search(topic, k=PER_SIDE, mode=mode or DEFAULT_MODE, regulations=[rid], settings=settings)
        found[rid] = _on_topic([] if resp.abstained else list(resp.results), topic_weights)
    used: dict[str, set[str]] = {rid: set() for rid in regs}
    rows: list[tuple[tuple[Result, ...], ...]] = []
    weak: list[bool] = []
    for at, rid in enumerate(regs):
        for r in found[rid]:
            if r.article.id in used[rid] or len(rows) >= MAX_ROWS:
                continue
            used[rid].add(r.article.id)
            neighbours = retriever.related(r.article.id, k=min(MAX_NEIGHBOURS, len(regs) * CANDIDATES),
                                           within=frozenset(regs))
            close = {c.article.id: c.score for c in neighbours}
            cells: list[tuple[Result, ...]] = []
            loose = False
            for other in regs:
                if other == rid:
                    cells.append((r,))
                    continue
                answers = [x for x in found[other] if x.article.id not in used[other]]
                if not answers or regs.index(other) < at:  # earlier sides' answers were all placed already
                    cells.append(())
                    continue
                floor = min(close.values(), default=0.0)
                scored = sorted(((close.get(x.article.id, floor) + pair_overlap(retriever, r.article.text,
                                                                               x.article.text), x) for x in answers),
                                key=lambda t: -t[0])
                best = scored[0][1]
                if best.article.id not in close and not pair_overlap(retriever, r.article.text, best.article.text):
                    cells.append(())  # neither near by vectors nor sharing a word: no pair
                    continue
                used[other].add(best.article.id)
                loose = loose or pair_overlap(retriever, r.article.text, best.article.text) < WEAK
                cells.append((best,))  # the side's own search result (its score and matched sentence)
            rows.append(tuple(cells))
            weak.append(loose)
    return Comparison(topic, tuple((rid, titles[rid]) for rid in regs), tuple(rows), tuple(weak))


def _on_topic(answers: list[Result], topic_weights: dict[str, float]) -> list[Result]:
    """A side's answers without those that hold few of the topic's key words, when its best one holds them."""
    shares = [overlap(topic_weights, r.article.text) for r in answers]
    best = max(shares, default=0.0)
    if best < TOPIC_FLOOR:
        return answers
    return [r for r, s in zip(answers, shares, strict=True) if s >= TOPIC_SHARE * best]


def counterparts(retriever, article_id: str, regulation_id: str, n: int = CLOSEST) -> tuple[tuple[Result, ...], bool]:
    """The articles of one other regulation that say what this one says, best first, and whether the best is a
    weak pair: vector neighbours and articles found by the article's key words, ranked by vector closeness plus
    key-word overlap; a second one only when it shares nearly as many key words as the first."""
    me = retriever.article_by_id(article_id)
    others = max(1, len(retriever.regulations) - 1)
    close = [c for c in retriever.related(article_id, k=min(MAX_NEIGHBOURS, CANDIDATES * others))
             if c.article.regulation_id == regulation_id]
    vec = {c.article.id: c for c in close}
    floor = min((c.score for c in close), default=0.0)
    weights = _key_words(retriever, me.text)
    query = " ".join(sorted(weights, key=lambda t: -weights[t])[:KEY_WORDS])
    if query and LEXICAL_CANDIDATES and others <= LEXICAL_SIDES:
        resp = retriever.search(query, k=LEXICAL_CANDIDATES, mode="lexical", regulations=[regulation_id])
        for x in resp.results:
            vec.setdefault(x.article.id, Result(x.article, floor, x.found_by, 0, 0))
    shares = {aid: overlap(weights, c.article.text, tokens=False) for aid, c in vec.items()}
    scored = sorted(((c.score + shares[aid], shares[aid], c) for aid, c in vec.items()), key=lambda t: -t[0])
    if not scored:
        return (), False
    first = scored[0]
    shown = [first[2], *[c for _, ov, c in scored[1:n] if ov >= SECOND * first[1]]]
    return tuple(shown), pair_overlap(retriever, me.text, first[2].article.text) < WEAK


def compare_article(retriever, article_id: str) -> Comparison | None:
    """One article beside its counterparts in each other regulation (vectors and shared key words)."""
    me = retriever.article_by_id(article_id)
    if me is None:
        return None
    own = Result(me, 1.0, ("reference",), 0, 0)
    others = [r for r in retriever.regulations if r.id != me.regulation_id]
    if len(others) >= MAX_SIDES:  # a library: the regulations of its closest articles, one version of each
        close = retriever.related(article_id, k=CLOSEST * MAX_SIDES * 4)
        nearest = _newest_versions(retriever, [c.article.regulation_id for c in close])
        others = [r for r in others if r.id in nearest]
        others.sort(key=lambda r: nearest.index(r.id))
        others = others[:MAX_SIDES - 1]
    found = [counterparts(retriever, article_id, r.id) for r in others]
    cells = [(own,), *(shown for shown, _ in found)]
    sides = ((me.regulation_id, me.regulation_title), *((r.id, r.title) for r in others))
    return Comparison(f"{me.regulation_title}{me.label}", sides, (tuple(cells),),
                      (any(weak for _, weak in found),))
