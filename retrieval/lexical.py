"""Lexical retrieval: the index's BM25 over the words of each chunk, chunks folded into articles."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np

from ingest.index_io import LoadedIndex


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
