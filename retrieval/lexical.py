"""Lexical retrieval: the index's BM25 over the words of each chunk, chunks folded into articles."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the loaded index is only passed in; the Retriever loads it
    from ingest.stores.index_io import LoadedIndex


def lexical_scores(index: LoadedIndex, chunk_article: np.ndarray, query: str, query_words: list[str], n: int,
                   regulations: Collection[str] | None) -> dict[int, tuple[float, int]]:
    """Best chunk BM25 score per article among the top-n chunks: {article_idx: (score, chunk_idx)}."""
    if not query_words or len(chunk_article) == 0:
        return {}
    scores, ids = index.lexical.lexical_search(query, query_words, n, regulations)
    out: dict[int, tuple[float, int]] = {}
    for s, c in zip(scores, ids, strict=True):
        a = int(chunk_article[c])
        if a not in out or s > out[a][0]:
            out[a] = (float(s), int(c))
    return out


def document_share(index: LoadedIndex, tokens: list[str]) -> float:
    """The share of documents that hold the rarest of these lexical tokens (ingest.words.words of one word):
    how common the word is, read from the lexical index's own counts (BM25's postings, or the token counts
    a build stored beside a store that runs BM25 itself)."""
    lexical = index.lexical
    total = lexical.documents
    if not tokens or total == 0:
        return 0.0
    multi = [t for t in tokens if len(t) > 1] or tokens  # a word's pairs say more than its single characters
    return min(lexical.document_frequency(t) for t in multi) / total
