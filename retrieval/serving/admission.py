"""One bounded pool for every search the server runs (page, JSON API, Gradio's `/search`).

At most `limit` searches are admitted at once; at most `workers` of them run at a time on the pool's own
threads and the others wait their turn in arrival order. On 2 cores, 50 searches run at once share the
processor (and the GIL) so each takes as long as all of them together, longest questions last; a few
at a time, in order, answer each as soon as its turn is done (`python -m eval.bench.load`; README
"Speed"). When every slot is taken the next
request is refused at once with `ServiceBusy`, which the page shows as a chat message and the JSON
API as 503 with Retry-After, instead of queueing without bound. Each call gets its own future, so
answers never cross between users.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ingest.errors import ServiceBusy

T = TypeVar("T")

BUSY_MESSAGE = "当前提问的人太多，请稍后再试 (too many questions at once; please try again in a moment)"
DEFAULT_LIMIT = 64
DEFAULT_WORKERS = 4  # searches running at once: enough to fill the embedding batches of 2 engines
RETRY_AFTER_S = 1


class SearchPool:
    def __init__(self, limit: int = DEFAULT_LIMIT, retry_after_s: int = RETRY_AFTER_S,
                 workers: int = DEFAULT_WORKERS) -> None:
        if limit < 1:
            raise ValueError("the pool needs at least one slot")
        if workers < 1:
            raise ValueError("the pool needs at least one worker")
        self.limit = limit
        self.workers = min(workers, limit)
        self.retry_after_s = retry_after_s
        self._in_flight = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="search")
        self.admitted = 0
        self.refused = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run fn(*args, **kwargs) on a pool thread when one is free (in arrival order), or raise ServiceBusy at
        once when the pool is full."""
        self._acquire()
        try:
            future = self._executor.submit(functools.partial(fn, *args, **kwargs))
        except BaseException:
            self._release()
            raise
        # Released when the work ends (or never starts), not when the caller stops waiting: a client
        # that hangs up does not free a slot its search still occupies.
        future.add_done_callback(lambda _: self._release())
        return await asyncio.wrap_future(future)

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """Hold a slot while running in the caller's own thread (raises ServiceBusy when full)."""
        self._acquire()
        try:
            yield
        finally:
            self._release()

    def stats(self) -> dict[str, int]:
        return {"in_flight": self._in_flight, "limit": self.limit, "admitted": self.admitted,
                "refused": self.refused}

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _acquire(self) -> None:
        with self._lock:
            if self._in_flight >= self.limit:
                self.refused += 1
                raise ServiceBusy(BUSY_MESSAGE, self.retry_after_s)
            self._in_flight += 1
            self.admitted += 1

    def _release(self) -> None:
        with self._lock:
            self._in_flight -= 1
