"""Dense retrieval: the vector store's nearest chunks to the question, folded into articles."""

from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the loaded index is only passed in; the Retriever loads it
    from ingest.stores.index_io import LoadedIndex


def dense_scores(index: LoadedIndex, chunk_article: np.ndarray, qvec: np.ndarray, n: int,
                 regulations: Collection[str] | None) -> dict[int, tuple[float, int]]:
    """Best chunk score per article among the top-n chunks: {article_idx: (score, chunk_idx)}.

    With a regulation filter the store searches only those regulations' chunks, and 8n are asked for (as
    many as were fetched when the filter was applied afterwards): on an index of at most 8n chunks the
    candidates are the same as then, on a larger one never fewer of the chosen regulations' chunks."""
    total = index.store.count
    if total == 0:
        return {}
    want = min(total, n if regulations is None else max(n, n * 8))
    scores, ids = index.store.search(qvec.reshape(1, -1), want, regulations)
    out: dict[int, tuple[float, int]] = {}
    for s, c in zip(scores[0], ids[0], strict=True):
        if c < 0:
            continue
        a = int(chunk_article[c])
        if a not in out or s > out[a][0]:
            out[a] = (float(s), int(c))
    return out
