"""Questions from concurrent searches embedded together by batching threads that own the model.

`BatchingEmbedder` wraps an `Embedder` (or several instances of one model, one thread each) and keeps
its protocol: `embed_queries(texts)` hands the texts to the batching threads and blocks until their
vectors are ready, so a Retriever uses it unchanged. A thread takes whatever has arrived, waits at most
`max_wait_s` for more while the batch is small, embeds at most `max_batch` texts in one call, and gives
each caller its own rows. A batch that fails is embedded again one request at a time, so a bad question
fails only its own caller. Long questions go in a call of their own, so one of them does not pad a batch
of short ones to its length. `embed_documents` runs on the same threads (a call of its own), so each
engine instance is only ever used by its one thread.

Several single-threaded instances beat one instance on several threads on a shared machine: an engine
that splits each call across cores stalls whenever one of them is busy with something else, while
independent instances just go on (see `python -m eval.bench.batching`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field

import numpy as np

from ingest.embed import Embedder
from ingest.errors import EmbedderError

log = logging.getLogger(__name__)

DEFAULT_MAX_BATCH = 32
DEFAULT_MAX_WAIT_S = 0.003
LONG_TEXT_CHARS = 96  # questions longer than this are embedded apart from the short ones
RESULT_TIMEOUT_S = 120.0  # only reached if the model hangs; a batch takes well under a second


@dataclass
class _Request:
    texts: list[str]
    documents: bool = False  # passages (e.g. the Retriever's background sentences), embedded on their own
    batch_size: int = 16
    future: Future = field(default_factory=Future)


_STOP = object()


class BatchingEmbedder:
    """An Embedder whose `embed_queries` is served in batches by one background thread per engine instance."""

    def __init__(self, inner: Embedder | Sequence[Embedder], max_batch: int = DEFAULT_MAX_BATCH,
                 max_wait_s: float = DEFAULT_MAX_WAIT_S) -> None:
        engines = list(inner) if isinstance(inner, Sequence) else [inner]
        if not engines or max_batch < 1 or max_wait_s < 0:
            raise ValueError("need an engine, max_batch at least 1 and max_wait_s not negative")
        if len({(e.model_id, e.dim) for e in engines}) != 1:
            raise EmbedderError("the batcher's engines must all run the same model")
        inner = engines[0]
        self.inner = inner
        self.engines = engines
        self.model_id = inner.model_id
        self.engine = inner.engine
        self.dim = inner.dim
        self.max_tokens = inner.max_tokens
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.batches = 0  # counters for benchmarks and tests
        self.texts = 0
        self._counts = threading.Lock()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._closed = False
        self._threads = [threading.Thread(target=self._run, args=(e,), name=f"query-batcher-{i}", daemon=True)
                         for i, e in enumerate(engines)]
        for t in self._threads:
            t.start()

    # -- the Embedder protocol ------------------------------------------------------------------------
    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._submit(_Request(list(texts)))

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        """Passages in one part per engine instance, embedded side by side."""
        texts = list(texts)
        size = max(1, -(-len(texts) // len(self.engines)))
        parts = [_Request(texts[i:i + size], documents=True, batch_size=batch_size)
                 for i in range(0, len(texts), size)]
        if not parts:
            return np.zeros((0, self.dim), np.float32)
        return np.vstack([self._wait(r) for r in [self._put(r) for r in parts]])

    def _submit(self, request: _Request) -> np.ndarray:
        if not request.texts:
            return np.zeros((0, self.dim), np.float32)
        return self._wait(self._put(request))

    def _put(self, request: _Request) -> _Request:
        if self._closed:
            raise EmbedderError("the query embedder has been shut down")
        self._queue.put(request)
        return request

    @staticmethod
    def _wait(request: _Request) -> np.ndarray:
        try:
            return request.future.result(timeout=RESULT_TIMEOUT_S)
        except FutureTimeout:
            raise EmbedderError("embedding the question took too long; please try again") from None

    def close(self) -> None:
        """Stop the threads after the requests already queued; later calls are refused."""
        if not self._closed:
            self._closed = True
            for _ in self._threads:
                self._queue.put(_STOP)
            for t in self._threads:
                t.join(timeout=10)

    # -- the batching thread --------------------------------------------------------------------------
    def _run(self, engine: Embedder) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is _STOP:
                return
            batch, stopping = self._gather(first)
            try:
                self._embed(batch, engine)
            except BaseException as exc:  # never let the thread die: callers would wait forever
                log.exception("query batch failed")
                for r in batch:
                    if not r.future.done():
                        r.future.set_exception(EmbedderError(f"embedding failed: {type(exc).__name__}"))

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        batch = [first]
        size = len(first.texts)
        deadline = time.monotonic() + self.max_wait_s
        while size < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    item = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
            if item is _STOP:
                return batch, True
            batch.append(item)
            size += len(item.texts)
        return batch, False

    def _embed(self, batch: list[_Request], engine: Embedder) -> None:
        queries = [r for r in batch if not r.documents]
        short = [r for r in queries if max(len(t) for t in r.texts) <= LONG_TEXT_CHARS]
        long = [r for r in queries if r not in short]
        for group in (short, long):
            if group:
                self._embed_group(group, engine)
        for r in batch:
            if r.documents:
                try:
                    r.future.set_result(self._call(engine, r.texts, r))
                except Exception as exc:
                    self._fail(r, exc)

    def _embed_group(self, group: list[_Request], engine: Embedder) -> None:
        texts = [t for r in group for t in r.texts]
        try:
            vectors = self._call(engine, texts)
        except Exception as exc:
            if len(group) == 1:
                self._fail(group[0], exc)
                return
            # Someone's text broke the batch: embed each request alone so only that one fails.
            for r in group:
                try:
                    r.future.set_result(self._call(engine, r.texts))
                except Exception as each:
                    self._fail(r, each)
            return
        start = 0
        for r in group:
            r.future.set_result(vectors[start:start + len(r.texts)])
            start += len(r.texts)

    @staticmethod
    def _fail(request: _Request, exc: Exception) -> None:
        log.warning("a question could not be embedded: %s: %s", type(exc).__name__, exc)
        request.future.set_exception(exc)

    def _call(self, engine: Embedder, texts: list[str], documents: _Request | None = None) -> np.ndarray:
        if documents is not None:
            vectors = np.asarray(engine.embed_documents(texts, documents.batch_size), dtype=np.float32)
        else:
            vectors = np.asarray(engine.embed_queries(texts), dtype=np.float32)
        if vectors.shape != (len(texts), self.dim):
            raise EmbedderError(f"the model returned {vectors.shape} for {len(texts)} texts")
        if documents is None:
            with self._counts:
                self.batches += 1
                self.texts += len(texts)
        return vectors
