"""A chat reply as Markdown, for the "download" button: the question, the date, the index build, and each
cited article verbatim. Pure functions; the page carries the text in a hidden element for its script."""

from __future__ import annotations

from collections.abc import Sequence

from retrieval.results import Result, SearchResponse

NO_ANSWER_MD = "未找到直接相关的条文（No article in the index answers this directly.）"


def _quote(text: str) -> str:
    """The article as a Markdown block quote, line for line (verbatim; only the "> " prefix is added)."""
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines() or [""])


def _inline(text: str) -> str:
    """A one-line field (the question): line breaks folded, so it cannot start a heading or a list."""
    return " ".join(text.split())


def markdown(response: SearchResponse, build: str, date: str, results: Sequence[Result] | None = None,
             asked: str = "", understood: str = "") -> str:
    """`asked`: the question as typed (else the words searched); `understood`: how a follow-up was read, recorded
    with the words that were searched."""
    shown = list(response.results if results is None else results)
    lines = ["# 法规条文检索 · Regulation search", "", f"- 问题 Question: {_inline(asked or response.query)}"]
    if understood:
        lines += [f"- 理解为 Understood as: {_inline(understood)}", f"- 检索词 Searched: {_inline(response.query)}"]
    lines += [f"- 日期 Date: {date}", f"- 索引版本 Index build: {build}", ""]
    if response.abstained:
        lines += [f"**{NO_ANSWER_MD}**", ""]
        if shown:
            lines += ["最接近的条文（可能并不回答该问题）· The nearest articles (they may not answer the question):",
                      ""]
    for n, r in enumerate(shown, 1):
        lines += [f"## {n}. {r.citation}", "", _quote(r.article.text), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def citations(results: Sequence[Result]) -> str:
    """The citations, one per line (the "copy all citations" text)."""
    return "\n".join(r.citation for r in results)
