"""The regulations an index holds, with their counts: `python -m ingest list` and the app's list."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ingest.index_io import LoadedIndex


def regulation_rows(index: LoadedIndex) -> list[dict[str, Any]]:
    articles = Counter(a.regulation_id for a in index.articles)
    chapters: dict[str, set[str]] = {}
    for a in index.articles:
        if a.chapter:
            chapters.setdefault(a.regulation_id, set()).add(a.chapter)
    rows = []
    for reg in index.regulations:
        row = reg.to_json()
        row.update({"articles": articles[reg.id], "chapters": len(chapters.get(reg.id, ()))})
        rows.append(row)
    return rows
