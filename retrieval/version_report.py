"""One regulation's versions and the old beside the new, as `python -m retrieval versions` and the page show them.

`VersionLibrary` holds the regulations and articles of an index (or of source files) with their VersionTable;
`compare` picks two versions by date (a version's own date, else the version in force that day) and pairs their
articles (retrieval/version_pairs.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from ingest.errors import QueryError
from ingest.schema import Article, Regulation
from ingest.versions import IN_FORCE, Version, VersionTable, parse_date
from retrieval.version_pairs import ADDED, CHANGED, REMOVED, SAME, Pair, pair_articles

MAX_PAIRINGS = 64  # version pairings kept per process


class VersionLibrary:
    """Regulations, their articles and versions; loaded without the search model."""

    def __init__(self, regulations: Iterable[Regulation], articles: Iterable[Article]) -> None:
        self.regulations = tuple(regulations)
        self.articles = tuple(articles)
        self.table = VersionTable(self.regulations, self.articles)
        self._regulation = {r.id: r for r in self.regulations}
        self._by_regulation: dict[str, list[Article]] = {}
        for a in self.articles:
            self._by_regulation.setdefault(a.regulation_id, []).append(a)
        self._pairs: dict[tuple[str, str, bool], list[Pair]] = {}

    @classmethod
    def from_index(cls, root: Path) -> VersionLibrary:
        from ingest.stores.index_io import load_texts

        return cls(*load_texts(Path(root)))

    @classmethod
    def from_sources(cls, paths: Iterable[Path]) -> VersionLibrary:
        """Straight from regulation files or folders (a library folder included), as a build reads them."""
        from ingest.collect import collect, discover_sources

        found = collect(discover_sources([Path(p) for p in paths]))
        return cls(found.regulations, found.articles)

    def regulation(self, regulation_id: str) -> Regulation | None:
        return self._regulation.get(regulation_id)

    def articles_of(self, regulation_id: str) -> list[Article]:
        return self._by_regulation.get(regulation_id, [])

    def pairs(self, old_id: str, new_id: str, diff: bool = True) -> list[Pair]:
        """The article pairs of two versions (computed once per process; without word diffs if not `diff`)."""
        key = (old_id, new_id, diff)
        if key not in self._pairs:
            if len(self._pairs) >= MAX_PAIRINGS:
                self._pairs.pop(next(iter(self._pairs)))
            self._pairs[key] = pair_articles(self.articles_of(old_id), self.articles_of(new_id), diff=diff)
        return self._pairs[key]

    def versions(self, name: str) -> tuple[Version, ...]:
        found = self.table.find(name.strip())
        if not found:
            raise QueryError(f"no regulation named {name.strip()!r} in the index (use its title, e.g. "
                             "中华人民共和国会计法 or 会计法)")
        return found


@dataclass(frozen=True)
class Comparison:
    title: str
    versions: tuple[tuple[Version, str, str], ...]  # each version, its status as of `as_of`, and that status' label
    as_of: str
    old: Version | None
    new: Version | None
    pairs: tuple[Pair, ...]

    @cached_property
    def counts(self) -> dict[str, int]:
        out = {k: sum(1 for p in self.pairs if p.kind == k) for k in (SAME, CHANGED, ADDED, REMOVED)}
        out["renumbered"] = sum(1 for p in self.pairs if p.renumbered)
        return out

    def to_json(self) -> dict[str, object]:
        return {
            "regulation": self.title,
            "as_of": self.as_of,
            "versions": [{**v.to_json(), "status": s, "status_label": label} for v, s, label in self.versions],
            "from": self.old.to_json() if self.old else None,
            "to": self.new.to_json() if self.new else None,
            "counts": self.counts,
            "pairs": [p.to_json() for p in self.pairs],
        }


def check_date(value: str | None, what: str) -> str | None:
    if value is None:
        return None
    day = parse_date(value)
    if day is None:
        raise QueryError(f"{what}: {value!r} is not a date; use YYYY-MM-DD, e.g. 2022-03-29")
    return day.isoformat()


def pick(library: VersionLibrary, versions: Sequence[Version], day: str) -> Version:
    """The version a date names: the one of that date, else the one in force that day, else the newest one
    dated on or before it."""
    exact = [v for v in versions if v.date == day]
    if exact:
        return exact[-1]
    for v in versions:
        if library.table.status(v.regulation_id, day).status == IN_FORCE:
            return v
    before = [v for v in versions if v.date and v.date <= day]
    if not before:
        raise QueryError(f"no version of {versions[0].title} existed on {day} (the first is dated "
                         f"{versions[0].date or 'unknown'})")
    return before[-1]


def compare(library: VersionLibrary, name: str, date_from: str | None = None, date_to: str | None = None,
            as_of: str | None = None) -> Comparison:
    """The versions of a regulation with their status, and the article pairs of two of them: by default the
    version before the one in force today (or the newest) beside it."""
    versions = library.versions(name)
    date_from, date_to = check_date(date_from, "--from"), check_date(date_to, "--to")
    today = check_date(as_of, "as of") or dt.date.today().isoformat()
    statuses = []
    for v in versions:
        st = library.table.status(v.regulation_id, today)
        statuses.append((v, st.status, st.label))
    if len(versions) == 1:
        return Comparison(versions[0].title, tuple(statuses), today, None, versions[0], ())
    new = pick(library, versions, date_to or today)
    if date_from:
        old = pick(library, versions, date_from)
    else:
        i = versions.index(new)
        old = versions[i - 1] if i > 0 else new
        if old is new:
            new = versions[1]
    if old.date and new.date and old.date > new.date:
        old, new = new, old
    pairs = () if old is new else tuple(library.pairs(old.regulation_id, new.regulation_id))
    return Comparison(versions[0].title, tuple(statuses), today, old, new, pairs)


KIND_MARKS = {SAME: " ", CHANGED: "~", ADDED: "+", REMOVED: "-"}


def render_text(c: Comparison) -> str:
    """The comparison for a terminal: versions with status, then one line per article pair, changed words marked
    [-old-]{+new+}."""
    lines = [f"《{c.title}》 versions (status as of {c.as_of}):"]
    for v, _status, label in c.versions:
        eff = f", 施行 {v.effective}" if v.effective else ""
        lines.append(f"  {v.date or '(undated)'}  {label}{eff}")
    if not c.pairs:
        lines.append("only one version: nothing to compare" if c.old is None else "the same version twice")
        return "\n".join(lines)
    lines.append(f"\n{c.old.date} → {c.new.date}: " + ", ".join(f"{k} {n}" for k, n in c.counts.items()))
    for p in c.pairs:
        old = p.old.label if p.old else "—"
        new = p.new.label if p.new else "—"
        lines.append(f"{KIND_MARKS[p.kind]} {old} → {new}")
        if p.kind == CHANGED:
            lines.append(_indented("".join(_marked(s) for s in p.diff)))
        elif p.kind in (ADDED, REMOVED):
            lines.append(_indented((p.new or p.old).text))
    return "\n".join(lines)


def _indented(text: str) -> str:
    return "    " + text.replace("\n", "\n    ")


def _marked(s) -> str:
    if s.op == "equal":
        return s.old
    return (f"[-{s.old}-]" if s.old else "") + (f"{{+{s.new}+}}" if s.new else "")
