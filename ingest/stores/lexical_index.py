"""The lexical index: BM25 over the words of each chunk, beside the vector store and as narrow as it.

A `LexicalIndex` answers two questions: the chunks whose words best match the question's, best first, only
among chunks of some regulations when asked; and in how many chunks a token occurs (how common a word is).
Two live behind it:

- bm25s files in the build folder (`bm25/`), for the FAISS store: `Bm25sIndex` here;
- Milvus's own BM25 on the chunk collection (ingest/stores/milvus_store.py, a `LexicalSearch`), so that an app
  process on a Milvus index searches nothing on local disk, with the counts of each token stored by the
  build beside it (`tokens.json`, `TokenCounts`): `StoreLexical`.

Both score the same tokens (`ingest.words.words`, jieba-based) with the same BM25 (Lucene's, k1 1.5, b 0.75),
so they rank alike; which one an index uses follows from its store (see `ingest.stores.vector_store.load_lexical`).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from ingest.stores.row_filter import RowFilter
from ingest.words import words

FOLDER = "bm25"
TOKEN_COUNTS = "tokens.json"
K1, B = 1.5, 0.75  # bm25s' defaults (its "lucene" method); the Milvus store uses the same


@runtime_checkable
class LexicalSearch(Protocol):
    """The search alone: what a vector store that runs BM25 itself (Milvus) offers."""

    def lexical_search(self, text: str, query_words: Sequence[str], n: int,
                       regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(scores, chunk ids), 1-D, best first: at most n chunks that share a word with the question (score
        above 0), only chunks of `regulations` when given. `text` is the question as typed (normalised);
        `query_words` are its `words()`, which an index that tokenises itself may ignore."""
        ...


@runtime_checkable
class LexicalIndex(LexicalSearch, Protocol):
    @property
    def documents(self) -> int:
        """How many chunks are indexed."""
        ...

    def document_frequency(self, token: str) -> int:
        """In how many chunks this token (one of `words()`) occurs."""
        ...

    def save(self, folder: Path) -> None: ...


class Bm25sIndex:
    """BM25 with bm25s over `words()` of each chunk; each chunk tagged with its regulation id."""

    def __init__(self, bm25: Any, regulation_ids: Sequence[str] | None = None) -> None:
        self._bm25 = bm25
        self._rows = RowFilter(list(regulation_ids)) if regulation_ids is not None else None

    @classmethod
    def build(cls, texts: Sequence[str], regulation_ids: Sequence[str] | None = None) -> Bm25sIndex:
        import bm25s

        bm25 = bm25s.BM25(k1=K1, b=B)
        bm25.index([words(t) for t in texts], show_progress=False)
        return cls(bm25, regulation_ids)

    def save(self, folder: Path) -> None:
        self._bm25.save(str(folder / FOLDER), show_progress=False)

    @property
    def documents(self) -> int:
        return int(self._bm25.scores.get("num_docs") or 0)

    def document_frequency(self, token: str) -> int:
        """From BM25's own postings: a token's column holds one entry per chunk that has it."""
        indptr = self._bm25.scores["indptr"]
        i = self._bm25.vocab_dict.get(token)
        return int(indptr[i + 1] - indptr[i]) if i is not None and i + 1 < len(indptr) else 0

    @classmethod
    def load(cls, folder: Path, regulation_ids: Sequence[str] | None = None) -> Bm25sIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(folder / FOLDER), show_progress=False, verbosity=0), regulation_ids)

    def lexical_search(self, text: str, query_words: Sequence[str], n: int,
                       regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        none = np.zeros(0, np.float32), np.zeros(0, np.int64)
        if not query_words:
            return none
        scores = self._bm25.get_scores(list(query_words))
        if len(scores) == 0:
            return none
        if regulations is not None:
            if self._rows is None:
                raise ValueError("this lexical index was opened without regulation ids; it cannot filter")
            scores = np.where(self._rows.mask(regulations), scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top])]
        top = top[scores[top] > 0]
        return scores[top].astype(np.float32), top.astype(np.int64)


class TokenCounts:
    """In how many chunks each token occurs: what BM25's postings tell, kept for a store whose BM25 runs
    elsewhere. Counted on `words()`, the tokens the searcher computes, whatever analyzer the store uses."""

    def __init__(self, documents: int, counts: dict[str, int]) -> None:
        self.documents = documents
        self._counts = counts

    @classmethod
    def build(cls, texts: Sequence[str]) -> TokenCounts:
        counts: Counter[str] = Counter()
        for t in texts:
            counts.update(set(words(t)))
        return cls(len(texts), dict(counts))

    def save(self, folder: Path) -> None:
        data = {"documents": self.documents, "counts": dict(sorted(self._counts.items()))}
        (folder / TOKEN_COUNTS).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                                           encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> TokenCounts:
        data = json.loads((folder / TOKEN_COUNTS).read_text(encoding="utf-8"))
        return cls(int(data["documents"]), {str(k): int(v) for k, v in data["counts"].items()})

    def __getitem__(self, token: str) -> int:
        return self._counts.get(token, 0)


class StoreLexical:
    """The lexical index of a store that runs BM25 itself: its search, and the build's token counts."""

    def __init__(self, search: LexicalSearch, counts: TokenCounts) -> None:
        self._search = search
        self._counts = counts

    def lexical_search(self, text: str, query_words: Sequence[str], n: int,
                       regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        return self._search.lexical_search(text, query_words, n, regulations)

    @property
    def documents(self) -> int:
        return self._counts.documents

    def document_frequency(self, token: str) -> int:
        return self._counts[token]

    def save(self, folder: Path) -> None:
        self._counts.save(folder)
