"""Lexical retrieval: BM25 (bm25s) over jieba words of each chunk's text, chunks folded into articles."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the loaded index is only passed in; the Retriever loads it
    from ingest.index_io import LoadedIndex


def lexical_scores(index: LoadedIndex, chunk_article: np.ndarray, query_words: list[str], n: int,
                   allowed: np.ndarray | None) -> dict[int, tuple[float, int]]:
    """Best chunk BM25 score per article among the top-n chunks: {article_idx: (score, chunk_idx)}."""
    if not query_words or len(chunk_article) == 0:
        return {}
    scores = index.bm25.get_scores(query_words)
    if allowed is not None:
        scores = np.where(allowed[chunk_article], scores, 0.0)
    n = min(n, len(scores))
    top = np.argpartition(-scores, n - 1)[:n]
    out: dict[int, tuple[float, int]] = {}
    for c in top[np.argsort(-scores[top])]:
        s = float(scores[c])
        if s <= 0:
            break
        a = int(chunk_article[c])
        if a not in out or s > out[a][0]:
            out[a] = (s, int(c))
    return out
