"""What a search returns: one Result per article, inside a SearchResponse. Made by the Retriever."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ingest.schema import Article


@dataclass(frozen=True)
class Result:
    article: Article
    score: float
    found_by: tuple[str, ...]  # "dense", "lexical", "reference"
    match_start: int  # span in article.text of the sentence that matched best
    match_end: int
    level: str | None = None  # the regulation's level (法律, 地方性法规 …) and region; None where it has none
    region: str | None = None

    @property
    def citation(self) -> str:
        return self.article.citation

    @property
    def matched_sentence(self) -> str:
        return self.article.text[self.match_start : self.match_end]

    def to_json(self) -> dict[str, Any]:
        """The `results[]` object of the CLI/API contract, plus a few extra fields."""
        a = self.article
        return {
            "title": a.regulation_title,
            "article": a.label,
            "number": a.number,
            "chapter": a.chapter,
            "text": a.text,
            "score": round(float(self.score), 6),
            "citation": a.citation,
            "found_by": list(self.found_by),
            "match": [self.match_start, self.match_end],
            "regulation_id": a.regulation_id,
            "level": self.level,
            "region": self.region,
        }


@dataclass(frozen=True)
class SearchResponse:
    query: str
    abstained: bool
    results: tuple[Result, ...]
    mode: str = "hybrid"
    message: str | None = None  # e.g. why a query was refused or trimmed
    words: tuple[str, ...] = ()  # the question's lexical tokens (ingest/words.py), for marking them in text
    answer: str = "direct"  # direct | related (the articles touch the subject, not what was asked) | none (abstained)
    reason: str | None = None  # for related: what the articles do not state

    def to_json(self) -> dict[str, Any]:
        """The CLI/API contract: {"query", "abstained", "results"} (and "message" when there is one), plus
        "answer" and "reason" (retrieval/answer_kind.py)."""
        d: dict[str, Any] = {
            "query": self.query,
            "abstained": self.abstained,
            "results": [r.to_json() for r in self.results],
            "answer": self.answer,
            "reason": self.reason,
        }
        if self.message:
            d["message"] = self.message
        return d
