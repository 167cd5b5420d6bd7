"""Find the article reference in a question: 湖北条例第二十一条, 杭州办法第12条, 第十二条, Article 12 of the Hangzhou
measures. The matching is retrieval.citations, the same matcher the citation checker uses."""

from __future__ import annotations

from dataclasses import dataclass

from retrieval.citations import Names, find_citations, fold, name_table

__all__ = ["NameTable", "Reference", "find_reference", "name_table"]

NameTable = Names


@dataclass(frozen=True)
class Reference:
    regulation_ids: tuple[str, ...]  # regulations named in the question (empty: none named)
    number: int | None  # article number, if one is given
    sub_number: int = 0
    unknown: str | None = None  # the article is cited from a regulation the index does not hold (as written)


def find_reference(question: str, names: NameTable) -> Reference | None:
    """The regulations a question names and the article number it asks for, if any.

    The article is the question's first citation, read as the checker reads it; a question may also name
    other regulations (湖北条例和杭州办法第十条, "Article 63 of 商标法"), and each of them is kept.
    """
    named = names.named_in(fold(question)[0])
    citations = find_citations(question, names)
    if citations:
        c = citations[0]
        if c.unknown:
            return Reference((), c.number, c.sub_number, unknown=c.name)
        return Reference(tuple(dict.fromkeys((*c.regulation_ids, *named))), c.number, c.sub_number)
    return Reference(named, None) if named else None
