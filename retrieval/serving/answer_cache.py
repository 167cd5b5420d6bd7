"""Recent answers, so a repeated question costs nothing: an LRU bounded in entries and bytes.

Keyed by the cleaned question (what the Retriever searches), the regulation filter as a set, k, mode
and the index build that answered. Entries of an older build are never served: the first lookup for
a new build empties the cache, and an answer that an older build finishes afterwards is not kept.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from ingest.errors import QueryError
from retrieval.query import clean_query

DEFAULT_MAX_ENTRIES = 2048
DEFAULT_MAX_BYTES = 16 * 2**20


def cache_key(question: object, k: int, mode: str, regulations: Iterable[str] | None) -> tuple:
    """The key of a search; raises QueryError for a question or filter the Retriever would refuse."""
    names = tuple(regulations or ())
    if not all(isinstance(n, str) for n in names):
        raise QueryError("法规范围须为法规名称 (regulations are given by name)")
    return (clean_query(question), k, mode, tuple(sorted(set(names))))


def response_bytes(response: Any) -> int:
    """Memory a cached answer holds on its own: everything it reaches except the articles, which belong
    to the loaded index (a deep getsizeof over dataclasses, tuples, lists, dicts and strings)."""
    from ingest.schema import Article

    seen: set[int] = set()
    size = 0
    todo = [response]
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, Article) or obj is None or isinstance(obj, bool):
            continue
        seen.add(id(obj))
        size += sys.getsizeof(obj)
        if dataclasses.is_dataclass(obj):
            todo.extend(getattr(obj, f.name) for f in dataclasses.fields(obj))
        elif isinstance(obj, tuple | list | set | frozenset):
            todo.extend(obj)
        elif isinstance(obj, dict):
            todo.extend(obj.keys())
            todo.extend(obj.values())
    return size


def _key_bytes(key: Hashable) -> int:
    parts = key if isinstance(key, tuple) else (key,)
    return sys.getsizeof(key) + sum(sys.getsizeof(p) for p in parts)


class AnswerCache:
    """A thread-safe LRU of answers for one index build at a time."""

    def __init__(self, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES,
                 size_of: Callable[[Any], int] = response_bytes) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._size_of = size_of
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._build: str | None = None
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, build: str, key: Hashable) -> Any | None:
        with self._lock:
            self._switch(build)
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, build: str, key: Hashable, value: Any) -> None:
        size = self._size_of(value) + _key_bytes(key)
        if self.max_entries < 1 or size > self.max_bytes:
            return
        with self._lock:
            if self._build is None:
                self._build = build
            elif build != self._build:  # answered by a build that has since been replaced
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._entries[key] = (value, size)
            self._bytes += size
            while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._bytes, "hits": self.hits,
                    "misses": self.misses, "build": self._build}

    def _switch(self, build: str) -> None:
        if build != self._build:  # a new build is serving: answers of the old one may be wrong now
            self._entries.clear()
            self._bytes = 0
            self._build = build
