"""Dense retrieval: FAISS inner product on normalised vectors, chunks folded into articles."""

from __future__ import annotations

import numpy as np

from ingest.index_io import LoadedIndex


def dense_scores(index: LoadedIndex, chunk_article: np.ndarray, qvec: np.ndarray, n: int,
                 allowed: np.ndarray | None) -> dict[int, tuple[float, int]]:
    """Best chunk score per article among the top-n chunks: {article_idx: (score, chunk_idx)}."""
    total = index.dense.ntotal
    if total == 0:
        return {}
    want = min(total, n if allowed is None else max(n, n * 8))
    scores, ids = index.dense.search(qvec.reshape(1, -1).astype(np.float32), want)
    out: dict[int, tuple[float, int]] = {}
    for s, c in zip(scores[0], ids[0], strict=True):
        if c < 0:
            continue
        a = int(chunk_article[c])
        if allowed is not None and not allowed[a]:
            continue
        if a not in out or s > out[a][0]:
            out[a] = (float(s), int(c))
    return out
