"""Search what is in force: which versions a search covers, and what each result's version and status are.

- By default a question searches the versions in force today; `as_of` (YYYY-MM-DD) searches those in force on
  that day; `all_versions` searches every version. Done through the Retriever's regulation filter: the filter
  is the ids of the versions to search (none at all when that is every regulation of the index, so an index
  whose regulations each have one version in force searches exactly as before).
- A question that names a regulation held in several versions and a year (计量法实施细则2018年版……,
  会计法（2017年修正）……) searches that version (the one of that year, else the one in force at its end).
- Each result gains `version` (its version's date), `status` (ingest/versions.py's, as of the day asked) and
  `status_label` (现行有效 / 已被修订 / 已废止 / 尚未生效 / 效力待定); a superseded article gains `current`: the same
  article in the version in force (matched by text, retrieval/version_pairs.py), or `{"removed": true}`.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ingest.errors import QueryError
from ingest.schema import Article, Regulation
from ingest.versions import SUPERSEDED, VERSION_RE, parse_date, title_key, version_of_year
from retrieval.version_pairs import REMOVED
from retrieval.version_report import VersionLibrary

MAX_LIBRARIES = 4  # loaded indexes whose versions are kept (a build is immutable: keyed by its folder)
_LIBRARIES: OrderedDict[tuple[Path, int], VersionLibrary] = OrderedDict()


def versions_of(index: Any) -> VersionLibrary:
    """The versions of a loaded index (retrieval's LoadedIndex), computed once per build."""
    key = (Path(index.path), len(index.regulations))
    found = _LIBRARIES.get(key)
    if found is None:
        found = VersionLibrary(index.regulations, index.articles)
        _LIBRARIES[key] = found
        while len(_LIBRARIES) > MAX_LIBRARIES:
            _LIBRARIES.popitem(last=False)
    return found


def as_of_date(value: object) -> str | None:
    """A day asked for (YYYY-MM-DD), or None for today; anything else is refused with a message."""
    if value is None or value == "":
        return None
    day = parse_date(str(value)) if isinstance(value, str) else None
    if day is None:
        raise QueryError(f"as_of 须为日期 YYYY-MM-DD (as_of must be a date such as 2022-03-29, not {value!r})")
    return day.isoformat()


def as_flag(value: object) -> bool:
    """all_versions from a request: true/false, 1/0, yes/no, or absent (false)."""
    if value is None or value == "" or isinstance(value, bool):
        return bool(value)
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise QueryError(f"all_versions 须为 true 或 false (all_versions must be true or false, not {value!r})")


def named_versions(index: Any, question: str) -> list[str]:
    """The versions a question names: a regulation held in several versions, with a year (2018年版, 2017年修正)."""
    years = [int(m.group(1)) for m in VERSION_RE.finditer(question or "")]
    if not years:
        return []
    lib = versions_of(index)
    found: list[str] = []
    for versions in lib.table.groups():
        if len(versions) < 2:
            continue
        names = {versions[0].title, title_key(versions[0].title), *_short_names(index, versions[0].regulation_id)}
        if any(n and n in question for n in names):
            for year in years:
                v = version_of_year(lib.table, versions, year)
                if v is not None:
                    found.append(v.regulation_id)
    return found


def _short_names(index: Any, regulation_id: str) -> tuple[str, ...]:
    reg = versions_of(index).regulation(regulation_id)
    return reg.short_names if reg else ()


def regulation_filter(index: Any, regulations: Sequence[str] | None = None, as_of: str | None = None,
                      all_versions: bool = False, question: str | None = None) -> list[str] | None:
    """The regulation filter for a search: the ids of the versions it covers, None for no filter. A question
    that names a version of a regulation (会计法2017年版) searches that version of it."""
    day = as_of_date(as_of)
    if all_versions:
        return list(regulations) if regulations else None
    lib = versions_of(index)
    named_version = named_versions(index, question) if question else []
    if named_version:
        return _with_named(lib, named_version, day, regulations, index)
    keep = lib.table.searchable(day)
    named = _named_ids(index.regulations, regulations) if regulations else None
    if named is not None:
        if not named:
            return list(regulations or ())  # the Retriever says none of them is in the index
        chosen = sorted(keep & named)
        if not chosen:
            when = day or "today"
            raise QueryError(f"没有在 {when} 有效的版本 (no version of the chosen regulations is in force on {when}; "
                             "ask with another date or all_versions)")
        return chosen
    if len(keep) == len(index.regulations):
        return None
    return sorted(keep)


def _with_named(lib: VersionLibrary, named: list[str], day: str | None, regulations: Sequence[str] | None,
                index: Any) -> list[str] | None:
    """The versions named, in place of their regulation's other versions; the rest as of the day."""
    keep = set(lib.table.searchable(day))
    for rid in named:
        keep -= {v.regulation_id for v in lib.table.versions(rid)}
    keep |= set(named)
    if regulations:
        wanted = _named_ids(index.regulations, regulations)
        chosen = keep & wanted
        return sorted(chosen) if chosen else list(regulations)
    return sorted(keep)


def _named_ids(regs: Sequence[Regulation], names: Sequence[str]) -> set[str]:
    """Every version of the regulations a filter names (as the Retriever matches names)."""
    out: set[str] = set()
    for n in names:
        for r in regs:
            if n in (r.id, r.title) or n in r.short_names:
                out.add(r.id)
    return out


def annotate(payload: dict[str, Any], index: Any, as_of: str | None = None) -> dict[str, Any]:
    """Add each result's version, status and (superseded) its counterpart in force, to a search's JSON."""
    lib = versions_of(index)
    day = as_of_date(as_of) or dt.date.today().isoformat()
    for row in payload.get("results", ()):
        rid = row.get("regulation_id")
        if rid not in lib.table:
            continue
        v = lib.table.version(rid)
        st = lib.table.status(rid, day)
        row["version"] = v.date
        row["status"] = st.status
        row["status_label"] = st.label
        if st.status == SUPERSEDED and st.in_force:
            row["current"] = _current(lib, rid, st.in_force, row.get("article"))
    return payload


def _current(lib: VersionLibrary, old_id: str, new_id: str, label: str | None) -> dict[str, Any]:
    article = next((a for a in lib.articles_of(old_id) if a.label == label), None)
    new = lib.table.version(new_id)
    if article is None:
        return {"version": new.date, "regulation_id": new_id}
    pair = next((p for p in lib.pairs(old_id, new_id, diff=False) if p.old == article), None)
    if pair is None or pair.kind == REMOVED or pair.new is None:
        return {"version": new.date, "regulation_id": new_id, "removed": True}
    return {"version": new.date, "regulation_id": new_id, **_article_ref(pair.new),
            "same_text": pair.new.text == article.text}


def _article_ref(a: Article) -> dict[str, Any]:
    return {"article": a.label, "number": a.number, "citation": a.citation}
