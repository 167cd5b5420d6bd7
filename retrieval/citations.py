"""Find article citations in free text: the one matcher behind the citation checker and the search's
article-reference lookup, so the two always read 杭州办法第12条 the same way.

Forms: 《title》第X条, 第X条第Y款(第Z项), 第X条至第Y条 / 第X至Y条, 第X条之一; a title or short name right before
第X条 (湖北条例第二十三条, 杭州办法第12条); any other regulation-like name (…条例/…办法/…法/…规定 第X条), which
the index then does not hold; 本条例 / 该办法 第X条, and a bare 第X条 after a regulation named earlier on
the same line; English (Article 12 of the Hangzhou measures, Art. 23 Hubei regulation, Articles 3-5, Article
12(2)). Chinese and Arabic numerals, traditional characters and full-width forms. A quotation belongs to a
citation when it follows it in quotes (“…”, 「…」, 『…』, "…") or after a colon, or when the citation stands
in brackets right after the quotation.

Every pattern has bounded repetition and every look backwards is capped, so the work stays linear in the
length of the text (no catastrophic backtracking on adversarial input).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ingest.numerals import NUMERAL_CHARS, to_chinese, to_int
from ingest.schema import Regulation
from ingest.words import to_simplified

# English kind words and the title endings they translate: English names of a regulation come from its metadata
# (Regulation.english_names); these words only tell how far an English name reaches and what 本办法 refers to.
KIND_ENGLISH: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("条例", ("regulation", "regulations")),
    ("办法", ("measures", "measure")),
    ("细则", ("rules",)),
    ("规则", ("rules",)),
    ("规定", ("provisions", "rules")),
    ("决定", ("decision",)),
    ("法典", ("code",)),
    ("法", ("law", "act")),
)
_EN_STOPWORDS = frozenset({"the", "of", "on", "for", "and", "in", "a", "an"})

NATIONAL_PREFIX = "中华人民共和国"
SUFFIXES = ("条例", "办法", "规定", "细则", "规则", "决定", "法典", "法")
SHORT_LAWS = frozenset({"宪法", "刑法", "民法", "民法典"})  # names with one character before the suffix
MAX_NAME = 40  # characters looked at before 第X条 for a regulation name
MAX_TITLE = 80  # characters inside 《》
MAX_QUOTE = 5000  # a quotation longer than this (or never closed) is not taken as one

_SP = "[ \t]{0,3}"
_N = f"[{NUMERAL_CHARS}]"
_TO = "(?:至|到|-|–|—|~)"
# 第X条 with its optional parts; runs on folded text (NFKC, lower case, simplified).
ARTICLE_RE = re.compile(
    rf"第{_SP}(?P<n>{_N}{{1,9}}){_SP}(?:{_TO}{_SP}第?{_SP}(?P<m>{_N}{{1,9}}){_SP})?条"
    rf"(?:{_SP}之{_SP}(?P<sub>{_N}{{1,4}}))?"
    rf"(?:{_SP}第{_SP}(?P<para>{_N}{{1,4}}){_SP}款)?"
    rf"(?:{_SP}第{_SP}(?P<item>{_N}{{1,4}}){_SP}项)?"
    rf"(?:{_SP}{_TO}{_SP}第{_SP}(?P<m2>{_N}{{1,9}}){_SP}条(?:{_SP}之{_SP}(?P<sub2>{_N}{{1,4}}))?)?"
)
ENGLISH_ARTICLE_RE = re.compile(
    r"\b(?:articles?|arts?\.?)[ \t]{0,3}(?P<n>\d{1,6})(?!\d|\.\d)(?:[ \t]{0,2}\((?P<para>\d{1,3})\))?"
    r"(?:[ \t]{0,3}(?:-|–|—|to|through)[ \t]{0,3}(?P<m>\d{1,6})(?!\d))?"
)
_EN_AFTER_RE = re.compile(r"[ \t]{0,3},?[ \t]{0,3}(?P<of>(?:of|in|under)[ \t]{1,3})?(?:the[ \t]{1,3})?")
_EN_PHRASE_RE = re.compile(  # the shortest run of words that ends in a kind word: "product quality law"
    r"(?:[a-z][a-z'’-]{0,24}[ \t]{1,3}){0,6}?"
    r"(?:regulations?|measures?|provisions?|rules?|law|act|code|ordinance|decision)\b")
_EN_BEFORE_RE = re.compile(r"(?:['’]s)?[ \t]{0,3},?[ \t]{0,3}$")
_TITLE_RE = re.compile(rf"《(?P<t>[^《》\n]{{1,{MAX_TITLE}}})》")
_ANAPHORA_RE = re.compile(r"(?:本|该|此|上述|前述)(?:条例|办法|规定|细则|规则|决定|法典|法)$")
_SUFFIX_RE = re.compile("(?:" + "|".join(SUFFIXES) + ")$")
# Words that end the text before a regulation name (根据《…》, 违反…条例); 和/于 except in 共和国/关于.
_CUT_RE = re.compile(r"根据|依据|依照|按照|参照|对照|违反|适用|遵守|执行|引用|援引|参见|详见|(?<!共)和(?!国)|(?<!关)于"
                     r"|[见依按据及与或在对由是的即如了从该本此其各把被给向]")
_LEAD_RE = re.compile(  # between a citation and its quotation: 规定：, 明确指出，, provides that
    r"[ \t]{0,3}(?:的|中)?[ \t]{0,2}(?:明确|明文|亦|也|还|则|就)?"
    r"(?:规定|指出|要求|写道|写明|载明|提出|表述为|表明|称|说|明确)?"
    r"(?:[ \t]{0,3}(?:says|said|provides|provided|states|stated|reads|stipulates|requires)(?:[ \t]{1,3}that)?)?"
    r"[ \t]{0,3}(?P<mark>[:,])?[ \t]{0,3}")
QUOTE_PAIRS = {"“": "”", "「": "」", "『": "』", '"': '"', "‘": "’"}
_CLOSERS = {v: k for k, v in QUOTE_PAIRS.items()}
_SENTENCE_END = re.compile(r"[。!?\n]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_VERSION_AFTER_RE = re.compile(r"[ \t]{0,3}[(（][ \t]{0,3}(?:19|20)\d{2}[ \t]{0,3}年[^()（）]{0,12}[)）]$")


@dataclass(frozen=True)
class Quote:
    text: str  # as written, without the quotation marks
    start: int  # span in the text that was searched
    end: int


@dataclass(frozen=True)
class Citation:
    start: int  # span in the text that was searched: the name (if written there) and the article
    end: int
    cited: str  # the citation as written
    name: str | None  # the regulation as written (for 本条例 and a bare 第X条: the one in context); None: no name
    regulation_ids: tuple[str, ...]  # what the name means in the index; () with a name: not in the index
    number: int
    sub_number: int = 0  # 1 for 之一
    paragraph: int | None = None  # 第Y款
    item: int | None = None  # 第Z项 (recognised, not checked)
    last: tuple[int, int] | None = None  # a range's last article (number, sub_number)
    quote: Quote | None = None
    inherited: bool = False  # the regulation comes from context (本条例, a bare 第X条 after a named one)

    @property
    def unknown(self) -> bool:
        """A regulation is named but the index does not hold it."""
        return self.name is not None and not self.regulation_ids


@dataclass(frozen=True)
class _Name:
    start: int  # span in the folded text
    end: int
    ids: tuple[str, ...]
    kind: str  # "known", "title" (in 《》), "english", "unknown", "anaphora"


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch).lower()


def fold_chars(text: str, fold_char: Callable[[str], str]) -> tuple[str, list[int]]:
    """`text` folded character by character, with the position in `text` of every folded character."""
    parts: list[str] = []
    pos: list[int] = []
    for i, ch in enumerate(text):
        f = fold_char(ch)
        parts.append(f)
        pos.extend([i] * len(f))
    return "".join(parts), pos


def fold(text: str) -> tuple[str, list[int]]:
    """NFKC, lower case, simplified Chinese, with the position in `text` of every folded character
    (plus one past the end), so spans found in the folded text point back into the text as written."""
    text = _SURROGATE_RE.sub("\ufffd", text)  # lone surrogates cannot be converted; same length
    folded, pos = fold_chars(text, _fold_char)  # NFKC and lower case
    simple = to_simplified(folded)
    if len(simple) != len(folded):  # a phrase rule changed the length: convert character by character
        simple = "".join(to_simplified(ch) for ch in folded)
        if len(simple) != len(folded):
            simple = folded
    pos.append(len(text))
    return simple, pos


def fold_name(name: str) -> str:
    return fold(name)[0].strip()


def _number(raw: str | None) -> int | None:
    """The article number, or None when the numeral is malformed (第一二三条) or zero."""
    if not raw:
        return None
    if raw.isdigit():
        return int(raw) or None
    try:
        n = to_int(raw)
    except ValueError:
        return None
    if n <= 0 or n > 9999:
        return None
    canon, written = to_chinese(n), raw.replace("两", "二").replace("〇", "零")
    return n if written in (canon, "一" + canon) else None


def _content_words(name: str) -> frozenset[str]:
    """Words of a folded English name that say which regulation it is (plural and possessive dropped)."""
    out = set()
    for w in re.findall(r"[a-z]+(?:['’]s)?", name):
        w = w.removesuffix("'s").removesuffix("’s")
        if w not in _EN_STOPWORDS:
            out.add(w[:-1] if w.endswith("s") and len(w) > 3 else w)
    return frozenset(out)


def _whole_word(folded: str, start: int, end: int) -> bool:
    """A Latin name counts only as whole words ("hubei", not "xhubeiy")."""
    return not (start > 0 and folded[start - 1].isalnum() and folded[start - 1].isascii()) and \
        not (end < len(folded) and folded[end].isalnum() and folded[end].isascii())


class Names:
    """What each regulation of an index is called (Regulation.names: title, short and English names, region),
    folded; build once per index (name_table)."""

    def __init__(self, regulations: Iterable[Regulation]) -> None:
        regulations = tuple(regulations)
        exact: dict[str, list[str]] = {}
        english: list[tuple[str, frozenset[str]]] = []
        for reg in regulations:
            for n in reg.names:
                key = fold_name(n)
                if len(key) >= 2 and reg.id not in exact.setdefault(key, []):
                    exact[key].append(reg.id)
            words = frozenset().union(*(_content_words(fold_name(n)) for n in reg.english_names))
            if words:
                english.append((reg.id, words))
        self.exact: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in exact.items()}
        self.lengths = tuple(sorted({len(k) for k in self.exact}, reverse=True))
        self._english = tuple(english)
        last = "".join(sorted({k[-1] for k in self.exact}))
        self._last_re = re.compile(f"[{re.escape(last)}]") if last else None

    def lookup(self, name: str) -> tuple[str, ...]:
        """Regulations whose name is exactly this folded name (with or without 中华人民共和国)."""
        found = self.exact.get(name)
        if found is None and name.startswith(NATIONAL_PREFIX):
            found = self.exact.get(name[len(NATIONAL_PREFIX):])
        if found is None:
            found = self.exact.get(NATIONAL_PREFIX + name)
        if found is None:  # a version written after the title: 中华人民共和国产品质量法（2018年修正）
            bare = _VERSION_AFTER_RE.sub("", name)
            if bare != name:
                return self.lookup(bare)
        return found or ()

    def containing(self, fragment: str) -> tuple[str, ...]:
        """Regulations one of whose names contains this fragment (质量促进条例 -> 湖北省质量促进条例)."""
        out: list[str] = []
        for name, ids in self.exact.items():
            if fragment in name:
                out.extend(i for i in ids if i not in out)
        return tuple(out)

    def english_containing(self, phrase: str) -> tuple[str, ...]:
        """Regulations whose English names hold every word of the phrase ("Hubei quality promotion regulation")."""
        words = _content_words(phrase)
        if len(words) < 2:
            return ()
        return tuple(rid for rid, known in self._english if words <= known)

    def starting_at(self, folded: str, start: int) -> int | None:
        """End of the longest known name that starts at `start`, if any."""
        for n in self.lengths:
            key = folded[start:start + n]
            if key in self.exact and (not key.isascii() or _whole_word(folded, start, start + n)):
                return start + n
        return None

    def named_in(self, folded: str) -> tuple[str, ...]:
        """Regulations named anywhere in a short text, in order. A name inside a longer name of another
        regulation (劳动合同法 in 劳动合同法实施条例) is not a mention of its own; names side by side
        (湖北条例和杭州办法) both are."""
        spans = [(e.start, e.end, rid) for e in self.mentions(folded) if e.kind == "known" for rid in e.ids]
        kept = [(a, rid) for a, b, rid in spans
                if not any(a2 <= a and b <= b2 and b2 - a2 > b - a and rid2 != rid for a2, b2, rid2 in spans)]
        return tuple(dict.fromkeys(rid for _, rid in sorted(kept)))

    def mentions(self, folded: str) -> list[_Name]:
        """Every regulation name in the text: known names (the longest ending at each place), 《titles》."""
        out: list[_Name] = []
        if self._last_re is not None:
            for m in self._last_re.finditer(folded):
                end = m.end()
                for n in self.lengths:
                    key = folded[end - n:end] if n <= end else ""
                    if key in self.exact and (not key.isascii() or _whole_word(folded, end - n, end)):
                        out.append(_Name(end - n, end, self.exact[key], "known"))
                        break
        for m in _TITLE_RE.finditer(folded):
            out.append(_Name(m.start(), m.end(), self.lookup(m.group("t").strip()), "title"))
        out.sort(key=lambda e: (e.end, e.start))
        return out


def name_table(regulations: Iterable[Regulation]) -> Names:
    """The names of an index's regulations; build once per index."""
    return Names(regulations)


