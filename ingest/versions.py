"""Versions of one regulation and which of them is in force on a given day.

Regulations with the same title (after the usual name normalising: 中华人民共和国 dropped, brackets and spaces
unified) are versions of one regulation, ordered by their version date (the file name's date, else the earliest
date the text or database gives). Status is computed as of a date, never stored:

- `not_yet_in_force`: the version did not exist yet on that day, or its effective date is after it;
- `superseded`: a newer version of the same regulation had taken effect;
- `repealed`: the library's database marks the latest version expired, or a regulation in the library states
  that it repeals this one (`……同时废止`) and that statement had taken effect;
- `in_force`: the version had taken effect and nothing newer had;
- `unknown`: the data cannot decide, e.g. an amendment whose effective date the library does not give, asked
  about within PENDING_DAYS of its date (amending decisions often take effect months after they are adopted).

A version's own effective date is the one its text or database gives when it is on or after the version's date;
an earlier one (an amended law keeps `本法自2000年7月1日起施行` from its first version) says nothing about when
the amendment took effect. The database's `expired` flag is read as of the snapshot it comes from (`known_on`):
before that day, an expiry without a date cannot be placed in time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ingest.schema import Article, Regulation

IN_FORCE, SUPERSEDED, REPEALED, NOT_YET, UNKNOWN = "in_force", "superseded", "repealed", "not_yet_in_force", "unknown"
STATUSES = (IN_FORCE, SUPERSEDED, REPEALED, NOT_YET, UNKNOWN)
STATUS_LABELS = {IN_FORCE: "现行有效", SUPERSEDED: "已被修订", REPEALED: "已废止", NOT_YET: "尚未生效",
                 UNKNOWN: "效力待定"}
# The longest gap between a version's date and its effective date in the library is 386 days (契税法 and others;
# the Basic Laws of Hong Kong and Macau aside): a version whose effective date is not given is taken to be in
# force two years after its date, and before then (from its date on) its status is unknown.
PENDING_DAYS = 731
# The day the library snapshot's databases were taken (LawRefBook/Laws at 2f4c5c2): their `expired` flags say
# what was expired then.
LIBRARY_KNOWN_ON = "2025-04-19"
SEARCHABLE_DAYS_KEPT = 64  # days whose searchable versions are kept (today, and the days users ask "as of")
NATIONAL_PREFIX = "中华人民共和国"
# A version named in words: 2018年版, 2017年修正, （2022年修订）, 2018版, 2018年文本.
VERSION_RE = re.compile(r"(\d{4})\s*年?\s*(?:第[一二三四五六七八九十]+次)?\s*(?:修正|修订|修改|版|文本|公布)")
_BRACKETS = str.maketrans({"（": "(", "）": ")", "〈": "<", "〉": ">", "《": "", "》": "", "\u3000": "", " ": ""})
_REPEAL_SENTENCE = re.compile(r"[^。；]*?(?:同时|予以|一并)废止")
_DATE_PREFIX = re.compile(r"^.*?(?:公布|发布|通过|批准|施行|修正|修订)的")


def title_key(title: str) -> str:
    """The name versions share: `中华人民共和国会计法` and `会计法` alike, brackets and spaces unified."""
    key = title.strip().translate(_BRACKETS)
    if key.startswith(NATIONAL_PREFIX) and len(key) > len(NATIONAL_PREFIX) + 1:
        key = key[len(NATIONAL_PREFIX):]
    return key


def parse_date(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        return None


@dataclass(frozen=True)
class Repeal:
    by: str  # the regulation id whose text repeals it
    by_title: str
    on: str | None  # ISO date the repealing text took effect, where known


@dataclass(frozen=True)
class Version:
    regulation_id: str
    title: str
    date: str | None  # the version's date (file name, else the earliest date known); None: no date at all
    dated: bool  # the date is the version's own (file name); False: taken from the text's other dates
    promulgated: str | None
    effective: str | None  # this version's own effective date, where the data gives one
    expired: bool | None  # the library database's flag, as read (unreliable on its own)
    replaced_by: str | None  # the regulation id of the next version, if any
    repealed: Repeal | None = None

    def to_json(self) -> dict[str, object]:
        return {"id": self.regulation_id, "title": self.title, "version": self.date,
                "promulgated": self.promulgated, "effective": self.effective, "replaced_by": self.replaced_by}


@dataclass(frozen=True)
class Status:
    status: str  # one of STATUSES
    reason: str  # why, in a sentence a user can read
    in_force: str | None = None  # the regulation id of the version in force that day, where known

    @property
    def label(self) -> str:
        return STATUS_LABELS[self.status]


def _own_effective(reg: Regulation) -> str | None:
    e = parse_date(reg.effective)
    v = parse_date(reg.version)
    if e is None or (v is not None and e < v):
        return None
    return e.isoformat()


def _version_date(reg: Regulation) -> tuple[str | None, bool]:
    if parse_date(reg.version):
        return reg.version, True
    known = sorted(d.isoformat() for d in map(parse_date, (reg.adopted, reg.promulgated, reg.effective)) if d)
    return (known[-1] if known else None), False


class VersionTable:
    """The versions of every regulation of an index, and their status on any day."""

    def __init__(self, regulations: Iterable[Regulation], articles: Iterable[Article] = (),
                 expired: Mapping[str, bool] | None = None, known_on: str | dt.date | None = LIBRARY_KNOWN_ON) -> None:
        regs = list(regulations)
        self._by_id = {r.id: r for r in regs}
        groups: dict[str, list[Regulation]] = {}
        for r in regs:
            groups.setdefault(title_key(r.title), []).append(r)
        repeals = stated_repeals(regs, articles, set(groups))
        self.known_on = parse_date(known_on)
        self._groups: dict[str, tuple[Version, ...]] = {}
        self._key: dict[str, str] = {}
        self._searchable: dict[dt.date, frozenset[str]] = {}
        flags = expired or {}
        for key, members in groups.items():
            dated = [(r, *_version_date(r)) for r in members]
            dated.sort(key=lambda x: (x[1] or "", x[0].id))
            versions = []
            for i, (r, date, own) in enumerate(dated):
                nxt = dated[i + 1][0].id if i + 1 < len(dated) else None
                rep = next((p for p in repeals.get(key, ()) if date is None or _stated_after(p, date, self._by_id)),
                           None)
                flag = flags.get(r.id, r.expired)
                versions.append(Version(r.id, r.title, date, own, r.promulgated, _own_effective(r), flag, nxt, rep))
                self._key[r.id] = key
            self._groups[key] = tuple(versions)

    # -- lookup ---------------------------------------------------------------------------------------
    def __contains__(self, regulation_id: object) -> bool:
        return regulation_id in self._key

    def versions(self, regulation_id: str) -> tuple[Version, ...]:
        """Every version of the regulation this id is one version of, oldest first."""
        return self._groups[self._key[regulation_id]]

    def version(self, regulation_id: str) -> Version:
        return next(v for v in self.versions(regulation_id) if v.regulation_id == regulation_id)

    def find(self, name: str) -> tuple[Version, ...]:
        """The versions of the regulation a name (title, short name, regulation id) points at; () if none."""
        if name in self._key:
            return self.versions(name)
        key = title_key(name)
        if key in self._groups:
            return self._groups[key]
        for r in self._by_id.values():
            if name in r.short_names:
                return self.versions(r.id)
        return ()

    def groups(self) -> Iterable[tuple[Version, ...]]:
        return self._groups.values()

    # -- status ---------------------------------------------------------------------------------------
    def status(self, regulation_id: str, as_of: str | dt.date | None = None) -> Status:
        """The status of one version on a day (today when none is given)."""
        day = parse_date(as_of) if as_of is not None else dt.date.today()
        if day is None:
            raise ValueError(f"not a date: {as_of!r} (use YYYY-MM-DD)")
        versions = self.versions(regulation_id)
        i = next(n for n, v in enumerate(versions) if v.regulation_id == regulation_id)
        v = versions[i]
        current = self._in_force_id(versions, day)
        started = _started(v, day)
        if started is False:
            when = f"自{v.effective}起施行" if v.effective and v.date and v.effective > v.date else f"{v.date}的版本"
            return Status(NOT_YET, f"{when}，{day.isoformat()}尚未生效", current)
        later = [w for w in versions[i + 1:] if _started(w, day)]
        if later:
            return Status(SUPERSEDED, f"已被{later[-1].date or '较新'}版本取代", current)
        repeal = self._repeal_state(versions, v, day)
        if repeal is not None and repeal.status == REPEALED:
            return repeal
        pending = [w for w in versions[i + 1:] if _started(w, day) is None]
        if started and not pending and repeal is None:
            return Status(IN_FORCE, "现行有效" if v.effective is None else f"自{v.effective}起施行", v.regulation_id)
        if repeal is not None:
            return repeal
        if pending:
            return Status(UNKNOWN, f"{pending[0].date}的新版本何时施行，资料未载明", None)
        return Status(UNKNOWN, "本版本何时施行，资料未载明", None)

    def _repeal_state(self, versions: Sequence[Version], v: Version, day: dt.date) -> Status | None:
        rep = v.repealed
        if rep is not None:
            on = parse_date(rep.on)
            if on is not None and day >= on:
                return Status(REPEALED, f"《{rep.by_title}》自{rep.on}起施行，同时废止本法规", None)
            if on is None:
                return Status(UNKNOWN, f"《{rep.by_title}》废止本法规，废止日期资料未载明", None)
        if v is versions[-1] and v.expired:
            if self.known_on is not None and day >= self.known_on:
                return Status(REPEALED, "法规库数据库标为失效", None)
            return Status(UNKNOWN, "法规库数据库标为失效，失效日期未载明", None)
        return None

    def _in_force_id(self, versions: Sequence[Version], day: dt.date) -> str | None:
        started = [w for w in versions if _started(w, day)]
        if not started:
            return None
        last = started[-1]
        i = versions.index(last)
        if any(_started(w, day) is None for w in versions[i + 1:]):
            return None
        return last.regulation_id

    def in_force(self, regulation_id: str, as_of: str | dt.date | None = None) -> Version | None:
        """The version of this regulation in force on the day, where the data decides it."""
        st = self.status(regulation_id, as_of)
        if st.status == REPEALED:
            return None
        return self.version(st.in_force) if st.in_force else None

    def searchable(self, as_of: str | dt.date | None = None) -> frozenset[str]:
        """The regulation ids a search as of the day covers: per regulation, the version in force; where the data
        cannot decide, the newest version that may be (status unknown), so that nothing vanishes for want of a
        date. Superseded, repealed and not-yet versions are left out. Kept per day: a library search asks it on
        every question (1,400 regulations' statuses: ~50 ms), and the table never changes."""
        day = parse_date(as_of) if as_of is not None else dt.date.today()
        if day is None:
            raise ValueError(f"not a date: {as_of!r} (use YYYY-MM-DD)")
        found = self._searchable.get(day)
        if found is None:
            if len(self._searchable) >= SEARCHABLE_DAYS_KEPT:
                self._searchable.clear()
            found = self._searchable[day] = self._searchable_on(day)
        return found

    def _searchable_on(self, as_of: dt.date) -> frozenset[str]:
        keep: set[str] = set()
        for versions in self._groups.values():
            statuses = [(v, self.status(v.regulation_id, as_of).status) for v in versions]
            found = [v for v, s in statuses if s == IN_FORCE]
            if not found:
                found = [v for v, s in statuses if s == UNKNOWN][-1:]
            keep.update(v.regulation_id for v in found)
        return frozenset(keep)


def version_of_year(table: VersionTable, versions: Sequence[Version], year: int) -> Version | None:
    """The version a year names: the one dated that year (the latest, if several), else the one in force at the
    end of that year; None if neither."""
    same = [v for v in versions if v.date and int(v.date[:4]) == year]
    if same:
        return same[-1]
    for v in versions:
        if table.status(v.regulation_id, f"{year}-12-31").status == IN_FORCE:
            return v
    return None


def _started(v: Version, day: dt.date) -> bool | None:
    """Whether the version had taken effect on the day: True, False, or None (the data cannot say)."""
    eff = parse_date(v.effective)
    if eff is not None:
        return day >= eff
    start = parse_date(v.date)
    if start is None:
        return None
    if day < start:
        return False
    if day >= start + dt.timedelta(days=PENDING_DAYS):
        return True
    return None


def _stated_after(rep: Repeal, date: str, regs: Mapping[str, Regulation]) -> bool:
    by = regs.get(rep.by)
    by_date = _version_date(by)[0] if by else None
    return by_date is None or date <= by_date


def stated_repeals(regulations: Sequence[Regulation], articles: Iterable[Article],
                   keys: set[str] | None = None) -> dict[str, list[Repeal]]:
    """Regulations that a text in the index says it repeals (`《……》同时废止`, `婚姻法、继承法……同时废止`), by title
    key. A text naming its own title (an older version it replaces) is not a repeal: versions handle that."""
    regs = {r.id: r for r in regulations}
    keys = keys if keys is not None else {title_key(r.title) for r in regulations}
    found: dict[str, list[Repeal]] = {}
    for a in articles:
        if "废止" not in a.text:
            continue
        reg = regs.get(a.regulation_id)
        if reg is None:
            continue
        own = title_key(reg.title)
        for sentence in _REPEAL_SENTENCE.findall(a.text):
            for name in _named(sentence):
                key = title_key(name)
                if key == own or key not in keys:
                    continue
                rep = Repeal(reg.id, reg.title, _own_effective(reg))
                if all(r.by != reg.id for r in found.get(key, ())):
                    found.setdefault(key, []).append(rep)
    return found


def _named(sentence: str) -> list[str]:
    quoted = re.findall(r"《([^《》]+)》", sentence)
    if quoted:
        return quoted
    head = re.split(r"[，,：:]", sentence)[-1]
    head = re.sub(r"(?:同时|予以|一并)废止$", "", head)
    return [_DATE_PREFIX.sub("", n).strip() for n in re.split(r"[、]", head) if n.strip()]
