"""The regulations and articles that citations are checked against, without the search (no model, no FAISS)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ingest.index_io import load_texts
from ingest.schema import Article, Regulation
from retrieval.citations import Names, name_table
from retrieval.quotes import Comparable


class Catalogue:
    """Articles by regulation and number, the regulations' names, and texts folded for comparing quotations."""

    def __init__(self, regulations: Iterable[Regulation], articles: Iterable[Article]) -> None:
        self.regulations = tuple(regulations)
        self.articles = tuple(articles)
        self.names: Names = name_table(self.regulations)
        self._regulation = {r.id: r for r in self.regulations}
        self._article = {(a.regulation_id, a.number, a.sub_number): a for a in self.articles}
        self._by_regulation: dict[str, list[Article]] = {}
        for a in self.articles:
            self._by_regulation.setdefault(a.regulation_id, []).append(a)
        for arts in self._by_regulation.values():
            arts.sort(key=lambda a: (a.number, a.sub_number))
        self._comparable: dict[str, Comparable] = {}

    @classmethod
    def from_index(cls, root: Path, verify: bool = True) -> Catalogue:
        """What an index directory serves (data/index by default): the texts only, so no model is loaded."""
        return cls(*load_texts(Path(root), verify=verify))

    @classmethod
    def from_sources(cls, paths: Iterable[Path]) -> Catalogue:
        """Straight from regulation files or folders, parsed as a build would parse them."""
        from ingest.sources import discover, load_source

        regulations: list[Regulation] = []
        articles: list[Article] = []
        for path in discover([Path(p) for p in paths]):
            for doc in load_source(path):
                regulations.append(doc.regulation)
                articles.extend(doc.articles)
        return cls(regulations, articles)

    def regulation(self, regulation_id: str) -> Regulation | None:
        return self._regulation.get(regulation_id)

    def article(self, regulation_id: str, number: int, sub_number: int = 0) -> Article | None:
        return self._article.get((regulation_id, number, sub_number))

    def articles_of(self, regulation_id: str) -> list[Article]:
        """The regulation's articles in order of number."""
        return self._by_regulation.get(regulation_id, [])

    def comparable(self, article: Article) -> Comparable:
        """The article text folded for comparing quotations (computed once per article)."""
        found = self._comparable.get(article.id)
        if found is None:
            found = self._comparable[article.id] = Comparable.of(article.text)
        return found
