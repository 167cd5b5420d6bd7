"""How an article label is written — 第二十一条, 第十条之一, 第12条 — as one pattern for every reader of it:
the parser (headings), the article-JSONL reader (the `article` field) and the reference finder (questions)."""

from __future__ import annotations

from ingest.numerals import NUMERAL_CHARS

NUMERAL = f"[{NUMERAL_CHARS}]+"  # a Chinese or Arabic numeral as labels write it


def article_label(gap: str = "") -> str:
    """Regex source of an article label, capturing its number and its sub-number (之X, optional).

    `gap` is what may stand between the pieces: nothing in a document's heading, r"\\s*" in a question."""
    return rf"第{gap}({NUMERAL}){gap}条(?:{gap}之{gap}({NUMERAL}))?"


ARTICLE_LABEL = article_label()