def find_citations(text: str, names: Names, own: tuple[str, ...] = ()) -> list[Citation]:
    """Every article citation in the text, in order, with the regulation it names and any quotation. `own`: the
    regulation the text belongs to (an article's text, or a quotation of one): its 本法 / 本条例 / 本办法 refer to it
    when no regulation of that kind is named before them."""
    folded, pos = fold(text)
    found = _Finder(text, folded, pos, names, own)
    return found.run()


class _Finder:
    """One pass over one text: article matches in order, each with the regulation named before or after it
    (or in context) and the quotation that belongs to it."""

    def __init__(self, text: str, folded: str, pos: list[int], names: Names, own: tuple[str, ...] = ()) -> None:
        self.text, self.f, self.pos, self.names, self.own = text, folded, pos, names, own
        self.events = names.mentions(folded)
        self.by_end: dict[int, _Name] = {}
        self.by_start: dict[int, _Name] = {}
        for e in self.events:  # the longest name wins where two end (or start) at one place
            if e.end not in self.by_end or e.end - e.start > self.by_end[e.end].end - self.by_end[e.end].start:
                self.by_end[e.end] = e
            if e.start not in self.by_start or e.end > self.by_start[e.start].end:
                self.by_start[e.start] = e
        self.newlines = [m.start() for m in re.finditer("\n", folded)]

    def run(self) -> list[Citation]:
        f = self.f
        candidates = sorted([(m.start(), 0, m) for m in ARTICLE_RE.finditer(f)]
                            + [(m.start(), 1, m) for m in ENGLISH_ARTICLE_RE.finditer(f)], key=lambda c: c[0])
        out: list[Citation] = []
        history: list[_Name] = []  # regulations named so far, the latest last
        ev = 0
        skip_until = 0  # inside a quotation that belongs to an earlier citation
        for n, (start, english, m) in enumerate(candidates):
            if start < skip_until:
                continue
            while ev < len(self.events) and self.events[ev].end <= start:
                if self.events[ev].start >= skip_until:
                    history.append(self.events[ev])
                ev += 1
            number = _number(m.group("n"))
            if number is None:
                continue
            line_start = self._line_start(start)
            name = self._english_name_of(m, line_start) if english else self._chinese_name_of(start, line_start)
            cstart = start
            if name is None or name.kind == "anaphora":
                context = self._context(history, name, line_start)
                if name is not None:
                    cstart = name.start
                written = self._written(context) if context is not None else None
                name = _Name(cstart, start, context.ids, "inherited") if context is not None else None
            else:
                written = self._written(name)
                cstart = min(name.start, start)
                history.append(name)
            cend = max(m.end(), name.end) if english and name is not None else m.end()
            next_start = self._start_of(*candidates[n + 1][:2]) if n + 1 < len(candidates) else len(f)
            quote = self._quote_after(cend, next_start) or self._quote_before(cstart, out)
            if quote is not None and quote[1] > cend:
                skip_until = quote[1]
            inherited = name is not None and name.kind == "inherited"
            c = self._citation(m, english, number, cstart, cend, written, name, inherited, quote)
            if c is not None:
                out.append(c)
        return out

    def _start_of(self, start: int, english: int) -> int:
        """Where the next citation begins, its regulation name included: a quotation after a colon ends there."""
        line_start = self._line_start(start)
        if english:
            before = _EN_BEFORE_RE.search(self.f, max(line_start, start - 6), start)
            named = self.by_end.get(before.start()) if before else None
        else:
            named = self._chinese_name_of(start, line_start)
        return min(named.start, start) if named is not None else start

    def _context(self, history: list[_Name], anaphora: _Name | None, line_start: int) -> _Name | None:
        """The regulation a bare 第X条 (same line) or 本条例 / 该办法 (the latest of that kind) refers to."""
        if anaphora is None:
            return history[-1] if history and history[-1].start >= line_start else None
        kind = _suffix_of(self.f[anaphora.start:anaphora.end])
        for named in reversed(history[-50:]):
            if _suffix_of(self.f[named.start:named.end]) == kind:
                return named
        if self.own:  # the text is (a quotation of) an article: 本法 is its own regulation
            return _Name(anaphora.start, anaphora.end, self.own, "own")
        return None

    # -- names -----------------------------------------------------------------------------------------
    def _line_start(self, i: int) -> int:
        k = bisect_right(self.newlines, i - 1)
        return self.newlines[k - 1] + 1 if k else 0

    def _written(self, name: _Name) -> str:
        return self.text[self.pos[name.start]:self.pos[name.end - 1] + 1].strip() if name.end > name.start else ""

    def _chinese_name_of(self, start: int, line_start: int) -> _Name | None:
        f = self.f
        q = start
        while q > line_start and start - q < 3 and f[q - 1] in " \t":
            q -= 1
        if q > line_start and f[q - 1] == "的":  # 湖北条例的第十条
            q -= 1
            while q > line_start and f[q - 1] in " \t":
                q -= 1
        named = self.by_end.get(q)
        if named is not None and named.kind in ("known", "title"):
            return named
        anaphora = _ANAPHORA_RE.search(f, max(line_start, q - 4), q)
        if anaphora:
            return _Name(anaphora.start(), q, (), "anaphora")
        return self._other_name(q, line_start)

    def _other_name(self, q: int, line_start: int) -> _Name | None:
        """A regulation-like name that is not one of the index's names: …条例, …办法, …法 right before 第X条."""
        f = self.f
        i, floor = q, max(line_start, q - MAX_NAME)
        while i > floor and "\u3400" <= f[i - 1] <= "\u9fff":
            i -= 1
        run = f[i:q]
        suffix = _SUFFIX_RE.search(run)
        if not suffix:
            return None
        national = run.rfind(NATIONAL_PREFIX)
        if national >= 0:
            begin = national
        else:
            cuts = [c.end() for c in _CUT_RE.finditer(run, 0, suffix.start())]
            begin = cuts[-1] if cuts else 0
        name = run[begin:]
        if len(name) - len(suffix.group()) < 2 and name not in SHORT_LAWS:
            return None
        ids = self.names.lookup(name) or (self.names.containing(name) if len(name) >= 4 else ())
        return _Name(i + begin, q, ids, "unknown" if not ids else "known")

    def _english_name_of(self, m: re.Match[str], line_start: int) -> _Name | None:
        """The regulation of "Article 12 of the Hangzhou measures", "Art. 23 Hubei regulation", "Hubei
        regulation, Article 7"; a name the index does not hold ("of the Product Quality Law") is unknown."""
        f = self.f
        after = _EN_AFTER_RE.match(f, m.end())
        p = after.end() if after else m.end()
        named = self.by_start.get(p)
        if named is None:
            end = self.names.starting_at(f, p)
            named = _Name(p, end, self.names.exact[f[p:end]], "known") if end is not None else None
        phrase = _EN_PHRASE_RE.match(f, p)
        if phrase and (named is None or phrase.end() > named.end):
            # More words than a known name covers: the whole phrase decides (the Hubei Food Safety Regulations).
            ids = self.names.lookup(phrase.group()) or self.names.english_containing(phrase.group())
            if ids:
                return _Name(p, phrase.end(), ids, "known")
            if named is not None or (after and after.group("of")):
                return _Name(p, phrase.end(), (), "unknown")
        if named is not None:
            return named
        before = _EN_BEFORE_RE.search(f, max(line_start, m.start() - 6), m.start())
        if before:
            named = self.by_end.get(before.start())
            if named is not None:
                return named
        return None

    # -- quotations ------------------------------------------------------------------------------------
    def _quote_after(self, end: int, limit: int) -> tuple[int, int] | None:
        f = self.f
        lead = _LEAD_RE.match(f, end)
        p = lead.end() if lead else end
        if p < len(f) and f[p] in QUOTE_PAIRS:
            close = _closing(f, p, QUOTE_PAIRS[f[p]])
            return (p + 1, close) if close is not None else None
        if lead and lead.group("mark") == ":":
            stop = _SENTENCE_END.search(f, p, min(limit, p + MAX_QUOTE))
            q_end = stop.start() if stop else min(limit, len(f), p + MAX_QUOTE)
            return (p, q_end) if f[p:q_end].strip() else None
        return None

    def _quote_before(self, start: int, earlier: list[Citation]) -> tuple[int, int] | None:
        """“…”（《办法》第十二条）: a citation in brackets right after a quotation."""
        f = self.f
        j = start
        while j > 0 and start - j < 3 and f[j - 1] in " \t":
            j -= 1
        if j == 0 or f[j - 1] not in "(【[":
            return None
        j -= 1
        while j > 0 and f[j - 1] in " \t":
            j -= 1
        if j == 0 or f[j - 1] not in _CLOSERS:
            return None
        opening = _opening(f, j - 1, _CLOSERS[f[j - 1]])
        if opening is None:
            return None
        if earlier and self.pos[opening] <= earlier[-1].end:  # it follows an earlier citation (even at once)
            return None
        return opening + 1, j - 1

    # -- the record --------------------------------------------------------------------------------------
    def _citation(self, m: re.Match[str], english: bool, number: int, cstart: int, cend: int, written: str | None,
                  name: _Name | None, inherited: bool, quote: tuple[int, int] | None) -> Citation | None:
        sub = _number(m.group("sub")) if not english and m.group("sub") else 0
        if sub is None:
            return None
        para_raw = m.group("para")
        paragraph = _number(para_raw) if para_raw else None
        item = _number(m.group("item")) if not english and m.group("item") else None
        last = None
        last_raw = m.group("m") or (None if english else m.group("m2"))
        if last_raw:
            last_n = _number(last_raw)
            last_sub = _number(m.group("sub2")) if not english and m.group("sub2") else 0
            if last_n is not None and last_sub is not None and (last_n, last_sub) > (number, sub):
                last = (last_n, last_sub)
        pos = self.pos
        start, end = pos[cstart], pos[cend - 1] + 1
        q = None
        if quote is not None and quote[1] > quote[0]:
            qs, qe = pos[quote[0]], pos[quote[1] - 1] + 1
            q = Quote(self.text[qs:qe], qs, qe)
        return Citation(start, end, self.text[start:end], written,
                        name.ids if name is not None else (), number, sub, paragraph, item, last, q, inherited)


