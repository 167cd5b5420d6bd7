"""Find article references in a question: 湖北条例第二十一条, 杭州办法第12条, 第十二条, Article 12."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.labels import article_label
from ingest.numerals import to_int
from ingest.schema import Regulation
from ingest.words import normalise

_ARTICLE_RE = re.compile(article_label(r"\s*"))
_ENGLISH_RE = re.compile(r"\b(?:article|art\.?)\s*(\d+)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    regulation_ids: tuple[str, ...]  # regulations named in the question (empty: none named)
    number: int | None  # article number, if one is given
    sub_number: int = 0


NameTable = tuple[tuple[str, tuple[str, ...]], ...]


def name_table(regulations: tuple[Regulation, ...]) -> NameTable:
    """Normalised names (title, short and English names, region) per regulation id; build once per index."""
    return tuple((reg.id, tuple(normalise(n) for n in reg.names if len(n) >= 2)) for reg in regulations)


def _spans(q: str, name: str) -> list[tuple[int, int]]:
    """Where a name occurs: a Chinese name anywhere, a Latin one only as whole words ("hubei", not "xhubeiy")."""
    if name.isascii():
        pattern = rf"(?<![a-z0-9]){re.escape(name)}(?![a-z0-9])"
    else:
        pattern = re.escape(name)
    return [m.span() for m in re.finditer(pattern, q)]


def find_reference(question: str, names: NameTable) -> Reference | None:
    """The regulations a question names and the article number it asks for, if any."""
    q = normalise(question)
    spans = [(a, b, reg_id) for reg_id, reg_names in names for n in reg_names for a, b in _spans(q, n)]
    # A name inside a longer name of another regulation (劳动合同法 in 劳动合同法实施条例) is not a mention of
    # its own; two names side by side (湖北条例和杭州办法) both are.
    named = [(a, rid) for a, b, rid in spans
             if not any(a2 <= a and b <= b2 and b2 - a2 > b - a and rid2 != rid for a2, b2, rid2 in spans)]
    named = sorted({rid: a for a, rid in sorted(named, reverse=True)}.items(), key=lambda x: x[1])
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
    return Reference(tuple(rid for rid, _ in named), number, sub or 0)
