"""Articles near a given article: its closest matches in other regulations, and its neighbours in its own.

Both read only what the index holds (chunk vectors, article order); nothing is generated or rewritten.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ingest.schema import Article, Result

if TYPE_CHECKING:
    from retrieval.retriever import Retriever

_FIRST_PASS = 64  # chunks fetched per vector before widening the search


@dataclass
class _Lookup:
    """Per-index maps, built once per Retriever."""

    position: dict[str, int]  # article id -> position in index.articles
    chunks_of: dict[str, list[int]]  # article id -> chunk positions
    chunk_article: np.ndarray  # chunk position -> article position
    siblings: dict[tuple[str, str | None], list[int]]  # (regulation, chapter) -> article positions in order


_LOOKUPS: weakref.WeakKeyDictionary[Retriever, _Lookup] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _lookup(retriever: Retriever) -> _Lookup:
    with _LOCK:
        found = _LOOKUPS.get(retriever)
        if found is None:
            index = retriever.index
            position = {a.id: i for i, a in enumerate(index.articles)}
            chunks_of: dict[str, list[int]] = {}
            for i, c in enumerate(index.chunks):
                chunks_of.setdefault(c.article_id, []).append(i)
            chunk_article = np.array([position[c.article_id] for c in index.chunks], dtype=np.int64)
            siblings: dict[tuple[str, str | None], list[int]] = {}
            for i, a in enumerate(index.articles):
                siblings.setdefault((a.regulation_id, a.chapter), []).append(i)
            for group in siblings.values():
                group.sort(key=lambda i: (index.articles[i].number, index.articles[i].sub_number, i))
            found = _Lookup(position, chunks_of, chunk_article, siblings)
            _LOOKUPS[retriever] = found
        return found


def article_by_id(retriever: Retriever, article_id: str) -> Article | None:
    i = _lookup(retriever).position.get(article_id)
    return None if i is None else retriever.index.articles[i]


def related_articles(retriever: Retriever, article_id: str, k: int = 3) -> list[Result]:
    """The k articles of OTHER regulations whose chunks lie closest to this article's chunks.

    Score is the best cosine between any chunk of the article and any chunk of the candidate; the match
    span is the candidate chunk that was closest. Unknown ids and k < 1 give an empty list.
    """
    look = _lookup(retriever)
    own = look.position.get(article_id)
    if own is None or k < 1:
        return []
    index = retriever.index
    articles = index.articles
    own_regulation = articles[own].regulation_id
    queries = index.store.vectors(look.chunks_of.get(article_id, []))
    others = frozenset(r.id for r in index.regulations) - {own_regulation}
    total = index.store.count
    if len(queries) == 0 or total == 0 or not others:
        return []
    want = min(total, _FIRST_PASS)
    while True:
        scores, ids = index.store.search(queries, want, others)
        best: dict[int, tuple[float, int]] = {}
        for row_scores, row_ids in zip(scores, ids, strict=True):
            for s, c in zip(row_scores, row_ids, strict=True):
                if c < 0:
                    continue
                a = int(look.chunk_article[c])
                if articles[a].regulation_id == own_regulation:
                    continue
                if a not in best or s > best[a][0]:
                    best[a] = (float(s), int(c))
        if len(best) >= k or want >= total:
            break
        want = min(total, want * 4)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:k]
    out = []
    for a, (score, c) in ranked:
        chunk = index.chunks[c]
        out.append(Result(articles[a], score, ("dense",), chunk.start, chunk.end))
    return out


def context_articles(retriever: Retriever, article_id: str, before: int = 2, after: int = 2) -> list[Article]:
    """The article between its neighbours in the index: same regulation, same chapter, in article order."""
    look = _lookup(retriever)
    own = look.position.get(article_id)
    if own is None:
        return []
    articles = retriever.index.articles
    me = articles[own]
    group = look.siblings[(me.regulation_id, me.chapter)]
    at = group.index(own)
    return [articles[i] for i in group[max(0, at - before) : at + after + 1]]
