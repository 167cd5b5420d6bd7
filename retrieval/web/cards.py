"""HTML for the web app's chat: article cards, verbatim, every piece of text escaped.

Pure functions, no Gradio. The chat renders messages as Markdown with sanitised HTML, so every string
that comes from a user or an article goes through `html.escape`, and each message is one HTML block with
no blank line in it (a blank line would end the block and hand the rest to the Markdown parser).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from ingest.schema import Article
from retrieval.results import Result, SearchResponse
from retrieval.web import export

NO_ANSWER = "未找到直接相关的条文"
FOUND_BY = {"reference": "条号 article no.", "dense": "语义 meaning", "lexical": "关键词 words"}
MAX_ECHO = 300  # characters of an over-long question echoed back in the chat
# A reply shows the articles that score at least this share of the best one; the rest are folded under "more"
# (on the development questions, with the glossary's calibration, top 3: every relevant second-or-later article
# clears it, 48 % of the others do; at 0.65 only 89 % of the relevant ones did).
RELATIVE_BAR = 0.55
# An article that only says when the text takes effect (本办法自 2021 年 9 月 15 日起施行。) answers nothing else.
_EFFECTIVE_ONLY_RE = re.compile(r"^本(?:条例|办法|规定|细则|规则|决定|法)自[^。；;]{0,60}?(?:施行|生效)[。.]?$")
_ABOUT_DATES_RE = re.compile(r"施行|生效|实施日期|开始实施|起实施|何时|什么时[候侯]|哪天|哪一天|几时|日期|时间|起算"
                             r"|有效期"
                             r"|\d{4}\s*年|\bwhen\b|effective|take effect|in force|\bdates?\b|commence",
                             re.IGNORECASE)


_NEWLINES = re.compile(r"\s*[\r\n]\s*")  # CommonMark ends lines at \n, \r and \r\n


def esc(text: str) -> str:
    """Escape for HTML; each line break (or run of them) becomes one <br>, so no blank line is produced."""
    return _NEWLINES.sub("<br>", html.escape(text, quote=True))


def user_message(text: str) -> str:
    """The question as typed, shown literally (no Markdown, no HTML)."""
    shown = text if len(text) <= MAX_ECHO else f"{text[:MAX_ECHO]}…（共 {len(text)} 字 / {len(text)} chars）"
    return f'<div class="regqa-q">{esc(shown)}</div>'


def error_message(message: str) -> str:
    return f'<div class="regqa-error" role="alert">⚠️ {esc(message)}</div>'


def _normalised(text: str, to_simplified: Callable[[str], str] | None) -> tuple[str, list[int]]:
    """Text folded for matching (NFKC, lower case, simplified) and, per folded char, its source index."""
    pieces = [unicodedata.normalize("NFKC", ch).lower() for ch in text]
    owner = [i for i, p in enumerate(pieces) for _ in p]
    folded = "".join(pieces)
    if to_simplified is not None:
        converted = to_simplified(folded)
        if len(converted) == len(folded):  # t2s is character for character in practice; otherwise skip it
            folded = converted
    return folded, owner


def word_mask(text: str, query_words: Sequence[str],
              to_simplified: Callable[[str], str] | None = None) -> list[bool]:
    """Which characters of `text` belong to an occurrence of a query word (two characters or more)."""
    mask = [False] * len(text)
    folded, owner = _normalised(text, to_simplified)
    for w in {w for w in query_words if len(w) > 1}:
        start = folded.find(w)
        while start >= 0:
            for j in range(start, start + len(w)):
                mask[owner[j]] = True
            start = folded.find(w, start + 1)
    return mask


def _with_words(text: str, mask: Sequence[bool], lo: int, hi: int) -> str:
    out: list[str] = []
    i = lo
    while i < hi:
        j = i
        while j < hi and bool(mask[j]) == bool(mask[i]):
            j += 1
        piece = esc(text[i:j])
        out.append(f'<strong class="regqa-word">{piece}</strong>' if mask[i] else piece)
        i = j
    return "".join(out)


def highlight(text: str, span: tuple[int, int] | None, words_mask: Sequence[bool] | None = None) -> str:
    """Escaped text with the matched sentence in <mark> and query words in <strong>."""
    fits = words_mask is not None and len(words_mask) == len(text)
    mask = list(words_mask) if fits else [False] * len(text)
    lo, hi = span if span else (0, 0)
    lo, hi = max(0, min(lo, len(text))), max(0, min(hi, len(text)))
    if hi <= lo:
        return _with_words(text, mask, 0, len(text))
    return (_with_words(text, mask, 0, lo) + '<mark class="regqa-hit">' + _with_words(text, mask, lo, hi)
            + "</mark>" + _with_words(text, mask, hi, len(text)))


def effective_date_only(text: str) -> bool:
    """An article whose text only states when the regulation takes effect."""
    return bool(_EFFECTIVE_ONLY_RE.match(re.sub(r"\s+", "", text)))


def asks_about_dates(question: str) -> bool:
    return bool(_ABOUT_DATES_RE.search(question or ""))


def shown_first(results: Sequence[Result], question: str) -> list[bool]:
    """Per result, whether it is shown at once (else folded under "more"): an article found by its number always;
    others when they score RELATIVE_BAR of the best and are not a bare effective-date article that the question
    (about something else) did not ask for. The first result is always shown, unless it is such a date article."""
    if not results:
        return []
    best = max(r.score for r in results)
    dates = asks_about_dates(question)
    out = []
    for i, r in enumerate(results):
        if "reference" in r.found_by:
            out.append(True)
        elif not dates and effective_date_only(r.article.text):
            out.append(False)
        else:
            out.append(i == 0 or (best > 0 and r.score >= RELATIVE_BAR * best))
    if not any(out):  # nothing else: the best one stays in view
        out[0] = True
    return out


def _relevance(r: Result) -> str:
    by = " + ".join(FOUND_BY.get(f, f) for f in r.found_by if f != "reference")
    if "reference" in r.found_by:
        return "条号直接命中 exact article reference" + (f" · {esc(by)}" if by else "")
    return f"相关度 relevance {r.score:.3f} · {esc(by)}"


def _cite_button() -> str:
    """The app's script copies the nearest `.regqa-cite` text (the sanitiser drops data-* attributes)."""
    return '<button type="button" class="regqa-copy" title="复制引用 Copy citation">复制引用 Copy</button>'



