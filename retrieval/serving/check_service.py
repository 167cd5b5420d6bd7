"""Citation checks as the server runs them: against the catalogue of the index the engine has loaded, in a
slot of the search pool (so a full server refuses a check as it refuses a search)."""

from __future__ import annotations

import threading
import weakref
from typing import Any

from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import CheckReport, check_citations
from retrieval.serving.service import SearchService


class CitationChecks:
    def __init__(self, service: SearchService) -> None:
        self.service = service
        self._lock = threading.Lock()
        self._index: Any = None  # the LoadedIndex the catalogue was made from
        self._catalogue: Catalogue | None = None

    @classmethod
    def of(cls, service: SearchService) -> CitationChecks:
        """One per service, shared by the page and the JSON API (one catalogue per loaded build)."""
        with _SHARED_LOCK:
            found = _SHARED.get(service)
            if found is None:
                found = _SHARED[service] = cls(service)
            return found

    def catalogue(self) -> Catalogue:
        """The served index's articles; remade when the engine has switched in a newer build."""
        index = self.service.engine().retriever.index
        with self._lock:
            if self._catalogue is None or self._index is not index:
                self._catalogue = Catalogue(index.regulations, index.articles)
                self._index = index
            return self._catalogue

    def check(self, text: Any) -> CheckReport:
        return check_citations(text, self.catalogue())

    async def check_async(self, text: Any) -> CheckReport:
        """On a pool thread; raises ServiceBusy at once when the pool is full."""
        return await self.service.run(self.check, text)


_SHARED: weakref.WeakKeyDictionary[SearchService, CitationChecks] = weakref.WeakKeyDictionary()
_SHARED_LOCK = threading.Lock()
