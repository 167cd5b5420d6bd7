"""Articles near a given article: its closest matches in other regulations, and its neighbours in its own.

Both read only what the index holds (stored chunk vectors, article order); nothing is generated or
rewritten. The Retriever calls them with the maps it holds (`Retriever.related`, `Retriever.context`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.schema import Article
from retrieval.lookup import IndexMaps
from retrieval.results import Result

if TYPE_CHECKING:  # the loaded index is only passed in; the Retriever loads it
    from ingest.stores.index_io import LoadedIndex

_FIRST_PASS = 64  # chunks fetched per vector before widening the search


def related_articles(index: LoadedIndex, maps: IndexMaps, article_id: str, k: int = 3,
                     within: frozenset[str] | None = None) -> list[Result]:
    """The k articles of OTHER regulations whose chunks lie closest to this article's chunks; other versions of
    its own regulation (the same title) are not other regulations. `within`: only among these regulations.

    Score is the best cosine between any chunk of the article and any chunk of the candidate; the match
    span is the candidate chunk that was closest. Unknown ids and k < 1 give an empty list.
    """
    own = maps.position.get(article_id)
    if own is None or k < 1:
        return []
    articles = index.articles
    title = articles[own].regulation_title
    others = frozenset(r.id for r in index.regulations
                       if r.title != title and (within is None or r.id in within)) - {articles[own].regulation_id}
    queries = index.store.vectors(maps.chunks_of.get(article_id, ()))
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
                a = int(maps.chunk_article[c])
                if a not in best or s > best[a][0]:
                    best[a] = (float(s), int(c))
        if len(best) >= k or want >= total:
            break
        want = min(total, want * 4)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], kv[0]))[:k]
    regulation = {r.id: r for r in index.regulations}
    out = []
    for a, (score, c) in ranked:
        chunk = index.chunks[c]
        reg = regulation.get(articles[a].regulation_id)
        out.append(Result(articles[a], score, ("dense",), chunk.start, chunk.end, level=reg.level if reg else None,
                          region=reg.region if reg else None))
    return out


def context_articles(index: LoadedIndex, maps: IndexMaps, article_id: str, before: int = 2,
                     after: int = 2) -> list[Article]:
    """The article between its neighbours in the index: same regulation, same chapter, in article order."""
    own = maps.position.get(article_id)
    if own is None:
        return []
    me = index.articles[own]
    group = maps.siblings[(me.regulation_id, me.chapter)]
    at = group.index(own)
    return [index.articles[i] for i in group[max(0, at - before) : at + after + 1]]