def page_link(**params: str | list[str]) -> str:
    """A link to this page with a query (`?q=…`, `?a=…`), escaped for an href attribute."""
    return html.escape("?" + urlencode({k: v for k, v in params.items() if v}, doseq=True), quote=True)


def action(kind: str, label: str, **params: str | list[str]) -> str:
    """A permalink the page's script follows in place (keeping the conversation); a plain link without it."""
    return f'<a class="regqa-act regqa-{kind}" href="{page_link(**params)}">{esc(label)}</a>'


def article_actions(link_id: str) -> str:
    """The links of one card: the article on its own, and beside its closest articles elsewhere."""
    return (f'<span class="regqa-acts">{action("link", "链接 Link", a=link_id)}'
            f'{action("compare", "对照 Compare", compare=link_id)}</span>')


def understood_line(shown_as: str, alone: str) -> str:
    """How a follow-up was read, with one click to search the new words as typed."""
    return (f'<p class="regqa-understood">理解为 Understood as：<span class="regqa-shown">{esc(shown_as)}</span> '
            f'{action("alone", "只搜索这句 Search these words alone", q=alone, fresh="1")}</p>')


def share_line(question: str, regulations: list[str] | None = None) -> str:
    return (f'<p class="regqa-share">{action("share", "分享 Share", q=question, reg=list(regulations or []))}'
            f'</p>')


def _data(kind: str, text: str) -> str:
    """Text for the page's script in a hidden element (the sanitiser drops data-* attributes). Line breaks
    become character references, so the text keeps them and the message still has no blank line."""
    body = html.escape(text, quote=True).replace("\r", "&#13;").replace("\n", "&#10;")
    return f'<pre class="regqa-data regqa-{kind}" hidden>{body}</pre>'


