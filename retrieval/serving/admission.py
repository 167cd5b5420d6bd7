"""One bounded pool for every search the server runs (page, JSON API, Gradio's `/search`).

At most `limit` searches are admitted at once; each runs on the pool's own threads (the batcher
serialises the model, so the searches themselves may overlap). When every slot is taken the next
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
RETRY_AFTER_S = 1


class SearchPool:
    def __init__(self, limit: int = DEFAULT_LIMIT, retry_after_s: int = RETRY_AFTER_S) -> None:
        if limit < 1:
            raise ValueError("the pool needs at least one slot")
        self.limit = limit
        self.retry_after_s = retry_after_s
        self._in_flight = 0
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="search")
        self.admitted = 0
        self.refused = 0

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run fn(*args, **kwargs) on a pool thread, or raise ServiceBusy at once when the pool is full."""
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
