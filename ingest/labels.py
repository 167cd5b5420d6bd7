"""How an article label is written in a regulation — 第二十一条, 第十条之一, 第12条 — once, for the parser
(headings) and the article-JSONL reader (the `article` field). Questions and drafts cite articles in a fuller
grammar (ranges, 款, 项, English), read by retrieval/citations.py on the same numerals."""

from __future__ import annotations

from ingest.numerals import NUMERAL_CHARS

NUMERAL = f"[{NUMERAL_CHARS}]+"  # a Chinese or Arabic numeral as labels write it
ARTICLE_LABEL = rf"第({NUMERAL})条(?:之({NUMERAL}))?"  # captures the number and the sub-number (之X)
