"""The regulations an index holds, with their counts: `python -m ingest list` and the app's list."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ingest.stores.index_io import LoadedIndex
from ingest.versions import VersionTable


def regulation_rows(index: LoadedIndex) -> list[dict[str, Any]]:
    articles = Counter(a.regulation_id for a in index.articles)
    # Chapters in reading order, each with the labels of its first and last article.
    chapters: dict[str, dict[str, dict[str, str]]] = {}
    for a in index.articles:
        if a.chapter:
            span = chapters.setdefault(a.regulation_id, {}).setdefault(a.chapter, {"first": a.label})
            span["last"] = a.label
    versions = VersionTable(index.regulations, index.articles)
    rows = []
    for reg in index.regulations:
        row = reg.to_json()
        row.update({"level": reg.level, "region": reg.region, "version": reg.version})  # null where none
        own = chapters.get(reg.id, {})
        row.update({"articles": articles[reg.id], "chapters": len(own),
                    "chapter_list": [{"chapter": c, **span} for c, span in own.items()]})
        # status as of today, and the date of every version of this regulation (oldest first)
        row.update({"status": versions.status(reg.id).status,
                    "versions": [v.date for v in versions.versions(reg.id)]})
        rows.append(row)
    return rows
