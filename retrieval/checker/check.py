"""Check the article citations in a draft against the verbatim texts: `check_citations(text, catalogue)`.

Each citation gets one verdict: found (with the verbatim article and its citation form), unknown_regulation
(the index does not hold the regulation), no_such_article (with how many articles, or 款, there are), or
quote_differs (the quotation is not in the article: the closest passage, the difference, and any article
that does contain it). Citations are found by retrieval.citations, the matcher the search uses too.

`found` alone says the article exists; `quote_compared` says whether a quotation was compared with it too. A
quotation too long to be compared (over retrieval.citations.MAX_QUOTE characters, or never closed) stays `found`
with quote_compared false and a message that says it was not compared.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any

from ingest.errors import QueryError, QueryTooLong
from ingest.numerals import to_chinese
from ingest.schema import Article, Regulation
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.quotes import Comparable, Passage, closest, locate, pieces
from retrieval.citations import MAX_QUOTE, Citation, find_citations

MAX_DRAFT_CHARS = 200_000  # about 100 pages of Chinese; longer drafts are refused with a clear message
MAX_SUGGESTIONS = 3
MAX_CLOSEST = 300  # closest passages worked out per draft (difflib is slow); later ones get the verdict only
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# What may stand between a citation and its quotation (规定：“), as in retrieval.citations, on the draft as written.
_LEAD_RE = re.compile(r"[ \t]{0,3}(?:的|中)?[ \t]{0,2}(?:明确|明文|亦|也|还|则|就)?"
                      r"(?:规定|指出|要求|写道|写明|载明|提出|表述为|表明|称|说|明确)?[ \t]{0,3}[:：,，]?[ \t]{0,3}")
_OPENERS = {"“": "”", "「": "」", "『": "』", '"': '"', "＂": "＂"}
VERDICTS = ("found", "unknown_regulation", "no_such_article", "quote_differs")
SUPERSEDED = "superseded"  # only where a regulation is held in several versions (retrieval/checker/versions.py)


@dataclass(frozen=True)
class CitationCheck:
    citation: Citation
    verdict: str  # one of VERDICTS
    message: str  # one line for people: 中文 (English)
    regulation: Regulation | None = None
    article: Article | None = None  # the cited article, when the index holds it
    articles: tuple[Article, ...] = ()  # every article of a cited range
    article_count: int | None = None
    paragraph_count: int | None = None  # 款 of the cited article, when a 款 is cited
    paragraph_span: tuple[int, int] | None = None  # the cited 款 in the article text
    quote_span: tuple[int, int] | None = None  # where the quotation is, in the article text
    quote_article: Article | None = None  # which article of a range holds the quotation or the closest passage
    closest: Passage | None = None
    did_you_mean: tuple[str, ...] = ()
    quote_compared: bool = False  # a quotation was compared with the article (a long one is not)
    uncompared: tuple[int, int, bool] | None = None  # a quotation not compared: its span in the draft, closed?
    version: str | None = None  # the version checked, for a regulation held in several (retrieval/checker/versions)
    current: dict[str, Any] | None = None  # superseded: the article in the version in force, or {"removed": true}

    @property
    def ok(self) -> bool:
        return self.verdict == "found"

    def to_json(self) -> dict[str, Any]:
        c, a = self.citation, self.article
        quote_in = self.quote_article or a
        d: dict[str, Any] = {
            "cited": c.cited,
            "title": self.regulation.title if self.regulation else None,
            "article": a.label if a else None,
            "verdict": self.verdict,
            "message": self.message,
            "start": c.start,
            "end": c.end,
            "name": c.name,
            "inherited": c.inherited,
            "regulation_id": self.regulation.id if self.regulation else None,
            "citation": a.citation if a else None,
            "text": a.text if a else None,
            "article_count": self.article_count,
            "paragraph": c.paragraph,
            "paragraph_count": self.paragraph_count,
            "paragraph_text": a.text[slice(*self.paragraph_span)] if a and self.paragraph_span else None,
            "item": c.item,
            "range": [x.label for x in self.articles] if c.last else None,
            "quote": {"text": c.quote.text, "start": c.quote.start, "end": c.quote.end} if c.quote else None,
            "quote_found_at": ({"article": quote_in.label, "start": self.quote_span[0], "end": self.quote_span[1]}
                               if self.quote_span and quote_in else None),
            "closest": None,
            "diff": None,
            "diff_text": None,
            "did_you_mean": list(self.did_you_mean),
            "quote_compared": self.quote_compared,
            "quote_not_compared": ({"start": self.uncompared[0], "end": self.uncompared[1],
                                    "length": self.uncompared[1] - self.uncompared[0], "closed": self.uncompared[2]}
                                   if self.uncompared else None),
        }
        if self.closest is not None and quote_in is not None:
            p = self.closest
            d["closest"] = {"article": quote_in.label, "citation": quote_in.citation, "text": p.text,
                            "start": p.start, "end": p.end, "similarity": p.ratio}
            d["diff"] = [op.to_json() for op in p.diff]
            d["diff_text"] = p.diff_text
        if self.version is not None:  # only for a regulation held in several versions
            d["version"] = self.version
        if self.current is not None:
            d["current"] = self.current
        return d


@dataclass(frozen=True)
class CheckReport:
    citations: tuple[CitationCheck, ...]
    unattributed: tuple[Citation, ...] = ()  # a bare 第X条 with no regulation named before it: not checkable

    @property
    def ok(self) -> bool:
        """No citation failed (a draft without citations is ok)."""
        return all(c.ok for c in self.citations)

    def counts(self) -> dict[str, int]:
        """Citations per verdict; `superseded` is counted only in a report that has one."""
        out = {v: sum(c.verdict == v for c in self.citations) for v in VERDICTS}
        if any(c.verdict == SUPERSEDED for c in self.citations):
            out[SUPERSEDED] = sum(c.verdict == SUPERSEDED for c in self.citations)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "citations": [c.to_json() for c in self.citations],
            "counts": self.counts(),
            "unattributed": [{"cited": c.cited, "start": c.start, "end": c.end,
                              "message": "未指明法规，无法核对 (no regulation named before it; not checked)"}
                             for c in self.unattributed],
        }


@dataclass
class _Work:
    """Closest-passage work for one draft: repeated quotations are compared once, and a draft with a huge
    number of differing quotations cannot keep a server busy."""

    left: int = MAX_CLOSEST
    memo: dict[tuple[str, int, int, str], Passage | None] = field(default_factory=dict)

    def closest(self, quote: str, article: Article, target: Comparable, offset: int) -> Passage | None:
        key = (article.id, offset, len(target.text), quote)
        if key not in self.memo:
            if self.left <= 0:
                return None
            self.left -= 1
            self.memo[key] = closest(quote, target)
        return self.memo[key]


def check_citations(text: object, catalogue: Catalogue, max_chars: int = MAX_DRAFT_CHARS) -> CheckReport:
    """Every citation in the draft, in order, with its verdict. Raises QueryError for non-text or over-long input."""
    if not isinstance(text, str):
        raise QueryError("请粘贴文字草稿 (the draft must be text)")
    if len(text) > max_chars:  # QueryTooLong: the JSON API answers 413
        raise QueryTooLong(f"草稿太长：最多 {max_chars:,} 个字符，当前 {len(text):,} 个，请分段核对 "
                         f"(draft too long: at most {max_chars:,} characters; check it in parts)")
    # Lone surrogates (JSON can carry them) cannot be printed or sent on: U+FFFD keeps every offset.
    text = _SURROGATE_RE.sub("\ufffd", text)
    checks: list[CitationCheck] = []
    unattributed: list[Citation] = []
    work = _Work()
    for c in find_citations(text, catalogue.names):
        if c.name is None:
            unattributed.append(c)
        else:
            checks.append(_uncompared(_check(c, catalogue, work, text), text))
    return CheckReport(tuple(checks), tuple(unattributed))


def long_quote_after(text: str, end: int) -> tuple[int, int, bool] | None:
    """A quotation that opens right after a citation (规定：“…) but that the citation grammar did not take, being
    longer than MAX_QUOTE characters or never closed: (start, end, closed) of its text; None when there is none."""
    lead = _LEAD_RE.match(text, end)
    at = lead.end() if lead else end
    if at >= len(text) or text[at] not in _OPENERS:
        return None
    close = text.find(_OPENERS[text[at]], at + 1)
    stop = close if close >= 0 else len(text)
    return (at + 1, stop, close >= 0) if stop - at - 1 > MAX_QUOTE or close < 0 else None


def _uncompared(check: CitationCheck, text: str) -> CitationCheck:
    """A `found` whose quotation could not be compared says so (the verdict stays: the article does exist)."""
    c = check.citation
    if check.verdict != "found" or c.quote is not None:
        return check
    span = long_quote_after(text, c.end)
    if span is None:
        return check
    n = span[1] - span[0]
    why = (f"引文共 {n:,} 字，超过 {MAX_QUOTE:,} 字，未与条文比对 (the quotation, {n:,} characters, is longer than "
           f"{MAX_QUOTE:,} and was not compared)") if span[2] else \
          "引号未闭合，引文未与条文比对 (the quotation is never closed and was not compared)"
    return dataclasses.replace(check, uncompared=span,
                               message=f"{check.message.split('：')[0]}：条文存在；{why}")


def label(number: int, sub_number: int = 0) -> str:
    """The label a regulation would print for this number: 第十二条, 第十条之一."""
    return f"第{to_chinese(number)}条" + (f"之{to_chinese(sub_number)}" if sub_number else "")


def _cite(a: Article, paragraph: int | None = None) -> str:
    return f"《{a.regulation_title}》{a.label}" + (f"第{to_chinese(paragraph)}款" if paragraph else "")


def _paragraphs(a: Article) -> tuple[tuple[int, int], ...]:
    return a.paragraphs or ((0, len(a.text)),)


def _check(c: Citation, cat: Catalogue, work: _Work, draft: str = "") -> CitationCheck:
    if c.unknown:
        held = "、".join(f"《{r.title}》" for r in cat.regulations[:5]) + ("等" if len(cat.regulations) > 5 else "")
        return CitationCheck(c, "unknown_regulation",
                             f"索引中没有{_as_title(c.name or '')}，现有：{held or '无'} "
                             "(the index does not hold this regulation)",
                             did_you_mean=_elsewhere(c, cat, exclude=()))
    held = [rid for rid in c.regulation_ids if cat.regulation(rid) is not None]
    if len(held) > 1:  # several versions of one regulation: the one named, else the one in force
        from retrieval.checker.versions import check_versions

        found = check_versions(c, cat, held, lambda rid: _check_in(c, cat, rid, work), draft)
        if found is not None:
            return found
    results = [_check_in(c, cat, rid, work) for rid in held]
    if not results:  # names that point to nothing loaded (a stale name table): say so rather than guess
        return CitationCheck(c, "unknown_regulation", "索引中没有该法规 (the index does not hold this regulation)")
    return next((r for r in results if r.ok), results[0])


def _as_title(name: str) -> str:
    if name.startswith("《"):
        return name
    return f"《{name}》" if any("\u3400" <= ch <= "\u9fff" for ch in name) else f"“{name}”"


def _check_in(c: Citation, cat: Catalogue, regulation_id: str, work: _Work) -> CitationCheck:
    reg = cat.regulation(regulation_id)
    assert reg is not None
    arts = cat.articles_of(regulation_id)
    count = len(arts)
    base = CitationCheck(c, "found", "", regulation=reg, article_count=count)
    span = f"第一条至{arts[-1].label}" if arts else "无条文"
    first = cat.article(regulation_id, c.number, c.sub_number)
    missing = None if first else label(c.number, c.sub_number)
    in_range: tuple[Article, ...] = (first,) if first else ()
    if first and c.last:
        in_range = tuple(a for a in arts if (c.number, c.sub_number) <= (a.number, a.sub_number) <= c.last)
        if cat.article(regulation_id, *c.last) is None:
            missing = label(*c.last)
        else:
            have = {a.number for a in in_range}
            gap = next((n for n in range(c.number, c.last[0] + 1) if n not in have), None)
            missing = label(gap) if gap is not None else None
    if missing:
        return dataclasses.replace(
            base, verdict="no_such_article", article=first, articles=in_range,
            message=f"《{reg.title}》共 {count} 条（{span}），没有{missing} "
                    f"(no such article: the regulation has {count} articles)",
            did_you_mean=_elsewhere(c, cat, exclude=()))
    assert first is not None
    base = dataclasses.replace(base, article=first, articles=in_range)
    paragraph_span = None
    if c.paragraph:
        paras = _paragraphs(first)
        base = dataclasses.replace(base, paragraph_count=len(paras))
        if c.paragraph > len(paras):
            return dataclasses.replace(
                base, verdict="no_such_article",
                message=f"{_cite(first)}共 {len(paras)} 款，没有第{to_chinese(c.paragraph)}款 "
                        f"(no such paragraph: the article has {len(paras)})",
                did_you_mean=_elsewhere(c, cat, exclude=()))
        paragraph_span = paras[c.paragraph - 1]
        base = dataclasses.replace(base, paragraph_span=paragraph_span)
    where = _cite(first, c.paragraph) if not c.last else f"《{reg.title}》{first.label}至{in_range[-1].label}"
    parts = pieces(c.quote.text) if c.quote else []
    if not parts:
        return dataclasses.replace(base, message=f"{where}：条文存在 (found)")
    scopes = [(a, *_scope(cat, a, paragraph_span if a is first else None)) for a in in_range]
    for a, target, offset in scopes:
        at = locate(parts, target)
        if at is not None:
            return dataclasses.replace(base, quote_span=(at[0] + offset, at[1] + offset), quote_article=a,
                                       quote_compared=True, message=f"{where}：引文相符 (found; the quotation matches)")
    best: tuple[float, Article, Passage] | None = None
    for a, target, offset in scopes:
        p = work.closest(c.quote.text, a, target, offset) if c.quote else None
        if p is not None and (best is None or p.ratio > best[0]):
            best = (p.ratio, a, _shift(p, offset))
    suggestions = _elsewhere(c, cat, exclude=in_range, cited=first if paragraph_span else None)
    hint = f"；该引文见于{'、'.join(suggestions)} (did you mean {suggestions[0]}?)" if suggestions else ""
    return dataclasses.replace(
        base, verdict="quote_differs", quote_article=best[1] if best else None, closest=best[2] if best else None,
        did_you_mean=suggestions, quote_compared=True,
        message=f"引文与{where}不符 (the quotation is not in the article)" + hint)


def _scope(cat: Catalogue, a: Article, paragraph: tuple[int, int] | None) -> tuple[Comparable, int]:
    """The text a quotation is compared with (the article, or the cited 款) and its offset in the article."""
    if paragraph is None:
        return cat.comparable(a), 0
    return Comparable.of(a.text[paragraph[0]:paragraph[1]]), paragraph[0]


def _shift(p: Passage, offset: int) -> Passage:
    if not offset:
        return p
    ops = tuple(dataclasses.replace(op, at=op.at + offset) for op in p.diff)
    return dataclasses.replace(p, start=p.start + offset, end=p.end + offset, diff=ops)


def _elsewhere(c: Citation, cat: Catalogue, exclude: tuple[Article, ...],
               cited: Article | None = None) -> tuple[str, ...]:
    """Where the quotation does appear verbatim: another 款 of the cited article, another article of the same
    regulation, then other regulations (at most MAX_SUGGESTIONS)."""
    parts = pieces(c.quote.text) if c.quote else []
    if not parts:
        return ()
    found: list[str] = []
    if cited is not None and c.paragraph:  # the right article, the wrong 款
        for k, (p0, p1) in enumerate(_paragraphs(cited), 1):
            if k != c.paragraph and locate(parts, Comparable.of(cited.text[p0:p1])):
                found.append(_cite(cited, k))
    for a, at in cat.find_quote(parts, first=c.regulation_ids, exclude=exclude, limit=MAX_SUGGESTIONS - len(found)):
        paras = _paragraphs(a)
        k = next((i for i, (p0, p1) in enumerate(paras, 1) if p0 <= at[0] < p1), None)
        found.append(_cite(a, k if len(paras) > 1 else None))
    return tuple(found)
