"""The FAISS vector store, the embedded default: the only module that imports faiss.

Index type by size (figures: `python -m eval.bench.scale`, README "Scale"): exact search up to 50k chunks
(single-thread p95 ~6 ms there); above, IVF with nprobe 8 keeps recall@10 ~0.97 at ~1.4 ms for 1M vectors,
where Flat takes ~120 ms and HNSW32 builds for 5 minutes. The search settings are set when building and
saved in the index file: FAISS's defaults (nprobe 1, efSearch 16) lose recall.

A regulation filter searches only the allowed rows (an ID selector), with the index's own search settings.
A narrow one (at most NARROW_SHARE of the rows: a few regulations, a level, a region) is searched exactly over
the vectors an HNSW index keeps beside its graph: the graph's walk meets too few allowed rows to fill its
results, while the exact pass skips the rows the filter leaves out (0.1–2 ms for a few thousand rows).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ingest.stores.row_filter import RowFilter

FILE = "dense.faiss"
EXACT_SEARCH_LIMIT = 50_000
IVF_NPROBE = 8
HNSW_EF_SEARCH = 256
METRIC = "inner_product"
_SELECTOR_CACHE = 8  # filters kept ready per store (a bitmap over all rows each)
NARROW_SHARE = 0.25  # a filter allowing at most this share of the rows is searched exactly (HNSW indexes)


def choose_factory(n_vectors: int, requested: str = "auto") -> str:
    """The FAISS factory string for a corpus of n vectors ("auto"), or the one asked for."""
    if requested != "auto":
        return requested
    if n_vectors <= EXACT_SEARCH_LIMIT:
        return "Flat"
    return f"IVF{nlist_for(n_vectors)},Flat"


def nlist_for(n_vectors: int) -> int:
    """IVF lists: the power of two nearest to sqrt(n)."""
    return 2 ** round(math.log2(math.sqrt(max(n_vectors, 1))))


def set_threads(n: int) -> None:
    """Threads FAISS may use in this process (one search is small: a second thread costs more in
    hand-off than it gains, 2.7x slower at 1M)."""
    faiss.omp_set_num_threads(n)


def engine_info() -> dict[str, Any]:
    return {"faiss": faiss.__version__, "faiss_threads": faiss.omp_get_max_threads()}


class FaissStore:
    """Chunk vectors in a FAISS index (inner product), each row tagged with its regulation id."""

    kind = "faiss"

    def __init__(self, index: Any, factory: str, regulation_ids: Sequence[str] | None = None) -> None:
        self._index = index
        self._factory = factory
        self._lock = threading.Lock()
        self._selectors: OrderedDict[frozenset[str], tuple[Any, np.ndarray, bool]] = OrderedDict()
        self._direct_map = False
        if regulation_ids is not None:
            if len(regulation_ids) != index.ntotal:
                raise ValueError(f"{len(regulation_ids)} regulation ids for {index.ntotal} vectors")
            self._rows: RowFilter | None = RowFilter(list(regulation_ids))
        else:
            self._rows = None

    # -- build, save, load ------------------------------------------------------------------------------
    @classmethod
    def build(cls, vectors: np.ndarray, regulation_ids: Sequence[str] | None = None,
              factory: str = "auto") -> FaissStore:
        """Train on all vectors (as the shipped build does), add them, set the search settings."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        factory = choose_factory(len(x), factory)
        index = faiss.index_factory(x.shape[1], factory, faiss.METRIC_INNER_PRODUCT)
        if not index.is_trained:
            index.train(x)
        index.add(x)
        params = faiss.ParameterSpace()
        if "IVF" in factory:
            params.set_index_parameter(index, "nprobe", IVF_NPROBE)
        if "HNSW" in factory:
            params.set_index_parameter(index, "efSearch", HNSW_EF_SEARCH)
        return cls(index, factory, regulation_ids)

    def save(self, folder: Path) -> None:
        faiss.write_index(self._index, str(folder / FILE))

    @classmethod
    def load(cls, folder: Path, settings: dict[str, Any], regulation_ids: Sequence[str] | None = None) -> FaissStore:
        index = faiss.read_index(str(folder / FILE))
        return cls(index, str(settings.get("factory", "?")), regulation_ids)

    # -- what it holds ------------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    @property
    def settings(self) -> dict[str, Any]:
        return {"factory": self._factory, "metric": METRIC}

    def search_params(self) -> dict[str, int]:
        """The search settings the index carries (saved in its file)."""
        ivf = faiss.try_extract_index_ivf(self._index)
        if ivf is not None:
            return {"nprobe": int(ivf.nprobe)}
        hnsw = self._hnsw()
        return {"efSearch": int(hnsw.hnsw.efSearch)} if hnsw is not None else {}

    def set_search_param(self, value: int | None) -> str:
        """Set nprobe (IVF) or efSearch (HNSW) and say which; for benchmarks comparing settings."""
        if value is None:
            return "-"
        hnsw = self._hnsw()
        if hnsw is not None:
            hnsw.hnsw.efSearch = value
            return f"efSearch={value}"
        faiss.extract_index_ivf(self._index).nprobe = value
        return f"nprobe={value}"

    def limit_threads(self, n: int) -> None:
        set_threads(n)

    # -- search and stored vectors ----------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int,
               regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(0, min(int(k), self.count))
        if k == 0 or len(q) == 0:
            return np.zeros((len(q), k), np.float32), np.full((len(q), k), -1, np.int64)
        if regulations is None:
            return self._index.search(q, k)
        selector = self._selector(frozenset(regulations))  # (selector, its bitmap, narrow): live until we return
        if selector is None:  # no row belongs to the chosen regulations
            return np.full((len(q), k), -np.finfo(np.float32).max, np.float32), np.full((len(q), k), -1, np.int64)
        exact = self._exact_storage() if selector[2] else None
        if exact is not None:
            return exact.search(q, k, params=faiss.SearchParameters(sel=selector[0]))
        return self._index.search(q, k, params=self._params(selector[0]))

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        rows = [int(i) for i in ids]
        if not rows:
            return np.zeros((0, self.dim), np.float32)
        with self._lock:
            if not self._direct_map:
                ivf = faiss.try_extract_index_ivf(self._index)
                if ivf is not None:  # IVF finds a row by id only through a direct map (8 bytes per row)
                    ivf.make_direct_map()
                self._direct_map = True
        return np.ascontiguousarray(np.vstack([self._index.reconstruct(i) for i in rows]), dtype=np.float32)

    # -- filters ------------------------------------------------------------------------------------------
    def _hnsw(self) -> Any | None:
        idx = faiss.downcast_index(self._index)
        return idx if isinstance(idx, faiss.IndexHNSW) else None

    def _exact_storage(self) -> Any | None:
        """The flat vectors an HNSW index searches over (the same rows, the same ids), else None."""
        hnsw = self._hnsw()
        storage = faiss.downcast_index(hnsw.storage) if hnsw is not None else None
        return storage if isinstance(storage, faiss.IndexFlat) else None

    def _selector(self, regulations: frozenset[str]) -> tuple[Any, np.ndarray, bool] | None:
        if self._rows is None:
            raise ValueError("this store was opened without regulation ids; it cannot filter")
        with self._lock:
            found = self._selectors.get(regulations)
            if found is None:
                mask = self._rows.mask(regulations)
                if not mask.any():
                    return None
                bits = np.packbits(mask, bitorder="little")  # the selector reads this buffer: keep it alive
                found = (faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits)), bits,
                         int(np.count_nonzero(mask)) <= NARROW_SHARE * len(mask))
                self._selectors[regulations] = found
                while len(self._selectors) > _SELECTOR_CACHE:
                    self._selectors.popitem(last=False)
            else:
                self._selectors.move_to_end(regulations)
            return found

    def _params(self, selector: Any) -> Any:
        """Search parameters that keep the index's own settings (FAISS's parameter objects default to
        nprobe 1 / efSearch 16 otherwise)."""
        ivf = faiss.try_extract_index_ivf(self._index)
        if ivf is not None:
            return faiss.SearchParametersIVF(sel=selector, nprobe=ivf.nprobe)
        hnsw = self._hnsw()
        if hnsw is not None:
            return faiss.SearchParametersHNSW(sel=selector, efSearch=hnsw.hnsw.efSearch)
        return faiss.SearchParameters(sel=selector)
