"""Side by side: what each regulation says on one topic, verbatim, paired article to article.

A question asks for a comparison when it names two regulations or more (湖北和杭州对质量奖励的规定), or names one
or none but uses a comparison word (对比, 不同, 区别, compare) with a topic of its own: then every regulation of
the index is a side. Each side is searched alone for the topic words; a side whose search abstains has no
matching article. Rows are made from the first side's answers, each paired with the article of another side
that lies closest to it by stored vectors (Retriever.related) when that article is also among that side's
answers; answers of the other sides left unpaired get rows of their own. No generation, no rules per topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.conversation.followup import _read, corpus_of
from retrieval.results import Result

PER_SIDE = 3  # answers taken from each side's search
MAX_ROWS = 5
CLOSEST = 2  # articles shown beside one article compared from its card
# Comparison words beyond those the follow-up rules know (两边, 一样, both): asking to set texts side by side.
_COMPARE_RE = re.compile(r"对比|比较|对照|区别|不同|差别|差异|异同|\bcompare|\bcomparison|\bdiffer", re.IGNORECASE)


@dataclass(frozen=True)
class Comparison:
    topic: str  # the words searched (or the article compared)
    sides: tuple[tuple[str, str], ...]  # (regulation id, title), in column order
    rows: tuple[tuple[tuple[Result, ...], ...], ...]  # per row, per side: the articles (empty: none matches)


def sides_of(retriever, question: str) -> tuple[tuple[str, ...], str] | None:
    """(regulation ids, topic words) when the question asks for a comparison, else None."""
    corpus = corpus_of(retriever)
    turn = _read(question, corpus)
    named = tuple(dict.fromkeys(turn.named))
    if not turn.content.strip() or len(corpus.regulations) < 2:
        return None
    if len(named) >= 2:
        return named, turn.content
    if turn.compare or _COMPARE_RE.search(question):
        rest = tuple(r.id for r in corpus.regulations if r.id not in named)
        return named + rest, turn.content
    return None


def compare_topic(retriever, regulations: Sequence[str], topic: str, mode: str | None = None,
                  settings=None) -> Comparison:
    """Each regulation searched alone for `topic`; rows of articles paired by closeness."""
    from retrieval.settings import DEFAULT_MODE

    titles = {r.id: r.title for r in retriever.regulations}
    regs = [r for r in regulations if r in titles]
    found: dict[str, list[Result]] = {}
    for rid in regs:
        resp = retriever.search(topic, k=PER_SIDE, mode=mode or DEFAULT_MODE, regulations=[rid], settings=settings)
        found[rid] = [] if resp.abstained else list(resp.results)
    used: dict[str, set[str]] = {rid: set() for rid in regs}
    rows: list[tuple[tuple[Result, ...], ...]] = []
    for at, rid in enumerate(regs):
        for r in found[rid]:
            if r.article.id in used[rid] or len(rows) >= MAX_ROWS:
                continue
            used[rid].add(r.article.id)
            close = retriever.related(r.article.id, k=len(retriever.regulations) * 4)
            cells: list[tuple[Result, ...]] = []
            for other in regs:
                if other == rid:
                    cells.append((r,))
                    continue
                answers = {x.article.id for x in found[other]} - used[other]
                partner = next((c for c in close if c.article.regulation_id == other and c.article.id in answers),
                               None)
                if partner is None or regs.index(other) < at:  # earlier sides' answers were all placed already
                    cells.append(())
                    continue
                used[other].add(partner.article.id)
                # the side's own search result (its score and matched sentence), not the vector neighbour
                cells.append(tuple(x for x in found[other] if x.article.id == partner.article.id))
            rows.append(tuple(cells))
    return Comparison(topic, tuple((rid, titles[rid]) for rid in regs), tuple(rows))


def compare_article(retriever, article_id: str) -> Comparison | None:
    """One article beside its closest articles in each other regulation (by stored vectors)."""
    me = retriever.article_by_id(article_id)
    if me is None:
        return None
    own = Result(me, 1.0, ("reference",), 0, 0)
    others = [r for r in retriever.regulations if r.id != me.regulation_id]
    close = retriever.related(article_id, k=CLOSEST * max(1, len(others)))
    cells = [(own,), *(tuple(c for c in close if c.article.regulation_id == r.id)[:CLOSEST] for r in others)]
    sides = ((me.regulation_id, me.regulation_title), *((r.id, r.title) for r in others))
    return Comparison(f"{me.regulation_title}{me.label}", sides, (tuple(cells),))