def _suffix_of(name: str) -> str | None:
    """The kind of instrument a folded name ends with: 条例, 办法, … (English kind words count too)."""
    name = name.strip(" 《》")
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return suffix
    word = name.rsplit(" ", 1)[-1]
    return next((suffix for suffix, words in KIND_ENGLISH if word in words), None)


def _closing(f: str, open_at: int, close: str) -> int | None:
    """Index of the mark that closes the quotation opened at open_at (nested pairs counted), or None."""
    opener = f[open_at]
    limit = min(len(f), open_at + 1 + MAX_QUOTE)
    if opener == close:
        c = f.find(close, open_at + 1, limit)
        return c if c >= 0 else None
    depth, i = 1, open_at + 1
    while True:
        c = f.find(close, i, limit)
        if c < 0:
            return None
        depth += f.count(opener, i, c) - 1
        if depth <= 0:
            return c
        i = c + 1


def _opening(f: str, close_at: int, opener: str) -> int | None:
    """Index of the mark that opens the quotation closed at close_at, or None."""
    close = f[close_at]
    floor = max(0, close_at - MAX_QUOTE)
    if opener == close:
        o = f.rfind(opener, floor, close_at)
        return o if o >= 0 else None
    depth, j = 1, close_at
    while True:
        o = f.rfind(opener, floor, j)
        if o < 0:
            return None
        depth += f.count(close, o + 1, j) - 1
        if depth <= 0:
            return o
        j = o
