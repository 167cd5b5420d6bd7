"""The loaded model and index a server answers from: loaded once per process, on first use, and switched to a
newer build of the same index when one appears (reusing the loaded model when the build was made with it)."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from retrieval.serving.service import ServingSettings, query_embedder

log = logging.getLogger(__name__)


@dataclass
class Engine:
    retriever: Any  # retrieval.retriever.Retriever; its questions go through one batching embedder
    rows: list[dict[str, Any]]  # `python -m ingest list --json` rows


class Engines:
    """One Engine per index directory (the directory `index_dir()` names when asked)."""

    def __init__(self, index_dir: Callable[[], Path], settings: Callable[[], ServingSettings]) -> None:
        self.index_dir = index_dir
        self.settings = settings  # read when a model is loaded: the service's settings, set after this
        self.loaded: dict[str, Engine] = {}
        self._lock = threading.Lock()

    def __call__(self) -> Engine:
        """The loaded model and index; a newly switched-in build is picked up on the next request."""
        path = self.index_dir()
        key = str(path.resolve())
        with self._lock:
            current = self.loaded.get(key)
            if current is not None and not current.retriever.newer_build_current():
                return current
            from ingest.catalog import regulation_rows
            from retrieval.retriever import Retriever

            log.info("loading the index at %s", path)
            if current is None:
                retriever = Retriever(path, embedder=query_embedder(path, self.settings()))
            else:
                # A newer build reuses the loaded model when it was made with the same one (the usual rebuild).
                retriever = current.retriever.reloaded()
                if retriever.embedder is not current.retriever.embedder:  # another model: batch its questions too
                    retriever = retriever.with_embedder(query_embedder(path, self.settings()))
            self.loaded[key] = Engine(retriever, regulation_rows(retriever.index))
            settle_heap()
            return self.loaded[key]


def settle_heap() -> None:
    """Put what is loaded out of the garbage collector's sight. A library index is ~400,000 Python objects, and
    every full collection walked them all: ~0.2 s with every search stopped, several times a minute under
    load, as answers kept in the cache pushed objects into the oldest generation (50 users: p95 0.2–0.5 s
    higher). Frozen objects are still freed when nothing refers to them; a reload unfreezes first, so the
    replaced build's cycles can be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
