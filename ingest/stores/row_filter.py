"""Which rows (chunks of a store, articles of an index) belong to a set of regulations.

A library search is filtered on almost every question: the versions in force are ~3,200 of ~3,300 regulations. A
mask over 150k rows built from the regulation ids each time costs tens of milliseconds (a Python loop, or
`np.isin` on strings); built from integer codes it costs well under one, and the last few filters are kept,
since most questions ask with the same one (today's versions in force).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Collection, Sequence

import numpy as np

KEEP = 8  # filters kept ready (one boolean per row each)


class RowFilter:
    def __init__(self, regulation_ids: Sequence[str], keep: int = KEEP) -> None:
        code_of: dict[str, int] = {}
        self._codes = np.fromiter((code_of.setdefault(r, len(code_of)) for r in regulation_ids), dtype=np.int32,
                                  count=len(regulation_ids))
        self._code_of = code_of
        self._keep = keep
        self._masks: OrderedDict[frozenset[str], tuple[np.ndarray, int]] = OrderedDict()  # a mask and its rows
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._codes)

    def mask(self, regulations: Collection[str]) -> np.ndarray:
        """A read-only boolean per row: True where the row's regulation is one of `regulations`."""
        return self._kept(regulations)[0]

    def count(self, regulations: Collection[str]) -> int:
        """How many rows belong to `regulations` (counted once per kept filter)."""
        return self._kept(regulations)[1]

    def _kept(self, regulations: Collection[str]) -> tuple[np.ndarray, int]:
        key = regulations if isinstance(regulations, frozenset) else frozenset(regulations)
        with self._lock:
            found = self._masks.get(key)
            if found is not None:
                self._masks.move_to_end(key)
                return found
        chosen = np.zeros(len(self._code_of), dtype=bool)
        chosen[[c for r in key if (c := self._code_of.get(r)) is not None]] = True
        mask = chosen[self._codes]
        mask.setflags(write=False)  # shared between searches
        found = (mask, int(np.count_nonzero(mask)))
        with self._lock:
            self._masks[key] = found
            while len(self._masks) > self._keep:
                self._masks.popitem(last=False)
        return found