def _votes(up: str, down: str) -> str:
    """👍/👎 buttons, with words too (a machine without an emoji font shows boxes); the script sends the vote
    with the question and article held in the reply."""
    return (f'<span class="regqa-votes"><button type="button" class="regqa-vote regqa-up" title="{up}">{up}</button>'
            f'<button type="button" class="regqa-vote regqa-down" title="{down}">{down}</button></span>')


COPY_ALL = "复制全部引用 Copy all citations"
COPY_NEAREST = "复制最接近条文的引用（并非答案）Copy the citations of the nearest articles (not answers)"


def reply_tools(response: SearchResponse, build: str, date: str, asked: str = "", understood: str = "") -> str:
    """The reply's question, Markdown export and citations (hidden, for the script) and its buttons. `asked` is
    the question as typed and `understood` how a follow-up was read (the export records both). When nothing
    answers, the copy button says it copies the nearest articles' citations."""
    md = export.markdown(response, build, date, asked=asked, understood=understood)
    label = COPY_NEAREST if response.abstained else COPY_ALL
    buttons = ('<div class="regqa-tools">'
               '<button type="button" class="regqa-download" title="下载 Markdown Download">'
               '下载 Markdown Download</button>'
               f'<button type="button" class="regqa-copy-all" title="{esc(label)}">'
               f'{esc(label)}</button></div>') if response.results else ""
    return (_data("question", response.query) + _data("md", md) + _data("cites", export.citations(response.results))
            + buttons)


def _context(article: Article, neighbours: Sequence[Article]) -> str:
    if not neighbours:
        return ""
    where = f"（{esc(article.chapter)}）" if article.chapter else ""
    rows = []
    for a in neighbours:
        me = a.id == article.id
        cls = "regqa-ctx-art regqa-ctx-me" if me else "regqa-ctx-art"
        rows.append(f'<div class="{cls}"><span class="regqa-ctx-label">{esc(a.label)}</span> '
                    f'{esc(a.text)}</div>')
    return (f'<details class="regqa-ctx"><summary>阅读上下文 Read in context{where}</summary>'
            f'<div class="regqa-note">《{esc(article.regulation_title)}》在索引中的前后条文 '
            f'(neighbouring articles held in the index)</div>{"".join(rows)}</details>')


def _related(items: Sequence[Result]) -> str:
    if not items:
        return ""
    rows = "".join(
        f'<div class="regqa-rel-art"><div class="regqa-rel-head">'
        f'<span class="regqa-cite">{esc(r.citation)}</span> '
        f'<span class="regqa-meta">相似度 similarity {r.score:.3f}</span> {_cite_button()}</div>'
        f'<div class="regqa-text">{esc(r.article.text)}</div></div>'
        for r in items)
    return (f'<details class="regqa-rel"><summary>其他法规中的相近条文 Similar articles in other regulations '
            f'({len(items)})</summary>{rows}</details>')


def card(rank: int, r: Result, words_mask: Sequence[bool] | None = None,
         neighbours: Sequence[Article] = (), related: Sequence[Result] = (), actions: str = "") -> str:
    """One article: citation heading, verbatim text with the matched sentence marked, relevance, extras."""
    a = r.article
    return (f'<div class="regqa-card"><div class="regqa-head"><span class="regqa-rank">{rank}</span>'
            f'<h3 class="regqa-cite">{esc(r.citation)}</h3>{_cite_button()}</div>'
            f'<div class="regqa-meta">{_relevance(r)}{actions}</div>{_data("aid", a.id)}'
            f'<div class="regqa-text regqa-body">'
            f'{highlight(a.text, (r.match_start, r.match_end), words_mask)}</div>'
            f'{_context(a, neighbours)}{_related(related)}'
            f'<div class="regqa-feedback">这条回答了问题吗？<span lang="en">Did this answer it?</span> '
            f'{_votes("👍 是 Yes", "👎 否 No")}</div></div>')


HINT_REPHRASE = "可以换个说法。Try other words."
HINT_FILTER = ("可以换个说法，或在设置中选择其他法规（当前只检索了所选法规）。"
               "Try other words, or widen the regulation filter.")


