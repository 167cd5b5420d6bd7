"""The citation checker: every article citation in a draft, checked against the corpus.

Owns the verdicts (check: found, unknown_regulation, no_such_article, quote_differs), the comparison of quoted
words with the article's text (quotes) and the regulations a draft is checked against (catalogue: from an index
or from source files). Citations are found by the core's grammar (`retrieval.citations`).

May import: the ranking core (`retrieval`) and `ingest`. Never the conversation, serving or the page.
`retrieval.checker.check_citations` stays importable from here.
"""

from __future__ import annotations

from retrieval.checker.check import VERDICTS, CheckReport, check_citations

__all__ = ["VERDICTS", "CheckReport", "check_citations"]
