"""The regulations and articles that citations are checked against, without the search (no model, no FAISS)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from pathlib import Path

from ingest.schema import Article, Regulation
from ingest.stores.index_io import load_texts
from retrieval.checker.quotes import Comparable, locate
from retrieval.citations import Names, name_table


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
        self._joined: dict[str, tuple[str, list[int]]] = {}

    @classmethod
    def from_index(cls, root: Path, verify: bool = True) -> Catalogue:
        """What an index directory serves (data/index by default): the texts only, so no model is loaded."""
        return cls(*load_texts(Path(root), verify=verify))

    @classmethod
    def from_sources(cls, paths: Iterable[Path]) -> Catalogue:
        """Straight from regulation files or folders, read as a build reads them (folders recursively, a
        library's Markdown with its metadata and versions, a law in several files joined)."""
        from ingest.collect import collect, discover_sources

        collection = collect(discover_sources([Path(p) for p in paths]))
        return cls(collection.regulations, collection.articles)

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

    def find_quote(self, parts: list[str], first: Iterable[str] = (), exclude: Iterable[Article] = (),
                   limit: int = 3) -> list[tuple[Article, tuple[int, int]]]:
        """Articles that contain a quotation verbatim (its folded parts in order), the regulations in `first`
        before the others; each with the quotation's span in the article text."""
        if not parts:
            return []
        skip = {a.id for a in exclude}
        first = [r for r in dict.fromkeys(first) if r in self._by_regulation]
        order = first + [r for r in self._by_regulation if r not in first]
        out: list[tuple[Article, tuple[int, int]]] = []
        for rid in order:
            joined, starts = self._joined_text(rid)
            arts = self._by_regulation[rid]
            i = 0
            while len(out) < limit:
                k = joined.find(parts[0], i)
                if k < 0:
                    break
                n = bisect_right(starts, k) - 1
                a = arts[n]
                span = locate(parts, self.comparable(a)) if a.id not in skip else None
                if span is not None:
                    out.append((a, span))
                i = starts[n + 1] if n + 1 < len(starts) else len(joined)
            if len(out) >= limit:
                break
        return out

    def _joined_text(self, regulation_id: str) -> tuple[str, list[int]]:
        """The regulation's folded article texts joined by newlines (never inside a folded quotation), and where
        each article starts: one str.find looks through a whole regulation."""
        found = self._joined.get(regulation_id)
        if found is None:
            texts = [self.comparable(a).folded for a in self._by_regulation[regulation_id]]
            starts, at = [], 0
            for t in texts:
                starts.append(at)
                at += len(t) + 1
            found = self._joined[regulation_id] = ("\n".join(texts), starts)
        return found
