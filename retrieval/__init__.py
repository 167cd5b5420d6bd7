"""Retrieval: a question in, verbatim cited articles out."""

from __future__ import annotations

__all__ = ["MODES", "Retriever"]


def __getattr__(name: str):  # import lazily: `python -m retrieval --help` should not load faiss
    if name in __all__:
        from retrieval import retriever

        return getattr(retriever, name)
    raise AttributeError(name)
