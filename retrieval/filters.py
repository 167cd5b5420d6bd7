"""Filters on the regulations a search covers: by level (法律, 行政法规, 地方性法规 …), by region, by name.

Every filter becomes a set of regulation ids, the one filter the Retriever applies (`regulations=` in
`Retriever.search`). Within one kind the choices add up (法律 or 行政法规); across kinds they narrow (地方性法规
of 浙江省). Names come from the regulations themselves, never from a list of particular laws:

- a level is what a regulation's `level` says (the library's databases); a regulation without one has none;
- a region is a regulation's `region` (湖北省, 杭州市), written with or without its 省/市 (湖北); a province also holds
  the regions of the library documents filed under it (`DLC/浙江地方法规/…` makes 杭州市 part of 浙江省), so 浙江 covers
  杭州市's regulations; 全国 (national) means the regulations without a region;
- a regulation is named by its id, its title (with or without 《》 and 中华人民共和国) or a short name.

A level or region the index does not hold is refused with a message that names the ones it does.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.errors import QueryError
from ingest.library_meta import DLC, MUNICIPALITIES
from ingest.schema import Regulation

NATIONAL = "全国"  # the region of national regulations (they have none)
NATIONAL_NAMES = frozenset({NATIONAL, "国家", "national", "nationwide", "中央"})
NATIONAL_PREFIX = "中华人民共和国"
_PROVINCE_FOLDER = re.compile(rf"^{DLC}/([^/]+?)地方法规/")
_PLACE_SUFFIXES = ("省", "市", "自治区", "县", "区", "自治州")
MAX_LISTED = 12  # choices named in an error message


def bare(region: str) -> str:
    """A place without its 省/市/自治区 (湖北省 -> 湖北); short names are left as they are."""
    for suffix in _PLACE_SUFFIXES:
        if region.endswith(suffix) and len(region) > len(suffix) + 1:
            return region[: -len(suffix)]
    return region


def province_of_source(source: str) -> str | None:
    """The province a library document is filed under (DLC/浙江地方法规/… -> 浙江省), else None."""
    m = _PROVINCE_FOLDER.match(source or "")
    if not m:
        return None
    name = m.group(1)
    return name + ("市" if name in MUNICIPALITIES else "省")


def _names(value: object, what: str) -> tuple[str, ...]:
    """One value or a list of them, as strings, blanks dropped; QueryError for anything else."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise QueryError(f"{what} 须为名称或名称列表 ({what} must be a name or a list of names)")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _listed(names: Iterable[str]) -> str:
    names = list(names)
    shown = "、".join(names[:MAX_LISTED])
    return shown + (f" 等 {len(names)} 个" if len(names) > MAX_LISTED else "") if names else "无 none"


