"""The citation checker knows versions: a regulation held in several versions is checked against the right one.

- A citation that names its version (《中华人民共和国会计法》（2017年修正）第三条, 会计法2017年版第三条,
  第三条（2017年版）) is checked against that version: the one dated that year,
  else the one in force at the end of that year.
- Otherwise it is checked against the version in force on the day asked (today by default). When that fails
  but an older version holds the quotation (or the article) as cited, the verdict is `superseded`: the citation
  quotes a version that has since been amended; the message names the version quoted and the article in force
  now (matched by text, retrieval/version_pairs.py), or says it was removed.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence

from ingest.schema import Article
from ingest.versions import VERSION_RE, Version, VersionTable, version_of_year
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import SUPERSEDED
from retrieval.citations import Citation
from retrieval.version_pairs import REMOVED, Pair, pair_articles

_BEFORE = 24  # characters before a citation looked at for its version (within its sentence)
_AFTER = 14

Checker = Callable[[str], object]  # regulation id -> CitationCheck (retrieval.checker.check._check_in)


def version_named(draft: str, c: Citation) -> int | None:
    """The year of the version a citation names: between the sentence's start and the article (《…》（2018年修正）
    第X条, 会计法2018年版第X条) or in brackets right after it (第X条（2018年版）)."""
    before = draft[max(0, c.start - _BEFORE):c.start + (c.cited.find("第") if "第" in c.cited else 0)]
    before = re.split(r"[。；;\n]", before)[-1]
    found = list(VERSION_RE.finditer(before))
    if found:
        return int(found[-1].group(1))
    after = draft[c.end:c.end + _AFTER]
    m = re.match(r"\s*[（(]\s*" + VERSION_RE.pattern, after)
    return int(m.group(1)) if m else None


def table_of(cat: Catalogue) -> VersionTable:
    found = cat.__dict__.get("_version_table")
    if found is None:
        found = cat.__dict__["_version_table"] = VersionTable(cat.regulations, cat.articles)
    return found


def _pairs(cat: Catalogue, old: str, new: str) -> list[Pair]:
    memo = cat.__dict__.setdefault("_version_pairs", {})
    if (old, new) not in memo:
        memo[(old, new)] = pair_articles(cat.articles_of(old), cat.articles_of(new), diff=False)
    return memo[(old, new)]


def check_versions(c: Citation, cat: Catalogue, ids: Sequence[str], check_in: Checker, draft: str,
                   as_of: str | None = None):
    """The check of a citation whose name means several versions of one regulation (see the module's notes);
    None when the ids are not versions of one regulation (then the caller checks as before)."""
    table = table_of(cat)
    if not ids or any(i not in table for i in ids):
        return None
    versions = [v for v in table.versions(ids[0]) if v.regulation_id in ids]
    if len(versions) < 2 or len(versions) != len(ids):
        return None
    year = version_named(draft, c)
    if year is not None:
        v = version_of_year(table, versions, year)
        if v is None:
            held = "、".join(x.date or "?" for x in versions)
            return dataclasses.replace(check_in(versions[0].regulation_id), verdict="unknown_regulation",
                                       message=f"没有《{versions[0].title}》{year}年的版本（现有：{held}） "
                                               f"(no version of {year} in the index)", version=None, current=None)
        r = check_in(v.regulation_id)
        return dataclasses.replace(r, message=f"{r.message}（{v.date}版本 version）", version=v.date)
    current = table.in_force(versions[0].regulation_id, as_of) or versions[-1]
    r = check_in(current.regulation_id)
    if r.ok:
        return dataclasses.replace(r, version=current.date)
    older = [v for v in versions if v.date and current.date and v.date < current.date]
    for v in reversed(older):
        old = check_in(v.regulation_id)
        if old.ok and old.article is not None:
            return _superseded(cat, old, v, current)
    return dataclasses.replace(r, version=current.date)


def _superseded(cat: Catalogue, old, v: Version, current: Version):
    article: Article = old.article
    pair = next((p for p in _pairs(cat, v.regulation_id, current.regulation_id) if p.old == article), None)
    now = None if pair is None or pair.kind == REMOVED else pair.new
    where = f"《{article.regulation_title}》{article.label}"
    if now is None:
        tail, english = f"现行{current.date}版本已删除该条", "the version in force has no such article"
        link = {"version": current.date, "removed": True}
    else:
        tail, english = f"现行{current.date}版本为{now.label}", f"now {now.label} of the version in force"
        link = {"version": current.date, "article": now.label, "citation": now.citation, "text": now.text,
                "same_text": now.text == article.text}
    return dataclasses.replace(
        old, verdict=SUPERSEDED, version=v.date, current=link,
        message=f"{where}引自{v.date}版本（已被修订）；{tail} (superseded: quotes the {v.date} version; {english})")
