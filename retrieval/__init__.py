"""The ranking core: a question in, verbatim cited articles out.

Owns the Retriever (retriever), its settings and records (settings, results), the two searches and their fusion
(dense, lexical, fuse), English phrases read as the corpus's terms (glossary), abstaining and its signals
(abstain, signals), whether the best articles answer what was asked or only touch it (answer_kind), question
cleaning (query), article references and citation grammar (references, citations), the matched sentence
(highlight), the index's lookup tables (lookup) and neighbouring articles (related).

May import: `ingest` and `ingest.stores` only. Never imports its subpackages (conversation, checker, serving, web),
which stand above it; tests/test_layers.py checks the direction.
"""

from __future__ import annotations

from retrieval.settings import MODES, SearchSettings

__all__ = ["MODES", "Retriever", "SearchSettings"]


def __getattr__(name: str):  # import lazily: `python -m retrieval --help` should not load the index code
    if name == "Retriever":
        from retrieval.retriever import Retriever

        return Retriever
    raise AttributeError(name)
