"""HTML of one regulation's versions and the old beside the new (retrieval/version_report.py's Comparison): the
versions with their status badges, then one row per article pair, the old text on the left and the new on the
right, deleted words struck and inserted words underlined. Pure; all text escaped. The two columns sit side by
side when the page is wide and stack (old above new) at phone width, each cell naming its version.

Opened by the page link `?versions=<regulation>&from=<date>&to=<date>` (retrieval/web/chat.py).
"""

from __future__ import annotations

from retrieval.version_pairs import ADDED, CHANGED, REMOVED, SAME, Pair
from retrieval.version_report import Comparison
from retrieval.web.cards import esc

# status -> (badge text, colours): the same words as the result cards
BADGES: dict[str, tuple[str, str]] = {
    "in_force": ("现行有效 In force", "background:#e6f4ea;color:#1e6b34"),
    "superseded": ("已被修订 Superseded", "background:#fff4e0;color:#8a5300"),
    "repealed": ("已废止 Repealed", "background:#fde8e8;color:#9b1c1c"),
    "not_yet_in_force": ("尚未生效 Not yet in force", "background:#e8eefc;color:#1f3f8a"),
    "unknown": ("效力待定 Status unknown", "background:#eee;color:#444"),
}
KIND_LABELS = {SAME: "未改动 unchanged", CHANGED: "修改 changed", ADDED: "新增 added", REMOVED: "删除 removed"}
_GRID = "display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,18rem),1fr));gap:.5rem"
_CELL = "border:1px solid #ddd;border-radius:6px;padding:.5rem;min-width:0"
_DEL = "background:#fde8e8;text-decoration:line-through"
_INS = "background:#e6f4ea;text-decoration:underline"


def status_badge(status: str | None, version: str | None = None) -> str:
    """A status badge (现行有效 / 已被修订 / 已废止 / 尚未生效), with the version date."""
    if status not in BADGES:
        return ""
    text, colours = BADGES[status]
    when = f" · {esc(version)}" if version else ""
    return (f'<span class="regqa-status regqa-status-{status}" style="{colours};border-radius:4px;'
            f'padding:0 .4em;font-size:.85em;white-space:nowrap">{text}{when}</span>')


def _text(text: str) -> str:
    return f'<div class="regqa-text" style="white-space:pre-wrap">{esc(text)}</div>'


def _marked(p: Pair, side: str) -> str:
    parts = []
    for s in p.diff:
        if s.op == "equal":
            parts.append(esc(s.old))
        elif side == "old" and s.old:
            parts.append(f'<del style="{_DEL}">{esc(s.old)}</del>')
        elif side == "new" and s.new:
            parts.append(f'<ins style="{_INS}">{esc(s.new)}</ins>')
    return f'<div class="regqa-text" style="white-space:pre-wrap">{"".join(parts)}</div>'


def _cell(p: Pair, side: str, date: str | None) -> str:
    a = p.old if side == "old" else p.new
    head = f'<div class="regqa-note">{esc(date or "")}</div>'
    if a is None:
        what = "（此版本无对应条文 · not in this version）"
        return f'<div class="regqa-ver-cell" style="{_CELL};color:#777">{head}{what}</div>'
    body = _marked(p, side) if p.kind == CHANGED else _text(a.text)
    return (f'<div class="regqa-ver-cell" style="{_CELL}">{head}<div class="regqa-cite">{esc(a.label)}'
            f'{"（" + esc(a.chapter) + "）" if a.chapter else ""}</div>{body}</div>')


def versions_page(c: Comparison, changed_only: bool = False) -> str:
    """The whole view. `changed_only` leaves out the articles both versions print alike."""
    lines = "".join(f'<li>{esc(v.date or "（无日期 undated）")} {status_badge(status)}'
                    f'{" · 施行 " + esc(v.effective) if v.effective else ""}</li>' for v, status, _ in c.versions)
    head = (f'<div class="regqa-versions"><h3 class="regqa-cite">《{esc(c.title)}》的版本 Versions</h3>'
            f'<p class="regqa-note">效力状态以 {esc(c.as_of)} 计 · status as of {esc(c.as_of)}</p><ul>{lines}</ul>')
    if not c.pairs:
        one = "只有一个版本，无可对照 · only one version, nothing to compare"
        return f'{head}<p class="regqa-note">{one}</p></div>'
    counts = c.counts
    summary = (f'<p class="regqa-summary">{esc(c.old.date)} → {esc(c.new.date)}：修改 {counts[CHANGED]} 条 · '
               f'新增 {counts[ADDED]} 条 · 删除 {counts[REMOVED]} 条 · 未改动 {counts[SAME]} 条 · '
               f'条号变动 {counts["renumbered"]} 条 (changed {counts[CHANGED]}, added {counts[ADDED]}, '
               f'removed {counts[REMOVED]}, unchanged {counts[SAME]}, renumbered {counts["renumbered"]})</p>')
    rows = []
    for p in c.pairs:
        if changed_only and p.kind == SAME:
            continue
        label = KIND_LABELS[p.kind] + (" · 条号变动 renumbered" if p.renumbered else "")
        rows.append(f'<div class="regqa-ver-row regqa-ver-{p.kind}" style="margin:.75rem 0">'
                    f'<div class="regqa-note">{label}</div><div style="{_GRID}">'
                    f'{_cell(p, "old", c.old.date)}{_cell(p, "new", c.new.date)}</div></div>')
    return f'{head}{summary}{"".join(rows)}</div>'
