"""The feedback logs: 👍/👎 on answers and "no article answers this", and questions the search abstained on.

One JSON object per line under $REGQA_FEEDBACK_DIR (default: data/feedback under the repository):
{"time", "kind": "answer"|"no_answer"|"abstained", "vote": "up"|"down"|null, "question", "article",
"article_id", "build"}. The votes people send go to `feedback.jsonl`; the questions the server itself logs as
abstained go to `abstained.jsonl` (once per question and build), each log rolled on its own, so a flood of one
never evicts the other. Nothing about the person (no address, no browser). Each event is one write under an
exclusive lock, so writers in several threads or processes never interleave or lose lines; past MAX_BYTES a
file rolls to feedback-1.jsonl (abstained-1.jsonl; older ones shift up), keeping at most KEEP files. A line
is one record for any line reader: U+2028, U+2029 and U+0085, which some split lines on, are written escaped.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingest.paths import resolve_dir

log = logging.getLogger(__name__)

FEEDBACK_ENV = "REGQA_FEEDBACK_DIR"
DEFAULT_DIR = Path("data") / "feedback"
VOTES_LOG = "feedback"
ABSTAINED = "abstained"  # the log of abstentions, beside the votes
# JSON leaves these raw, but str.splitlines() and JavaScript line readers break lines on them.
LINE_BREAKS = {"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"}
MAX_BYTES = 5 * 2**20
KEEP = 5  # the current file and four rolled ones: at most ~25 MB
MAX_QUESTION = 1000
KINDS = ("answer", "no_answer", "abstained")
VOTES = ("up", "down")


def feedback_dir(given: Path | str | None = None, base: Path | None = None) -> Path:
    """The directory given, else $REGQA_FEEDBACK_DIR, else data/feedback under `base` (as ingest.paths)."""
    return resolve_dir(given, FEEDBACK_ENV, DEFAULT_DIR, base)


def event(kind: str, question: str, build: str, vote: str | None = None, article_id: str | None = None,
          article: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """One log record; raises ValueError on a kind or vote outside the format."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    if (vote is None) != (kind == "abstained"):
        raise ValueError("a vote is up or down, and only abstained events have none")
    if vote is not None and vote not in VOTES:
        raise ValueError("vote must be up or down")
    when = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return {"time": when, "kind": kind, "vote": vote, "question": question[:MAX_QUESTION],
            "article": article, "article_id": article_id, "build": build}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")  # in a str every surrogate is a lone one (pairs are decoded)


def json_line(record: dict[str, Any]) -> bytes:
    """One record as one line of UTF-8 JSON, whatever line breaks its strings hold. A lone surrogate (JSON's
    "\\ud800" is valid JSON but no character) is written as U+FFFD instead of failing the write."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in LINE_BREAKS.items():
        text = text.replace(raw, escaped)
    return (_LONE_SURROGATE.sub("\ufffd", text) + "\n").encode("utf-8")


class FeedbackLog:
    def __init__(self, directory: Path, max_bytes: int = MAX_BYTES, keep: int = KEEP, name: str = VOTES_LOG) -> None:
        self.dir = Path(directory)
        self.max_bytes = max_bytes
        self.keep = max(1, keep)
        self.name = name
        self._lock = threading.Lock()  # flock is per open file; this keeps the process's own threads in line

    def beside(self, name: str) -> FeedbackLog:
        """Another log in the same directory, with the same bounds (e.g. the abstentions beside the votes)."""
        return FeedbackLog(self.dir, self.max_bytes, self.keep, name)

    @property
    def path(self) -> Path:
        return self.dir / f"{self.name}.jsonl"

    def append(self, record: dict[str, Any]) -> None:
        line = json_line(record)
        self.dir.mkdir(parents=True, exist_ok=True)
        lock = ".lock" if self.name == VOTES_LOG else f".{self.name}.lock"
        with self._lock, open(self.dir / lock, "a") as guard:
            fcntl.flock(guard, fcntl.LOCK_EX)  # one lock for writing and rolling, across processes
            try:
                if self.path.exists() and self.path.stat().st_size + len(line) > self.max_bytes:
                    self._roll()
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
            finally:
                fcntl.flock(guard, fcntl.LOCK_UN)

    def record(self, kind: str, question: str, build: str, **fields: Any) -> None:
        """Append one event; a failure to write is logged, never raised (feedback must not break a search)."""
        try:
            self.append(event(kind, question, build, **fields))
        except OSError as exc:
            log.warning("could not write feedback to %s: %s", self.path, exc)

    def _rolled(self, n: int) -> Path:
        return self.dir / f"{self.name}-{n}.jsonl"

    def _roll(self) -> None:
        oldest = self._rolled(self.keep - 1)
        if self.keep == 1:
            self.path.unlink(missing_ok=True)
            return
        oldest.unlink(missing_ok=True)
        for n in range(self.keep - 2, 0, -1):
            older = self._rolled(n)
            if older.exists():
                older.rename(self._rolled(n + 1))
        self.path.rename(self._rolled(1))

    def files(self) -> list[Path]:
        """The log files, oldest first."""
        rolled = sorted(self.dir.glob(f"{self.name}-*.jsonl"), key=_roll_number, reverse=True)
        return [p for p in rolled if _roll_number(p) >= 0] + ([self.path] if self.path.exists() else [])

    def read(self) -> Iterator[dict[str, Any]]:
        """Every event, oldest first; a damaged line is skipped with a warning."""
        for path in self.files():
            with path.open(encoding="utf-8", errors="replace") as f:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except ValueError:
                        log.warning("%s:%d is not JSON; skipped", path, n)
                        continue
                    if isinstance(row, dict):
                        yield row


def _roll_number(path: Path) -> int:
    tail = path.stem.rpartition("-")[2]
    return int(tail) if tail.isdigit() else -1


def read_all(directory: Path) -> Iterator[dict[str, Any]]:
    """Every event of a feedback directory: the votes, then the abstentions (each oldest first)."""
    yield from FeedbackLog(directory).read()
    yield from FeedbackLog(directory, name=ABSTAINED).read()
