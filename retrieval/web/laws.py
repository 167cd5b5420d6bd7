"""The laws tab and the regulation filter, from the `python -m ingest list --json` rows of an index."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from ingest.numerals import to_int

_NUMERAL = "0-9〇零一二三四五六七八九十百千两"
_LABEL_RE = re.compile(rf"^第(?P<n>[{_NUMERAL}]+)条(?:之(?P<sub>[{_NUMERAL}]+))?$")

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


def slugs(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Each regulation's permalink slug, as retrieval.conversation.permalinks gives it (hubei, or the whole id
    when another regulation shares the first word)."""
    firsts = [r["id"].split("-")[0] for r in rows]
    return {r["id"]: (f if firsts.count(f) == 1 else r["id"]) for r, f in zip(rows, firsts, strict=True)}


def article_link(slug: str, label: str) -> str | None:
    """`?a=hubei-49` for 第四十九条 of the regulation with this slug (None for a label it cannot read)."""
    m = _LABEL_RE.match(label)
    if not m:
        return None
    try:
        n, sub = to_int(m.group("n")), to_int(m.group("sub")) if m.group("sub") else 0
    except ValueError:
        return None
    return "?a=" + quote(f"{slug}-{n}" + (f"-{sub}" if sub else ""), safe="")


def _span(c: dict[str, str]) -> str:
    """第十九条—第二十六条, or 第四十九条 alone for a chapter of one article."""
    first, last = html.escape(c["first"]), html.escape(c["last"])
    return first if c["first"] == c["last"] else f"{first}—{last}"


def chapter_outline(rows: list[dict[str, Any]]) -> str:
    """Each regulation's chapters with the articles they span (Markdown, every name escaped); each chapter links
    to its first article, opened in context in the chat."""
    parts = []
    slug = slugs(rows)
    for r in rows:
        english = r.get("english_names") or []
        head = (f"**{html.escape(r['title'])}**"
                + (f' · <span lang="en">{html.escape(english[0])}</span>' if english else ""))
        items = []
        for c in r.get("chapter_list") or []:
            text = f"{html.escape(c['chapter'])}（{_span(c)}）"
            link = article_link(slug[r["id"]], c["first"])
            items.append(f'- <a class="regqa-outline-link" href="{html.escape(link)}">{text}</a>' if link
                         else f"- {text}")
        none = f"- 不分章，共 {r['articles']} 条 · no chapters, {r['articles']} articles"
        parts.append("\n".join([head, *(items or [none])]))
    return "\n\n".join(parts)
