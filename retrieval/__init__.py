"""Retrieval: a question in, verbatim cited articles out."""

from __future__ import annotations

from retrieval.settings import MODES, SearchSettings

__all__ = ["MODES", "Retriever", "SearchSettings"]


def __getattr__(name: str):  # import lazily: `python -m retrieval --help` should not load the index code
    if name == "Retriever":
        from retrieval.retriever import Retriever

        return Retriever
    raise AttributeError(name)
