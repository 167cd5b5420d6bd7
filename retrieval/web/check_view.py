"""HTML for the citation-check tab: the draft with each citation marked by its verdict, and one row per
citation with what the index holds. Pure functions of the draft and the checker's JSON
(`CheckReport.to_json()`, the same object `/api/check` returns); every user- or article-derived string is
escaped. Marks and rows share a `regqa-ck-nN` class, which the tab's script uses to join them on a click.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# verdict -> (colour class, badge text)
VERDICT_STYLE: dict[str, tuple[str, str]] = {
    "found": ("regqa-ck-ok", "✓ 条文存在 Found"),
    "quote_differs": ("regqa-ck-warn", "≠ 引文不符 Quote differs"),
    "no_such_article": ("regqa-ck-bad", "✗ 无此条文 No such article"),
    "unknown_regulation": ("regqa-ck-bad", "✗ 未收录该法规 Unknown regulation"),
    "superseded": ("regqa-ck-warn", "⟲ 已被修订 Superseded version"),
}
# a `found` row says what was checked: the quotation too, the article alone, or a quotation left uncompared
QUOTE_MATCHES = "✓ 引文相符 Quote matches"
EXISTS = "✓ 条文存在 Article exists"
NOT_COMPARED = "条文存在 · 引文未比对 Quote not compared"
MAX_ROWS = 300  # verdict rows rendered; a longer report says so (the JSON API returns every one)
EMPTY = ('<div class="regqa-ck-empty">粘贴草稿后点击“检查”，或点击“示例草稿”。'
         'Paste a draft and press Check, or try the example.</div>')


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def colour(verdict: str, c: dict[str, Any] | None = None) -> str:
    if verdict == "found" and c is not None and c.get("quote_not_compared"):
        return "regqa-ck-unchecked"
    return VERDICT_STYLE.get(verdict, ("regqa-ck-bad", ""))[0]


def row_badge(c: dict[str, Any]) -> str:
    """A row's badge: for `found`, whether the quotation was compared (引文相符) or only the article found."""
    if c["verdict"] != "found":
        return badge(c["verdict"])
    if c.get("quote_not_compared"):
        return f'<span class="regqa-ck-badge regqa-ck-unchecked">{esc(NOT_COMPARED)}</span>'
    text = QUOTE_MATCHES if c.get("quote_compared") else EXISTS
    return f'<span class="regqa-ck-badge regqa-ck-ok">{esc(text)}</span>'


def badge(verdict: str) -> str:
    cls, text = VERDICT_STYLE.get(verdict, ("regqa-ck-bad", verdict))
    return f'<span class="regqa-ck-badge {cls}">{esc(text)}</span>'


def marked_draft(text: str, citations: Sequence[dict[str, Any]],
                 unattributed: Sequence[dict[str, Any]] = ()) -> str:
    """The draft, escaped, each citation in a clickable mark coloured by its verdict (numbered from 1, in
    order); citations that name no regulation in a grey mark. Overlapping spans keep the first."""
    spans: list[tuple[int, int, str]] = []
    for n, c in enumerate(citations, 1):
        spans.append((c["start"], c["end"], f'regqa-ck-mark {colour(c["verdict"], c)} regqa-ck-n{n}'))
    for u in unattributed:
        spans.append((u["start"], u["end"], "regqa-ck-mark regqa-ck-none"))
    out: list[str] = []
    at = 0
    for start, end, cls in sorted(spans, key=lambda s: (s[0], s[1])):
        start, end = max(start, 0), min(end, len(text))
        if start < at or end <= start:
            continue
        out.append(esc(text[at:start]))
        number = cls.rsplit("regqa-ck-n", 1)[1] if "regqa-ck-n" in cls else ""
        sup = f'<sup class="regqa-ck-num">{number}</sup>' if number else ""
        out.append(f'<mark class="{cls}" role="button" tabindex="0">{esc(text[start:end])}{sup}</mark>')
        at = end
    out.append(esc(text[at:]))
    return f'<div class="regqa-ck-draft">{"".join(out)}</div>'


def _with_span(text: str, span: tuple[int, int] | None) -> str:
    if not span:
        return esc(text)
    lo, hi = max(0, min(span[0], len(text))), max(0, min(span[1], len(text)))
    if hi <= lo:
        return esc(text)
    return f'{esc(text[:lo])}<mark class="regqa-ck-quote">{esc(text[lo:hi])}</mark>{esc(text[hi:])}'


def diff_html(closest: dict[str, Any], diff: Sequence[dict[str, Any]]) -> str:
    """The closest passage with the draft's changes: <del> what the article says, <ins> what the draft wrote."""
    text, start = closest["text"], closest["start"]
    out: list[str] = []
    at = 0
    for op in sorted(diff, key=lambda o: o["at"]):
        rel = max(op["at"] - start, at)
        out.append(esc(text[at:rel]))
        if op["article"]:
            out.append(f'<del class="regqa-ck-del">{esc(op["article"])}</del>')
        if op["quote"]:
            out.append(f'<ins class="regqa-ck-ins">{esc(op["quote"])}</ins>')
        at = min(len(text), rel + len(op["article"]))
    out.append(esc(text[at:]))
    return "".join(out)


