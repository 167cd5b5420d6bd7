"""Parse one regulation written in the library's Markdown (LawRefBook/Laws) into its title, part, history and articles.

    # 中华人民共和国民法典                 title ('# ' is not part of it)
    # 物权编                              optional second heading before the header's end: the part (编)
    2020年5月28日 第十三届……会议通过          history lines: date + event (通过 / 修正 / 修订 / 公布 / 施行)
    <!-- INFO END -->                    end of the header
    ## 第一分编  通则                      headings: ## / ### / ####; 第X章 is the chapter, 第X节 groups inside it
    ### 第一章  一般规定
    第二百零五条 本编调整……                  article; its 款 follow on their own lines

A document without 第X章 headings but with `##` headings (judicial interpretations: `## 一、一般规定`) takes
those as its chapters. Article text is kept verbatim: lines are joined as ingest/parse.py joins them (page
breaks repaired, 款 boundaries kept); headings and HTML comments are never article text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingest.numerals import to_int
from ingest.parse import ARTICLE_RE, CHAPTER_RE, DATE_RE, ParsedArticle, ParseError, join_lines

INFO_END = "<!-- INFO END -->"
HEADING_RE = re.compile(r"^(#{1,6})\s+(.*?)[\s#]*$")
COMMENT_RE = re.compile(r"<!--.*?-->")
HISTORY_RE = re.compile(rf"^{DATE_RE}\s*(.*)$")
FRONT_MATTER = "---"


@dataclass(frozen=True)
class HistoryLine:
    date: str  # ISO
    event: str  # the rest of the line: "第十三届……会议通过", "施行"


@dataclass
class ParsedMarkdown:
    title: str
    part: str | None  # the second heading (民法典's 编), or None
    history: list[HistoryLine]
    articles: list[ParsedArticle]
    chapters: list[str]
    preamble: str  # body text before the first article (序言, a case's prose, an amendment's items)
    adopted: str | None = None
    promulgated: str | None = None
    effective: str | None = None  # a history line "…施行"
    effective_stated: str | None = None  # "自…起施行" in the last articles
    headings: list[str] = field(default_factory=list)


def _clean(line: str) -> str:
    return COMMENT_RE.sub("", line).strip(" \t\u3000\u00a0")


def _iso(y: str, m: str, d: str) -> str:
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def parse_markdown(text: str) -> ParsedMarkdown:
    """Parse a library Markdown document. Raises ParseError (without the file name) when it has no title or its
    article numbers go backwards or repeat."""
    lines = [INFO_END if ln.strip() == INFO_END else _clean(ln) for ln in text.split("\n")]
    lines, hidden = _skip_front_matter(lines)
    try:
        end = lines.index(INFO_END)
    except ValueError:
        end = -1
    header = lines[:end] if end >= 0 else []
    body = lines[end + 1:] if end >= 0 else lines

    title, part, history = "", None, []
    for line in header if end >= 0 else body[:1]:
        h = HEADING_RE.match(line)
        if h and len(h.group(1)) == 1:
            name = h.group(2).strip()
            if not title:
                title = name
            elif part is None and name:
                part = name
            continue
        m = HISTORY_RE.match(line)
        if m:
            history.append(HistoryLine(_iso(m.group(1), m.group(2), m.group(3)), m.group(4).strip()))
    if hidden:
        raise ParseError("a page the library hides (bookHidden: true, its template), not a regulation")
    if not title:
        raise ParseError("no title heading ('# …') before <!-- INFO END -->: a category page or not a regulation")

    articles, chapters, preamble, headings = _parse_body(body, part)
    adopted = next((h.date for h in history if "通过" in h.event), None)
    promulgated = next((h.date for h in history if "公布" in h.event), None)
    effective = next((h.date for h in reversed(history) if h.event.endswith("施行")), None)
    stated = None
    if articles:  # "本法自1993年9月1日起施行" in the last articles (the first version's date, for an amended law)
        tail = "\n".join(a.text for a in articles[-3:])
        m = re.search(r"自\s*" + DATE_RE + r"\s*起\s*施行", tail)
        stated = _iso(m.group(1), m.group(2), m.group(3)) if m else None
    return ParsedMarkdown(title, part, history, articles, chapters, preamble, adopted, promulgated, effective,
                          stated, headings)


def _skip_front_matter(lines: list[str]) -> tuple[list[str], bool]:
    """Hugo front matter (`---` … `---`, e.g. `bookCollapseSection: true`) is not text; `bookHidden: true` marks
    a page the library does not show (its template)."""
    if lines and lines[0] == FRONT_MATTER:
        try:
            close = lines.index(FRONT_MATTER, 1)
        except ValueError:
            return lines, False
        hidden = any(ln.replace(" ", "") == "bookHidden:true" for ln in lines[1:close])
        return lines[close + 1:], hidden
    return lines, False


def _parse_body(body: list[str], part: str | None) -> tuple[list[ParsedArticle], list[str], str, list[str]]:
    has_chapters = any((h := HEADING_RE.match(ln)) and CHAPTER_RE.match(h.group(2)) for ln in body)
    heads: dict[int, str] = {}  # heading level -> its text, for the headings above the current line
    raw: list[tuple[str, int, int, str | None, list[str]]] = []
    preamble: list[str] = []
    headings: list[str] = []
    chapters: list[str] = []
    for line in body:
        h = HEADING_RE.match(line)
        if h:
            level, name = len(h.group(1)), h.group(2).strip()
            heads = {lv: t for lv, t in heads.items() if lv < level}
            heads[level] = name
            headings.append(name)
            continue
        m = ARTICLE_RE.match(line)
        if m:
            chapter = _chapter(heads, has_chapters, part)
            if chapter and chapter not in chapters:
                chapters.append(chapter)
            sub = to_int(m.group(3)) if m.group(3) else 0
            raw.append((m.group(1), to_int(m.group(2)), sub, chapter, [m.group(4) or ""]))
        elif raw:
            raw[-1][4].append(line)
        elif line:
            preamble.append(line)

    articles: list[ParsedArticle] = []
    previous: tuple[int, int] | None = None
    for label, number, sub, chapter, lines in raw:
        key = (number, sub)
        if previous is not None and key <= previous:
            kind = "duplicate" if any((a.number, a.sub_number) == key for a in articles) else "out-of-order"
            raise ParseError(f"{kind} article number {label} (after {articles[-1].label})")
        previous = key
        text, paragraphs = join_lines(lines)
        if not text:
            raise ParseError(f"{label} has no text")
        articles.append(ParsedArticle(label, number, sub, chapter, text, paragraphs))
    return articles, [c for c in chapters if any(a.chapter == c for a in articles)], "\n".join(preamble), headings


def _chapter(heads: dict[int, str], has_chapters: bool, part: str | None) -> str | None:
    """The chapter an article is in: the 第X章 heading above it (spacing normalised as ingest/parse.py does), or
    in a document without 第X章 headings its `##` heading. In a law split into parts, the part comes first, so
    that 物权编's 第一章 is not 总则's."""
    chapter = None
    for level in sorted(heads):
        name = heads[level]
        if has_chapters:
            m = CHAPTER_RE.match(name)
            if m:
                rest = re.sub(r"\s+", "", m.group(3) or "")  # also 第一章\u2002\u2002总则's spaces
                chapter = f"{m.group(1)} {rest}" if rest else m.group(1)
                break
        elif level == 2 and name:
            chapter = name
            break
    if chapter and part:
        return f"{part} {chapter}"
    return chapter
