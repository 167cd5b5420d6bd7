"""Parse a regulation's text into its title, chapters and articles.

Handles 第X章 headings (with typographic spacing such as 总　　则), 第X条 / 第X条之一 / 第12条 articles,
paragraphs (款) and items (（一）), a table of contents (目录) that is not an article, page numbers, and
sentences split across pages by blank lines. Nothing else in the text is changed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.labels import ARTICLE_LABEL, NUMERAL
from ingest.numerals import to_int

# An article heading: label at line start, followed by whitespace or the end of the line. A line that
# merely begins with a reference ("第十二条规定的……") has no space after 条 and is not a heading.
ARTICLE_RE = re.compile(rf"^({ARTICLE_LABEL})(?:[ \t\u3000]+(.*))?$")
CHAPTER_RE = re.compile(rf"^(第({NUMERAL})章)(?:[ \t\u3000]*(.*))?$")
SECTION_RE = re.compile(rf"^第{NUMERAL}节(?:[ \t\u3000]+.*)?$")
TOC_RE = re.compile(r"^目[ \t\u3000]*录$")
PAGE_NUMBER_RE = re.compile(r"^[—\-–－ \t\u3000]*[0-9０-９]{1,4}[—\-–－ \t\u3000]*$")
ITEM_RE = re.compile(r"^（[一二三四五六七八九十]+）")
TITLE_SUFFIXES = ("条例", "办法", "规定", "细则", "规则", "决定", "法", "解释", "规范", "意见", "通知")
# Characters that end a sentence or clause; a line ending otherwise continues on the next line.
SENTENCE_END = set("。；;：:！!？?”」』）)")
DATE_RE = r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"


@dataclass
class ParsedArticle:
    label: str
    number: int
    sub_number: int
    chapter: str | None
    text: str
    paragraphs: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class ParsedRegulation:
    title: str
    preamble: str
    articles: list[ParsedArticle]
    chapters: list[str]
    adopted: str | None = None
    promulgated: str | None = None
    effective: str | None = None


class ParseError(ValueError):
    """Raised with a message that the caller prefixes with the file name."""


def parse_regulation(text: str) -> ParsedRegulation:
    lines = [ln.strip(" \t\u3000\u00a0") for ln in text.split("\n")]
    title = _find_title(lines)
    chapters: list[str] = []
    chapter: str | None = None
    preamble: list[str] = []
    raw_articles: list[tuple[str, int, int, str | None, list[str]]] = []
    in_toc = False

    for line in lines:
        if TOC_RE.match(line):
            in_toc = True
            continue
        if PAGE_NUMBER_RE.match(line) and line.strip():
            continue  # a page number on its own line is not text
        m = CHAPTER_RE.match(line)
        if m:
            heading = re.sub(r"[ \t\u3000]+", "", m.group(3) or "")
            chapter = f"{m.group(1)} {heading}" if heading else m.group(1)
            if not in_toc and chapter not in chapters:
                chapters.append(chapter)
            continue
        if SECTION_RE.match(line):
            continue  # 节 headings group articles inside a chapter; citations name the chapter only
        m = ARTICLE_RE.match(line)
        if m:
            if in_toc:  # the body's first chapter heading was consumed as a TOC line; record it now
                in_toc = False
                if chapter and chapter not in chapters:
                    chapters.append(chapter)
            label = m.group(1)
            number = to_int(m.group(2))
            sub = to_int(m.group(3)) if m.group(3) else 0
            raw_articles.append((label, number, sub, chapter, [m.group(4) or ""]))
            continue
        if in_toc:
            continue
        if raw_articles:
            raw_articles[-1][4].append(line)
        elif line and line != title:
            preamble.append(line)

    articles = []
    previous: tuple[int, int] | None = None
    seen: set[tuple[int, int]] = set()
    for label, number, sub, chap, body in raw_articles:
        key = (number, sub)
        if previous is not None and key <= previous:
            kind = "duplicate" if key in seen else "out-of-order"
            raise ParseError(f"{kind} article number {label} (after {_label_of(previous)})")
        previous = key
        seen.add(key)
        body_text, paragraphs = join_lines(body)
        if not body_text:
            raise ParseError(f"{label} has no text")
        articles.append(ParsedArticle(label, number, sub, chap, body_text, paragraphs))

    full = "\n".join(preamble + [a.text for a in articles[-3:]])
    return ParsedRegulation(
        title=title,
        preamble="\n".join(preamble),
        articles=articles,
        chapters=[c for c in chapters if any(a.chapter == c for a in articles)],
        adopted=_date_before(full, "通过"),
        promulgated=_date_before(full, "公布"),
        effective=_effective_date(full),
    )


def join_lines(lines: list[str]) -> tuple[str, list[tuple[int, int]]]:
    """Join an article's lines into its text and paragraph spans, repairing page breaks.

    A line that does not end a sentence continues on the next non-blank line (a page break or a hard
    wrap split it): the two are joined directly, or with one space between two Latin words. A line that
    ends a sentence ends a paragraph (款) unless the next line is an item (（一）) of the same paragraph.
    """
    pieces: list[str] = []
    para_starts: list[int] = [0]
    for line in lines:
        if not line:
            continue
        if not pieces:
            pieces.append(line)
            continue
        prev = pieces[-1]
        if prev[-1] in SENTENCE_END:
            pieces.append("\n")
            if not ITEM_RE.match(line):
                para_starts.append(sum(len(p) for p in pieces))
            pieces.append(line)
        else:
            sep = " " if (prev[-1].isascii() and prev[-1].isalnum() and line[0].isascii() and line[0].isalnum()) else ""
            pieces.append(sep + line)
    text = "".join(pieces)
    spans = []
    for i, start in enumerate(para_starts):
        end = para_starts[i + 1] - 1 if i + 1 < len(para_starts) else len(text)
        spans.append((start, end))
    return text, [s for s in spans if s[1] > s[0]]


def _find_title(lines: list[str]) -> str:
    candidates = [ln for ln in lines[:30] if ln and not TOC_RE.match(ln)]
    for ln in candidates:
        clean = ln.strip("《》 ")
        if ARTICLE_RE.match(ln) or CHAPTER_RE.match(ln):
            break
        if clean.endswith(TITLE_SUFFIXES) and len(clean) <= 60:
            return clean
    if not candidates or ARTICLE_RE.match(candidates[0]) or CHAPTER_RE.match(candidates[0]):
        return ""  # the text starts at its first heading: no title line (the source's .meta.json names it)
    return candidates[0].strip("《》 ")


def _label_of(key: tuple[int, int]) -> str:
    from ingest.numerals import to_chinese

    label = f"第{to_chinese(key[0])}条"
    return f"{label}之{to_chinese(key[1])}" if key[1] else label


def _iso(m: re.Match[str]) -> str:
    return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"


def _date_before(text: str, verb: str) -> str | None:
    m = re.search(DATE_RE + r"[^。；\n]{0,60}?" + verb, text)
    return _iso(m) if m else None


def _effective_date(text: str) -> str | None:
    m = re.search(r"自\s*" + DATE_RE + r"\s*起\s*施行", text)
    return _iso(m) if m else None
