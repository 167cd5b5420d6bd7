"""The laws tab and the regulation filter, from the `python -m ingest list --json` rows of an index."""

from __future__ import annotations

import html
from typing import Any

TABLE_HEADERS = ["法规 Regulation", "地区 Region", "制定机关 Issuer", "条文数 Articles", "章数 Chapters",
                 "通过/公布 Adopted or promulgated", "施行 Effective"]
TABLE_TYPES = ["str", "str", "str", "number", "str", "str", "str"]


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Largest regulation first, then by title."""
    return sorted(rows, key=lambda r: (-r["articles"], r["title"]))


def filter_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(f"{r['title']}（{r['articles']} 条）", r["id"]) for r in rows]


def table(rows: list[dict[str, Any]]) -> list[list[Any]]:
    return [[r["title"], r.get("region") or "—", r.get("issuer") or "—", r["articles"], r["chapters"] or "—",
             r.get("adopted") or r.get("promulgated") or "—", r.get("effective") or "—"] for r in rows]


def status(rows: list[dict[str, Any]]) -> str:
    total = sum(r["articles"] for r in rows)
    return f"索引共收录 {len(rows)} 部法规、{total} 条条文 · {len(rows)} regulations, {total} articles indexed"


def chapter_outline(rows: list[dict[str, Any]]) -> str:
    """Each regulation's chapters with the articles they span (Markdown, every name escaped)."""
    parts = []
    for r in rows:
        english = r.get("english_names") or []
        head = f"**{html.escape(r['title'])}**" + (f" · {html.escape(english[0])}" if english else "")
        items = [f"- {html.escape(c['chapter'])}（{html.escape(c['first'])}—{html.escape(c['last'])}）"
                 for c in r.get("chapter_list") or []]
        none = f"- 不分章，共 {r['articles']} 条 · no chapters, {r['articles']} articles"
        parts.append("\n".join([head, *(items or [none])]))
    return "\n\n".join(parts)
