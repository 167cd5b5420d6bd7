"""English words for the corpus's own Chinese terms: an English question gains the terms it names.

A question in English shares no words with Chinese articles, so the lexical side finds nothing and the dense
side alone (cross-lingual, ≈ 0.1 lower cosines) decides. The glossary (data/glossary/en-zh.tsv, written from
the regulations' texts) maps English phrases to the terms as the texts print them: "chief quality officer" →
首席质量官, "grading system" → 质量分级制度. The Retriever adds the terms a question names to what it searches;
it keeps only terms that occur in the loaded index, so a glossary written for one corpus adds nothing to
another that does not use its words.

File format: one entry a line, `english phrase|another phrase<TAB>中文术语|另一术语`; `#` starts a comment.
Phrases match case-insensitively on whole words, with a plural `s`/`es` and spaces or hyphens between words
taken as equal; at each position the longest phrase wins and matches do not overlap.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import GlossaryError

log = logging.getLogger(__name__)

ENV = "REGQA_GLOSSARY"  # another glossary file, or "" for none
DEFAULT_PATH = Path(__file__).resolve().parents[1] / "data" / "glossary" / "en-zh.tsv"
_LATIN_RE = re.compile(r"[A-Za-z]{2,}")


@dataclass(frozen=True)
class Entry:
    english: tuple[str, ...]  # phrases, lower case
    chinese: tuple[str, ...]  # terms as the texts print them


class Glossary:
    """Finds the English phrases of a question and gives their Chinese terms."""

    def __init__(self, entries: Iterable[Entry]) -> None:
        self.entries = tuple(entries)
        self._terms: dict[str, tuple[str, ...]] = {}
        for e in self.entries:
            for phrase in e.english:
                self._terms[phrase] = tuple(dict.fromkeys((*self._terms.get(phrase, ()), *e.chinese)))
        phrases = sorted(self._terms, key=lambda p: (-len(p), p))
        self._re = re.compile(
            r"(?<![a-z0-9])(" + "|".join(_pattern(p) for p in phrases) + r")(?:e?s)?(?![a-z0-9])"
        ) if phrases else None
        self._canonical = {_key(p): p for p in phrases}

    def __len__(self) -> int:
        return len(self.entries)

    def matches(self, question: str) -> list[str]:
        """The glossary phrases found in the question, in order."""
        if self._re is None or not _LATIN_RE.search(question):
            return []
        found = []
        for m in self._re.finditer(question.lower()):
            phrase = self._canonical.get(_key(m.group(1)))
            if phrase is not None:
                found.append(phrase)
        return found

    def terms(self, question: str) -> list[str]:
        """The Chinese terms of the phrases in the question, each once, in order."""
        out: dict[str, None] = {}
        for phrase in self.matches(question):
            for term in self._terms[phrase]:
                out[term] = None
        return list(out)

    def restricted(self, keep: Callable[[str], bool]) -> Glossary:
        """The glossary without the Chinese terms `keep` rejects (terms a corpus does not use)."""
        entries = []
        for e in self.entries:
            chinese = tuple(t for t in e.chinese if keep(t))
            if chinese:
                entries.append(Entry(e.english, chinese))
        return Glossary(entries)


def _pattern(phrase: str) -> str:
    return r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", phrase))


def _key(text: str) -> str:
    return " ".join(re.split(r"[\s\-]+", text.lower().strip()))


def parse(text: str, name: str = "glossary") -> Glossary:
    entries = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 2:
            raise GlossaryError(f"{name}:{n}: expected `english phrases<TAB>中文术语`, got {line!r}")
        english = tuple(dict.fromkeys(_key(p) for p in parts[0].split("|") if p.strip()))
        chinese = tuple(dict.fromkeys(t.strip() for t in parts[1].split("|") if t.strip()))
        if not english or not chinese:
            raise GlossaryError(f"{name}:{n}: an entry needs at least one English phrase and one Chinese term")
        entries.append(Entry(english, chinese))
    return Glossary(entries)


def glossary_path() -> Path | None:
    """The glossary file in effect: $REGQA_GLOSSARY ("" for none), else the project's own file if present."""
    env = os.environ.get(ENV)
    if env is not None:
        return Path(env) if env else None
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def glossary_digest() -> str | None:
    """sha256 of the glossary in effect (None without one): a calibration records it."""
    path = glossary_path()
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_glossary(path: Path | str | None = None) -> Glossary:
    """The glossary at `path`, else the one in effect (see glossary_path); none gives an empty glossary
    (an installation without data/). A file named by argument or $REGQA_GLOSSARY must exist."""
    if path is None:
        path = glossary_path()
        if path is None:
            log.info("no glossary: English questions get no Chinese terms")
            return Glossary(())
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise GlossaryError(f"cannot read the glossary {p}: {exc}") from None
    return parse(text, p.name)
