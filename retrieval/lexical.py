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


def document_share(index: LoadedIndex, tokens: list[str]) -> float:
    """The share of documents that hold the rarest of these lexical tokens (ingest.words.words of one word):
    how common the word is, read from BM25's own postings (a token's column holds one entry per document)."""
    bm25 = index.bm25
    total = int(bm25.scores.get("num_docs") or 0)
    if not tokens or total == 0:
        return 0.0
    multi = [t for t in tokens if len(t) > 1] or tokens  # a word's pairs say more than its single characters
    indptr = bm25.scores["indptr"]
    counts = []
    for t in multi:
        i = bm25.vocab_dict.get(t)
        counts.append(int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0)
    return min(counts) / total