def _article(c: dict[str, Any]) -> str:
    if not c.get("text"):
        return ""
    found = c.get("quote_found_at")
    span = (found["start"], found["end"]) if found and found.get("article") == c.get("article") else None
    more = f'（引用 {esc("、".join(c["range"]))} · range）' if c.get("range") else ""
    return (f'<div class="regqa-ck-article"><div class="regqa-cite">{esc(c["citation"])}{more}</div>'
            f'<div class="regqa-text">{_with_span(c["text"], span)}</div></div>')


def _did_you_mean(c: dict[str, Any]) -> str:
    if not c.get("did_you_mean"):
        return ""
    items = "、".join(f'<span class="regqa-cite">{esc(s)}</span>' for s in c["did_you_mean"])
    return f'<div class="regqa-ck-dym">是否指 Did you mean: {items}</div>'


def _details(c: dict[str, Any]) -> str:
    verdict = c["verdict"]
    parts: list[str] = []
    if c.get("quote"):
        parts.append(f'<div class="regqa-ck-quoted">引文 Quoted: “{esc(c["quote"]["text"])}”</div>')
    if verdict == "found":
        parts.append(_article(c))
    elif verdict == "no_such_article":
        if c.get("article_count") is not None:
            parts.append(f'<div class="regqa-ck-count">《{esc(c["title"])}》共 {c["article_count"]} 条 · '
                         f'{c["article_count"]} articles</div>')
        parts.append(_did_you_mean(c))
    elif verdict == "quote_differs":
        closest = c.get("closest")
        if closest:
            parts.append(f'<div class="regqa-ck-closest"><div class="regqa-note">最接近的原文 Closest passage · '
                         f'<span class="regqa-cite">{esc(closest["citation"])}</span></div>'
                         f'<div class="regqa-text">{esc(closest["text"])}</div>'
                         f'<div class="regqa-note">差异 Difference（删除线为原文，下划线为草稿 '
                         f'struck: the article; underlined: the draft）</div>'
                         f'<div class="regqa-text regqa-ck-diff">{diff_html(closest, c.get("diff") or [])}</div>'
                         '</div>')
        parts.append(_did_you_mean(c))
        parts.append(f'<details class="regqa-ck-full"><summary>条文全文 Full article</summary>{_article(c)}'
                     '</details>' if c.get("text") else "")
    else:
        parts.append(_did_you_mean(c))
    return "".join(parts)


def row(n: int, c: dict[str, Any]) -> str:
    """One citation's verdict: as written, the badge, the checker's message, what the index holds."""
    return (f'<div class="regqa-ck-row {colour(c["verdict"], c)} regqa-ck-n{n}">'
            f'<div class="regqa-ck-head"><span class="regqa-ck-num">{n}</span>'
            f'<span class="regqa-ck-cited">{esc(c["cited"])}</span>{row_badge(c)}</div>'
            f'<div class="regqa-ck-msg">{esc(c["message"])}</div>{_details(c)}</div>')


def summary(counts: dict[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return ('<div class="regqa-ck-summary">未发现引用 No article citations found '
                '（例如 e.g. 《湖北省质量促进条例》第二十三条）</div>')
    parts = " · ".join(f'{badge(v)} {counts.get(v, 0)}' for v in VERDICT_STYLE if counts.get(v))
    return f'<div class="regqa-ck-summary">共 {total} 处引用 {total} citations: {parts}</div>'


def report(text: str, checked: dict[str, Any]) -> str:
    """The whole result: the counts, the marked draft, then the verdict rows in draft order."""
    citations = checked["citations"]
    rows = [row(n, c) for n, c in enumerate(citations[:MAX_ROWS], 1)]
    if len(citations) > MAX_ROWS:
        rows.append(f'<div class="regqa-note">仅显示前 {MAX_ROWS} 条结果，共 {len(citations)} 条；完整结果请用 '
                    f'/api/check · first {MAX_ROWS} of {len(citations)} shown</div>')
    unattributed = checked.get("unattributed") or []
    if unattributed:
        items = "".join(f'<li><span class="regqa-ck-cited">{esc(u["cited"])}</span> — {esc(u["message"])}</li>'
                        for u in unattributed)
        rows.append(f'<div class="regqa-ck-unattributed">未核对 Not checked<ul>{items}</ul></div>')
    return (f'<div class="regqa-ck-report">{summary(checked["counts"])}'
            f'{marked_draft(text, citations, unattributed)}'
            f'<div class="regqa-ck-rows">{"".join(rows)}</div></div>')


def error(message: str) -> str:
    return f'<div class="regqa-error" role="alert">⚠️ {esc(message)}</div>'
