"""HTML of a comparison (retrieval/conversation/compare.py): one column per regulation, one row per topic, each cell the
article(s) verbatim with their citations, or 无对应条文 where the regulation has none. Pure; all text escaped.

Each cell repeats its regulation's name, so when the columns stack at phone width nothing is lost; a row (one
pair) is then framed as one box. A loose pair (few shared key words) says so.
"""

from __future__ import annotations

from collections.abc import Callable

from retrieval.conversation.compare import Comparison
from retrieval.results import Result
from retrieval.web.cards import esc, highlight

NONE = "无对应条文 · no matching article"
WEAK = "关联较弱：两边条文共有的关键词很少 · loose pair: the articles share few key words"


def _article(r: Result, link: Callable[[Result], str]) -> str:
    a = r.article
    return (f'<div class="regqa-cmp-art"><div class="regqa-head"><span class="regqa-cite">{esc(r.citation)}</span>'
            f'{link(r)}</div>'
            f'<div class="regqa-text">{highlight(a.text, (r.match_start, r.match_end))}</div></div>')


def comparison(c: Comparison, link: Callable[[Result], str] = lambda r: "", note: str = "") -> str:
    """The side-by-side view; `link` gives the extra links of an article (e.g. its permalink)."""
    cols = f"regqa-cols-{min(len(c.sides), 4)}"
    head = "".join(f'<div class="regqa-cmp-col">{esc(title)}</div>' for _, title in c.sides)
    rows = []
    for n, row in enumerate(c.rows):
        cells = []
        for (_, title), arts in zip(c.sides, row, strict=True):
            body = "".join(_article(r, link) for r in arts) or f'<div class="regqa-cmp-none">{NONE}</div>'
            cells.append(f'<div class="regqa-cmp-cell"><div class="regqa-cmp-reg">{esc(title)}</div>{body}</div>')
        weak = f'<div class="regqa-cmp-weak">{WEAK}</div>' if c.is_weak(n) else ""
        rows.append(f'<div class="regqa-cmp-row {cols}{" regqa-cmp-loose" if weak else ""}">{weak}'
                    f'{"".join(cells)}</div>')
    if not rows:
        rows.append(f'<div class="regqa-cmp-row {cols}">'
                    + "".join(f'<div class="regqa-cmp-cell"><div class="regqa-cmp-reg">{esc(t)}</div>'
                              f'<div class="regqa-cmp-none">{NONE}</div></div>' for _, t in c.sides) + "</div>")
    summary = (f'<p class="regqa-summary">对照 Comparison：{esc(c.topic)} · '
               f'{" ↔ ".join(esc(t) for _, t in c.sides)}（原文，未改写 verbatim）</p>')
    return (f'<div class="regqa-answer regqa-compare">{summary}{note}'
            f'<div class="regqa-cmp-row regqa-cmp-headrow {cols}">{head}</div>'
            f'{"".join(rows)}</div>')
