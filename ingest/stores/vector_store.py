"""The vector store: one narrow protocol, as `Embedder` is for the model.

A store holds one vector per chunk (row i is chunk i of the build), each tagged with its regulation id.
It is built with its search settings, saved into and loaded from a build folder, searched by inner
product (cosine: the vectors are L2-normalised) optionally limited to some regulations, and gives back
the vectors it stores. FAISS (ingest/stores/faiss_store.py) is the embedded default and the only module that
imports faiss; the Milvus store (ingest/stores/milvus_store.py, a collection per build) stands beside it.

The manifest keeps a store's settings under its `kind`: {"faiss": {"factory": "Flat", ...}} or
{"milvus": {"uri": ..., "collection": ..., ...}}. The lexical side (ingest/stores/lexical_index.py) follows the store:
bm25s files beside a FAISS index, Milvus's own BM25 in a Milvus collection (`load_lexical`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ingest.stores.lexical_index import Bm25sIndex, LexicalIndex, LexicalSearch, StoreLexical, TokenCounts

DEFAULT_KIND = "faiss"
KINDS = ("faiss", "milvus")


@runtime_checkable
class VectorStore(Protocol):
    kind: str  # the backend's name; the manifest keeps `settings` under it

    @property
    def dim(self) -> int: ...

    @property
    def count(self) -> int: ...

    @property
    def settings(self) -> dict[str, Any]: ...

    def search(self, queries: np.ndarray, k: int,
               regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, ids), each (len(queries), k), best first: the k nearest vectors, only among vectors of
        `regulations` when given. Missing places hold id -1 (fewer than k vectors qualify)."""
        ...

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        """The stored vectors of these rows, (len(ids), dim) float32."""
        ...

    def save(self, folder: Path) -> None: ...

    def limit_threads(self, n: int) -> None:
        """Threads one search may use in this process (a store that runs elsewhere ignores it)."""
        ...


def build_store(vectors: np.ndarray, regulation_ids: Sequence[str], index_type: str = "auto",
                kind: str = DEFAULT_KIND) -> VectorStore:
    """A store of `vectors` (row i tagged regulation_ids[i]); index_type is the backend's own ("auto":
    chosen by size)."""
    if kind == "faiss":
        from ingest.stores.faiss_store import FaissStore

        return FaissStore.build(vectors, regulation_ids, index_type)
    raise ValueError(f"unknown vector store {kind!r}; use one of {', '.join(KINDS)}")


def store_kind(manifest: dict[str, Any]) -> str | None:
    """Which store a build's manifest describes (None: none that this code knows)."""
    return next((k for k in KINDS if isinstance(manifest.get(k), dict)), None)


def load_store(folder: Path, manifest: dict[str, Any], regulation_ids: Sequence[str]) -> VectorStore:
    """Open the store a build folder holds (folder is <index>/builds/<name>); raises on a missing or unreadable
    store (the caller words it)."""
    kind = store_kind(manifest)
    if kind == "faiss":
        from ingest.stores.faiss_store import FaissStore

        return FaissStore.load(folder, manifest[kind], regulation_ids)
    if kind == "milvus":
        from ingest.stores.milvus_store import MilvusStore

        return MilvusStore.open(folder.parent.parent, manifest[kind])
    raise ValueError("the manifest names no known vector store")


def build_lexical(store: VectorStore, texts: Sequence[str], regulation_ids: Sequence[str]) -> LexicalIndex:
    """The lexical index that goes with a store: the store's own BM25 when it has one (Milvus) with the
    chunks' token counts, else bm25s."""
    if isinstance(store, LexicalSearch):
        return StoreLexical(store, TokenCounts.build(texts))
    return Bm25sIndex.build(texts, regulation_ids)


def load_lexical(folder: Path, store: VectorStore, regulation_ids: Sequence[str]) -> LexicalIndex:
    """The lexical index of a build: the store's own BM25 (Milvus) and the build's token counts, else the
    build's bm25s files."""
    if isinstance(store, LexicalSearch):
        return StoreLexical(store, TokenCounts.load(folder))
    return Bm25sIndex.load(folder, regulation_ids)