def answer(response: SearchResponse, cards: Sequence[str], tools: str = "", lead: str = "", tail: str = "",
           shown: Sequence[bool] | None = None, filtered: bool = False) -> str:
    """The reply: the cards; or, when nothing answers, a plain notice with the nearest cards folded away.
    `tools` (from reply_tools) adds the feedback and export buttons; `lead` goes first (how a follow-up was
    understood), `tail` last (the share link). `shown` (from shown_first) folds the cards it marks False under
    "more"; `filtered`: the person limited the regulations searched (the no-answer hint then says so)."""
    note = f'<p class="regqa-note">{esc(response.message)}</p>' if response.message else ""
    if response.abstained:
        nearest = (f'<details class="regqa-nearest"><summary>'
                   f'查看最接近的 {len(cards)} 条（可能并不回答该问题）'
                   f'Show the {len(cards)} nearest articles (they may not answer the question)</summary>'
                   f'{"".join(cards)}</details>') if cards else ""
        return (f'<div class="regqa-answer regqa-abstained">'
                f'<p class="regqa-none"><strong>{NO_ANSWER}</strong>'
                f'（<span lang="en">No article in the index answers this directly.</span>）'
                f'{HINT_FILTER if filtered else HINT_REPHRASE}</p>'
                f'{lead}{_no_answer_votes() if tools else ""}{note}{nearest}{tools}{tail}</div>')
    keep = list(shown) if shown is not None and len(shown) == len(cards) else [True] * len(cards)
    first = [c for c, k in zip(cards, keep, strict=True) if k]
    rest = [c for c, k in zip(cards, keep, strict=True) if not k]
    head = (f'<p class="regqa-summary">最相关的 {len(first)} 条条文（原文，未改写）'
            f'· <span lang="en">top {len(first)} articles, verbatim</span></p>')
    more = (f'<details class="regqa-more"><summary>更多 {len(rest)} 条（相关度较低）'
            f'<span lang="en">{len(rest)} more, less relevant</span></summary>{"".join(rest)}</details>'
            if rest else "")
    return (f'<div class="regqa-answer">{lead}{related_line(response)}{head}{note}{"".join(first)}{more}{tools}'
            f'{tail}</div>')


def related_line(response: SearchResponse) -> str:
    """For articles that touch the subject but do not state what was asked: one plain line above the cards."""
    if response.answer != "related":
        return ""
    reason = response.reason or "条文涉及该事项，但未直接回答所问 · the articles touch the subject but do not answer it"
    return f'<p class="regqa-related" role="note">⚠️ {esc(reason)}</p>'


def _no_answer_votes() -> str:
    return ('<div class="regqa-feedback regqa-feedback-none">'
            '<button type="button" class="regqa-vote regqa-down" title="这个问题应该有答案 It should have one">'
            '👎 这个问题应该有答案 It should have one</button>'
            '<button type="button" class="regqa-vote regqa-up" title="确实没有 Indeed none">'
            '👍 确实没有 Indeed none</button></div>')


def article_view(article: Article, neighbours: Sequence[Article], actions: str = "") -> str:
    """One article opened by its link: its citation, then its chapter's neighbouring articles around it."""
    where = f"（{esc(article.chapter)}）" if article.chapter else ""
    rows = []
    for a in neighbours or (article,):
        me = a.id == article.id
        cls = "regqa-ctx-art regqa-ctx-me" if me else "regqa-ctx-art"
        body = f'<span class="regqa-ctx-label">{esc(a.label)}</span> {esc(a.text)}'
        rows.append(f'<div class="{cls}">{body}</div>')
    return (f'<div class="regqa-answer regqa-article"><div class="regqa-card"><div class="regqa-head">'
            f'<h3 class="regqa-cite">{esc(article.citation)}</h3>{_cite_button()}</div>'
            f'<div class="regqa-meta">条文及其上下文 the article in context{actions}</div>'
            f'<div class="regqa-note">《{esc(article.regulation_title)}》{where}</div>{"".join(rows)}</div></div>')
