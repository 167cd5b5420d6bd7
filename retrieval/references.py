"""Find article references in a question: 湖北条例第二十一条, 杭州办法第12条, 第十二条, Article 12."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.numerals import NUMERAL_CHARS, to_int
from ingest.schema import Regulation
from ingest.words import normalise

_ARTICLE_RE = re.compile(rf"第\s*([{NUMERAL_CHARS}]+)\s*条(?:\s*之\s*([{NUMERAL_CHARS}]+))?")
_ENGLISH_RE = re.compile(r"\barticle\s+(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    regulation_ids: tuple[str, ...]  # regulations named in the question (empty: none named)
    number: int | None  # article number, if one is given
    sub_number: int = 0


NameTable = tuple[tuple[str, tuple[str, ...]], ...]


def name_table(regulations: tuple[Regulation, ...]) -> NameTable:
    """Normalised full titles and short names per regulation id; build once per index."""
    return tuple(
        (reg.id, tuple(normalise(n) for n in (reg.title, *reg.short_names) if n and len(n) >= 2))
        for reg in regulations
    )


def find_reference(question: str, names: NameTable) -> Reference | None:
    """The regulations a question names and the article number it asks for, if any."""
    q = normalise(question)
    named: list[tuple[int, str]] = []
    for reg_id, reg_names in names:
        hits = [len(n) for n in reg_names if n in q]
        if hits:
            named.append((max(hits), reg_id))
    # When one name contains another (劳动合同法实施条例 ⊃ 劳动合同法), keep the longest match only.
    if named:
        best = max(length for length, _ in named)
        named = [(length, rid) for length, rid in named if length == best]
    number = sub = None
    m = _ARTICLE_RE.search(q)
    if m:
        try:
            number = to_int(m.group(1))
            sub = to_int(m.group(2)) if m.group(2) else 0
        except ValueError:
            number = None
    else:
        m2 = _ENGLISH_RE.search(q)
        if m2:
            number, sub = int(m2.group(1)), 0
    if number is None and not named:
        return None
    return Reference(tuple(rid for _, rid in named), number, sub or 0)
