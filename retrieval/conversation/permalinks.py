"""Short stable ids for articles in links (`?a=hubei-23`, `?a=hangzhou-10-1` for 第十条之一), and back.

A regulation's slug is the first part of its id (hubei-quality-promotion-2024 → hubei) when no other
regulation in the index shares it, else the whole id; the id of an article is slug-number[-sub], so a link
keeps working across rebuilds of the same texts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from ingest.schema import Article, Regulation

_LINK_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,200}$")
_NUMBER_RE = re.compile(r"^\d{1,4}$")


class Permalinks:
    def __init__(self, regulations: Iterable[Regulation]) -> None:
        regs = list(regulations)
        firsts = Counter(r.id.split("-")[0] for r in regs)
        self.slug = {r.id: (r.id.split("-")[0] if firsts[r.id.split("-")[0]] == 1 else r.id) for r in regs}
        self._by_slug = {s: rid for rid, s in self.slug.items()} | {r.id: r.id for r in regs}

    def of(self, article: Article) -> str:
        """hubei-23; hangzhou-10-1 for an article numbered 之一."""
        base = f"{self.slug.get(article.regulation_id, article.regulation_id)}-{article.number}"
        return f"{base}-{article.sub_number}" if article.sub_number else base

    def resolve(self, link: str) -> tuple[str, int, int] | None:
        """(regulation id, number, sub-number) of a link id, or None when it names no regulation held."""
        text = (link or "").strip().lower()
        if not _LINK_RE.match(text):
            return None
        parts = text.split("-")
        # slug-number first (a full id ends in a year: hubei-quality-promotion-2024-23), then slug-number-sub
        for cut, sub in ((len(parts) - 1, "0"), (len(parts) - 2, parts[-1])):
            if cut < 1:
                continue
            rid = self._by_slug.get("-".join(parts[:cut]))
            if rid is not None and _NUMBER_RE.match(parts[cut]) and len(sub) <= 2 and sub.isdigit():
                return rid, int(parts[cut]), int(sub)
        return None
