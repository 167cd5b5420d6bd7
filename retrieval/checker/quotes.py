"""Compare a quotation with an article's verbatim text.

Quotations are compared ignoring whitespace, full-/half-width forms and the kind of quotation marks (the
texts write `2024 年 11 月 1 日`; a draft writes `2024年11月1日`), and a quotation may leave text out with an
ellipsis (……, ...). When a quotation is not in the text, the closest passage is found with difflib over
runs of whole clauses, trimmed to the part that lines up with the quotation, and the difference is given
as a few edit operations.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher

from retrieval.citations import fold_chars

_MARKS = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"', "‘": "'", "’": "'"})
_ELLIPSIS_RE = re.compile(r"\.{3,}|⋯+")  # NFKC turns … into ...
_EDGE_PUNCT = "。.,、;:!?\"' "  # a quotation's own opening and closing punctuation is not compared
_CLAUSE_RE = re.compile(r"[^。;!?,]*(?:[。;!?,]+|$)")  # folded: ，；！？ are , ; ! ?
MAX_COMPARED = 1000  # characters of a quotation looked at for the closest passage (difflib is quadratic)
CONTEXT = 8  # characters of unchanged text kept around each change in the compact difference
LONG_CHANGE = 40  # a changed run longer than this shows its two ends in the compact difference


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    if ch.isspace():
        return ""
    return "".join(c for c in unicodedata.normalize("NFKC", ch).translate(_MARKS) if not c.isspace())


@dataclass(frozen=True)
class Comparable:
    """A text folded for comparison, with the position in the original of every folded character."""

    text: str  # the original
    folded: str
    pos: tuple[int, ...]  # len(folded) + 1 entries; the last is len(text)

    @classmethod
    def of(cls, text: str) -> Comparable:
        folded, pos = fold_chars(text, _fold_char)
        pos.append(len(text))
        return cls(text, folded, tuple(pos))

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded[start:end]."""
        if end <= start:
            at = self.pos[start]
            return at, at
        return self.pos[start], self.pos[end - 1] + 1


@dataclass(frozen=True)
class DiffOp:
    op: str  # "replace", "delete" (in the article, not in the quotation) or "insert" (only in the quotation)
    article: str  # the article's text here, as printed
    quote: str  # the quotation's text here, as written
    at: int  # offset in the article text

    def to_json(self) -> dict[str, object]:
        return {"op": self.op, "article": self.article, "quote": self.quote, "at": self.at}


@dataclass(frozen=True)
class Passage:
    start: int  # span in the article text
    end: int
    text: str
    ratio: float  # difflib similarity of the passage and the quotation, 0..1
    diff: tuple[DiffOp, ...]
    diff_text: str  # compact: unchanged text, [-article-]{+quotation+}, long unchanged runs elided with …


def pieces(quote: str) -> list[str]:
    """The folded parts of a quotation that must appear in order (split at ellipses), without edge punctuation."""
    return _parts(Comparable.of(quote).folded)


def locate(parts: list[str], target: Comparable) -> tuple[int, int] | None:
    """Span in the target text where the quotation's parts appear in order, or None."""
    if not parts:
        return None
    at, first = 0, None
    for p in parts:
        i = target.folded.find(p, at)
        if i < 0:
            return None
        first = i if first is None else first
        at = i + len(p)
    return target.span(first or 0, at)


def closest(quote: str, target: Comparable) -> Passage | None:
    """The passage of the target most like the quotation, with the difference."""
    q = Comparable.of(quote)
    qtext = "".join(_parts(q.folded))[:MAX_COMPARED]
    if not qtext or not target.folded:
        return None
    clauses = [m.span() for m in _CLAUSE_RE.finditer(target.folded) if m.end() > m.start()]
    best: tuple[float, int, int] = (-1.0, 0, 0)
    for i, (s0, _) in enumerate(clauses):
        for j in range(i, len(clauses)):
            e0 = clauses[j][1]
            if j > i and e0 - s0 > 2 * len(qtext) + 20:
                break
            sm = SequenceMatcher(None, target.folded[s0:e0], qtext, autojunk=False)
            if sm.real_quick_ratio() > best[0] and sm.quick_ratio() > best[0]:
                r = sm.ratio()
                if r > best[0]:
                    best = (r, s0, e0)
    _, s0, e0 = best
    window = target.folded[s0:e0]
    # Trim the clauses to the part that lines up with the quotation; stray one-character matches do not
    # count, and with no real match the whole clauses are the closest passage.
    blocks = [b for b in SequenceMatcher(None, window, qtext, autojunk=False).get_matching_blocks() if b.size >= 2]
    if blocks:
        s0, e0 = s0 + blocks[0].a, s0 + blocks[-1].a + blocks[-1].size
    sm = SequenceMatcher(None, target.folded[s0:e0], qtext, autojunk=False)
    qmap = _piece_map(q, len(qtext))
    ops: list[DiffOp] = []
    compact: list[str] = []
    opcodes = sm.get_opcodes()
    for n, (tag, a0, a1, b0, b1) in enumerate(opcodes):
        a_start, a_end = target.span(s0 + a0, s0 + a1)
        art = target.text[a_start:a_end]
        if tag == "equal":
            compact.append(_context(art, first=n == 0, last=n == len(opcodes) - 1))
            continue
        quoted = _original(q, qmap, b0, b1)
        ops.append(DiffOp(tag, art, quoted, a_start))
        compact.append((f"[-{_elide(art)}-]" if art else "") + (f"{{+{_elide(quoted)}+}}" if quoted else ""))
    start, end = target.span(s0, e0)
    return Passage(start, end, target.text[start:end], round(sm.ratio(), 4), tuple(ops), "".join(compact))


def _elide(text: str) -> str:
    return text if len(text) <= LONG_CHANGE else f"{text[:LONG_CHANGE // 2 - 4]}…{text[-(LONG_CHANGE // 2 - 4):]}"


def _context(text: str, first: bool, last: bool) -> str:
    """Unchanged text in the compact difference: only the characters next to a change."""
    if first and last:
        return text
    if first:
        return text if len(text) <= CONTEXT else "…" + text[-CONTEXT:]
    if last:
        return text if len(text) <= CONTEXT else text[:CONTEXT] + "…"
    return text if len(text) <= 2 * CONTEXT + 1 else f"{text[:CONTEXT]}…{text[-CONTEXT:]}"


def _piece_map(q: Comparable, n: int) -> list[int]:
    """For each of the first n compared characters of a quotation, its index in q.folded."""
    out: list[int] = []
    at = 0
    for part in _parts(q.folded):
        i = q.folded.find(part, at)
        out.extend(range(i, i + len(part)))
        at = i + len(part)
        if len(out) >= n:
            break
    return out[:n]


def _parts(folded: str) -> list[str]:
    return [p for p in (part.strip(_EDGE_PUNCT) for part in _ELLIPSIS_RE.split(folded)) if p]


def _original(q: Comparable, qmap: list[int], b0: int, b1: int) -> str:
    if b1 <= b0:
        return ""
    start, end = q.span(qmap[b0], qmap[b1 - 1] + 1)
    return q.text[start:end]