@dataclass(frozen=True)
class Facets:
    """The levels and regions of an index's regulations, and which regulations each covers; build once per index."""

    levels: dict[str, frozenset[str]]  # level -> regulation ids
    regions: dict[str, frozenset[str]]  # region (and each province, with the regions inside it) -> regulation ids
    provinces: tuple[str, ...]  # regions that are provinces (or municipalities) of the library, in order of size
    national: frozenset[str]  # regulations without a region
    by_name: dict[str, frozenset[str]]  # id, title, short name -> regulation ids

    @classmethod
    def of(cls, regulations: Sequence[Regulation]) -> Facets:
        levels: dict[str, set[str]] = {}
        regions: dict[str, set[str]] = {}
        by_name: dict[str, set[str]] = {}
        inside: dict[str, str] = {}  # region -> the province its library documents are filed under
        for r in regulations:
            province = province_of_source(r.source)
            if province and r.region and r.region != province:
                inside.setdefault(r.region, province)
        provinces: Counter[str] = Counter()
        for r in regulations:
            if r.level:
                levels.setdefault(r.level, set()).add(r.id)
            if r.region:
                regions.setdefault(r.region, set()).add(r.id)
                province = province_of_source(r.source) or inside.get(r.region)
                if province and province != r.region:
                    regions.setdefault(province, set()).add(r.id)
                if province:
                    provinces[province] += 1
            for n in (r.id, r.title, *r.short_names):
                by_name.setdefault(n, set()).add(r.id)
        return cls(
            levels={k: frozenset(v) for k, v in levels.items()},
            regions={k: frozenset(v) for k, v in regions.items()},
            provinces=tuple(p for p, _ in provinces.most_common()),
            national=frozenset(r.id for r in regulations if not r.region),
            by_name={k: frozenset(v) for k, v in by_name.items()},
        )

    # -- one kind at a time ----------------------------------------------------------------------------------
    def level_ids(self, levels: Sequence[str]) -> frozenset[str]:
        out: set[str] = set()
        for level in levels:
            if level not in self.levels:
                if not self.levels:
                    raise QueryError(f"索引中的法规未标注层级，无法按“{level}”筛选 (unknown level {level!r}: the "
                                     "index's regulations carry no level)")
                raise QueryError(f"索引中没有“{level}”这一层级，可选：{_listed(self.level_names())} "
                                 f"(unknown level {level!r}; the index holds these levels)")
            out |= self.levels[level]
        return frozenset(out)

    def region_ids(self, regions: Sequence[str]) -> frozenset[str]:
        out: set[str] = set()
        for region in regions:
            found = self.region(region)
            if found is None:
                raise QueryError(f"索引中没有“{region}”的法规，可选地区：{_listed(self.region_names())} "
                                 f"(unknown region {region!r}; the index holds these regions)")
            out |= found
        return frozenset(out)

    def region(self, name: str) -> frozenset[str] | None:
        """The regulations of one region as a person writes it (湖北, 湖北省, 全国), or None when none is held."""
        if name in NATIONAL_NAMES or name.lower() in NATIONAL_NAMES:
            return self.national or None
        if name in self.regions:
            return self.regions[name]
        found = [ids for region, ids in self.regions.items() if bare(region) == bare(name)]
        return frozenset().union(*found) if found else None

    def exact_ids(self, names: Sequence[str]) -> frozenset[str]:
        """Regulations named exactly by id, title or short name."""
        return frozenset().union(*(self.by_name.get(n, frozenset()) for n in names))

    def name_ids(self, names: Sequence[str]) -> frozenset[str]:
        """Regulations named by id, title (with or without 《》 or 中华人民共和国) or short name; unknown names give
        nothing (the caller decides whether that is an error)."""
        out: set[str] = set()
        for n in names:
            key = n.strip().strip("《》").strip()
            found = self.by_name.get(n) or self.by_name.get(key)
            if found is None and key.startswith(NATIONAL_PREFIX):
                found = self.by_name.get(key[len(NATIONAL_PREFIX):])
            if found is None:
                found = self.by_name.get(NATIONAL_PREFIX + key)
            out |= found or frozenset()
        return frozenset(out)

    # -- choices -------------------------------------------------------------------------------------------
    def level_names(self) -> list[str]:
        """Levels, the most common first."""
        return sorted(self.levels, key=lambda k: (-len(self.levels[k]), k))

    def region_names(self) -> list[str]:
        """全国 (when the index holds national regulations), the provinces, then the other regions, each group by
        size."""
        head = [NATIONAL] if self.national else []
        rest = sorted((r for r in self.regions if r not in self.provinces), key=lambda k: (-len(self.regions[k]), k))
        return head + [p for p in self.provinces if p in self.regions] + rest

    def count(self, region: str) -> int:
        found = self.region(region)
        return len(found) if found else 0

    # -- together -------------------------------------------------------------------------------------------
    def ids(self, levels: object = None, regions: object = None) -> frozenset[str] | None:
        """The regulations of these levels and regions (None: neither given). QueryError for a level or region
        the index does not hold, or a level and region no regulation has both."""
        levels_, regions_ = _names(levels, "level"), _names(regions, "region")
        if not levels_ and not regions_:
            return None
        chosen: frozenset[str] | None = None
        if levels_:
            chosen = self.level_ids(levels_)
        if regions_:
            by_region = self.region_ids(regions_)
            chosen = by_region if chosen is None else chosen & by_region
        if not chosen:
            raise QueryError(f"没有同时属于{'、'.join(levels_)}和{'、'.join(regions_)}的法规 "
                             f"(no regulation of level {', '.join(levels_)} in {', '.join(regions_)})")
        return chosen


def names_of(value: object, what: str) -> tuple[str, ...]:
    """The level or region names of a request or command line (one string or a list); QueryError otherwise."""
    return _names(value, what)


def newest(ids: Iterable[str], regulations: Sequence[Regulation]) -> tuple[str, ...]:
    """The ids with only the newest version of each title kept (by version date; an undated one counts as the
    oldest), in the order the titles first appear."""
    by_id = {r.id: r for r in regulations}
    best: dict[str, Regulation] = {}
    order: list[str] = []
    for rid in ids:
        reg = by_id.get(rid)
        if reg is None:
            continue
        kept = best.get(reg.title)
        if kept is None:
            order.append(reg.title)
        if kept is None or (reg.version or "") > (kept.version or ""):
            best[reg.title] = reg
    return tuple(best[t].id for t in order)


class Filtered:
    """A Retriever whose every search keeps a level and region filter: what the follow-up reader and the comparison
    search through, as they pass regulations on but know nothing of levels and regions."""

    def __init__(self, retriever: Any, levels: tuple[str, ...], regions: tuple[str, ...]) -> None:
        object.__setattr__(self, "_retriever", retriever)
        object.__setattr__(self, "_filter", {"levels": levels or None, "regions": regions or None})

    def search(self, *args: Any, **kwargs: Any) -> Any:
        return self._retriever.search(*args, **{**self._filter, **kwargs})

    def __getattr__(self, name: str) -> Any:
        return getattr(self._retriever, name)

    def __setattr__(self, name: str, value: Any) -> None:  # what is cached on it is cached on the Retriever
        setattr(self._retriever, name, value)


def filtered(retriever: Any, levels: tuple[str, ...] = (), regions: tuple[str, ...] = ()) -> Any:
    """The Retriever itself when no level or region is chosen, else one that keeps them in every search."""
    return Filtered(retriever, levels, regions) if levels or regions else retriever
