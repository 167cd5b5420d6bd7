"""Records the index holds: Regulation, Article, Chunk. Frozen dataclasses, never loose dicts.

What a search returns (Result, SearchResponse) lives beside the Retriever, in retrieval/results.py.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Regulation:
    id: str  # stable slug, e.g. "hubei-quality-promotion-2024" or a hash-based slug for JSONL titles
    title: str  # as printed in the document, without 《》
    short_names: tuple[str, ...] = ()  # names people use: "湖北条例", "民法典"
    english_names: tuple[str, ...] = ()  # English title first, then names people use: "Hubei regulation"
    region: str | None = None
    issuer: str | None = None
    adopted: str | None = None  # ISO dates where the text states them
    promulgated: str | None = None
    effective: str | None = None
    source: str = ""  # source file name (never an absolute path: it may be shown to users)
    checksum: str = ""  # sha256 of the source file bytes
    level: str | None = None  # 法律, 行政法规, 司法解释, 部门规章, 地方性法规 … where known
    version: str | None = None  # ISO date of this version (several versions of one title are several regulations)
    expired: bool | None = None  # the library database's `expired` flag as read (unreliable alone: see ingest/versions)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["short_names"] = list(self.short_names)
        d["english_names"] = list(self.english_names)
        # absent when unknown: indexes written before them read the same
        for optional in ("level", "version", "expired"):
            if d[optional] is None:
                del d[optional]
        return d

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a question may use for this regulation: title, short and English names, and its region
        (湖北省 and 湖北), so that "Hubei" or 湖北的 point at it like 湖北条例 does."""
        region = self.region or ""
        bare = region[:-1] if region.endswith(("省", "市", "县", "区")) and len(region) > 2 else ""
        found = (self.title, *self.short_names, *self.english_names, region, bare)
        return tuple(dict.fromkeys(n for n in found if n))

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Regulation:
        d = dict(d)
        d["short_names"] = tuple(d.get("short_names") or ())
        d["english_names"] = tuple(d.get("english_names") or ())
        return cls(**d)


@dataclass(frozen=True)
class Article:
    regulation_id: str
    regulation_title: str
    chapter: str | None  # "第三章 创新驱动" or None
    label: str  # exactly as printed: "第二十一条", "第十条之一", "第12条"
    number: int  # 21
    sub_number: int  # 0, or 1 for 之一
    text: str  # verbatim body (page-break artifacts repaired), without the label
    paragraphs: tuple[tuple[int, int], ...] = field(default=())  # (start, end) char spans of 款 in text

    @property
    def id(self) -> str:
        return f"{self.regulation_id}#{self.number}-{self.sub_number}"

    @property
    def citation(self) -> str:
        cite = f"《{self.regulation_title}》{self.label}"
        return f"{cite}（{self.chapter}）" if self.chapter else cite

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["paragraphs"] = [list(p) for p in self.paragraphs]
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Article:
        d = dict(d)
        d["paragraphs"] = tuple(tuple(p) for p in d.get("paragraphs") or ())
        return cls(**d)


@dataclass(frozen=True)
class Chunk:
    article_id: str
    start: int  # character span of the article text this chunk covers
    end: int
    text: str  # the article text slice, verbatim
    embed_text: str  # context prefix + text; what the model sees, never shown

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Chunk:
        return cls(**d)
