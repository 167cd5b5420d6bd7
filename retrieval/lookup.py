"""Maps over a loaded index that searches and neighbour look-ups share; built once per Retriever."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the loaded index is only passed in; the Retriever loads it
    from ingest.stores.index_io import LoadedIndex


@dataclass(frozen=True)
class IndexMaps:
    position: dict[str, int]  # article id -> position in index.articles
    chunk_article: np.ndarray  # chunk position -> article position
    article_regulation: np.ndarray  # article position -> regulation id
    by_label: dict[tuple[str, int, int], int]  # (regulation id, number, sub-number) -> article position
    chunks_of: dict[str, tuple[int, ...]]  # article id -> its chunk positions
    siblings: dict[tuple[str, str | None], tuple[int, ...]]  # (regulation, chapter) -> articles in order

    @classmethod
    def of(cls, index: LoadedIndex) -> IndexMaps:
        arts = index.articles
        position = {a.id: i for i, a in enumerate(arts)}
        chunks_of: dict[str, list[int]] = {}
        for i, c in enumerate(index.chunks):
            chunks_of.setdefault(c.article_id, []).append(i)
        siblings: dict[tuple[str, str | None], list[int]] = {}
        for i, a in enumerate(arts):
            siblings.setdefault((a.regulation_id, a.chapter), []).append(i)
        return cls(
            position=position,
            chunk_article=np.array([position[c.article_id] for c in index.chunks], dtype=np.int64),
            article_regulation=np.array([a.regulation_id for a in arts], dtype=object),
            by_label={(a.regulation_id, a.number, a.sub_number): i for i, a in enumerate(arts)},
            chunks_of={k: tuple(v) for k, v in chunks_of.items()},
            siblings={k: tuple(sorted(v, key=lambda i: (arts[i].number, arts[i].sub_number, i)))
                      for k, v in siblings.items()},
        )
