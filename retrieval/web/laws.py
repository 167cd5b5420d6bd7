"""The laws tab and the regulation filter, from the `python -m ingest list --json` rows of an index.

An index may hold thousands of regulations (the library): the tab shows at most PAGE_ROWS rows and the chapters of
the first OUTLINE_ROWS of them, and narrows them on the server (`matching`: a name typed, a level, a region)."""

from __future__ import annotations

import html
import re
from collections.abc import Collection
from typing import Any
from urllib.parse import quote

from ingest.numerals import to_int

_NUMERAL = "0-9〇零一二三四五六七八九十百千两"
_LABEL_RE = re.compile(rf"^第(?P<n>[{_NUMERAL}]+)条(?:之(?P<sub>[{_NUMERAL}]+))?$")

TABLE_HEADERS = ["法规 Regulation", "地区 Region", "制定机关 Issuer", "条文数 Articles", "章数 Chapters",
                 "通过/公布 Adopted or promulgated", "施行 Effective", "层级 Level", "版本 Version"]
TABLE_TYPES = ["str", "str", "str", "number", "str", "str", "str", "str", "str"]
PAGE_ROWS = 100  # rows of the laws tab shown at once; more are reached by typing a name or choosing a level/region
OUTLINE_ROWS = 20  # regulations whose chapters are listed under the table


def ordered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Largest regulation first, then by title."""
    return sorted(rows, key=lambda r: (-r["articles"], r["title"]))


def filter_choices(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The regulation filter's choices: the title (which a typed short name such as 产品质量法 is part of), with the
    version's date where there is one, and the article count."""
    return [(f"{r['title']}（{r['version'] + ' · ' if r.get('version') else ''}{r['articles']} 条）", r["id"])
            for r in rows]


def table(rows: list[dict[str, Any]], limit: int = PAGE_ROWS) -> list[list[Any]]:
    return [[r["title"], r.get("region") or "—", r.get("issuer") or "—", r["articles"], r["chapters"] or "—",
             r.get("adopted") or r.get("promulgated") or "—", r.get("effective") or "—", r.get("level") or "—",
             r.get("version") or "—"] for r in rows[:limit]]


def _folded(text: str) -> str:
    return "".join(text.split()).casefold()


def matching(rows: list[dict[str, Any]], query: str = "", ids: Collection[str] | None = None) -> list[dict[str, Any]]:
    """The rows whose title, short or English name contains every word typed (产品质量法, 浙江 条例), among `ids`."""
    words = [_folded(w) for w in (query or "").replace("《", " ").replace("》", " ").split() if w.strip()]
    out = []
    for r in rows:
        if ids is not None and r["id"] not in ids:
            continue
        names = _folded(" ".join([r["title"], *(r.get("short_names") or []), *(r.get("english_names") or [])]))
        if all(w in names for w in words):
            out.append(r)
    return out


def shown_line(found: int, total: int, limit: int = PAGE_ROWS) -> str:
    """How many rows match and how many are shown."""
    line = f"符合条件 {found} 部（共 {total} 部）· {found} of {total} regulations match"
    if found > limit:
        line += f"；显示前 {limit} 部，输入名称或选择层级、地区以缩小范围 · showing the first {limit}: type a name " \
                "or choose a level or region to narrow them"
    return line


def level_choices(levels: list[tuple[str, int]]) -> list[tuple[str, str]]:
    return [(f"{name}（{n}）", name) for name, n in levels]


def region_choices(regions: list[tuple[str, int]], national: str) -> list[tuple[str, str]]:
    return [((f"{name} national" if name == national else name) + f"（{n}）", name) for name, n in regions]


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


def chapter_outline(rows: list[dict[str, Any]], limit: int = OUTLINE_ROWS,
                    every: list[dict[str, Any]] | None = None) -> str:
    """Each regulation's chapters with the articles they span (Markdown, every name escaped), the first `limit`;
    each chapter links to its first article, opened in context in the chat. `every`: all the index's rows when
    `rows` are a search's matches, since a slug is short only when no regulation of the whole index shares it."""
    parts = []
    slug = slugs(every if every is not None else rows)
    for r in rows[:limit]:
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
