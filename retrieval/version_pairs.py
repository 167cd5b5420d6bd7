"""The old beside the new (对照版): every article of one version paired with its counterpart in another.

Amendments renumber articles (an article inserted early shifts every later number), so articles are matched by
text, not by number: character-pair (bigram) overlap between every old and every new article, then one
assignment that maximises the total (scipy's linear_sum_assignment), a pair kept only when its texts share at
least MIN_SIMILARITY of their character pairs. A small preference for keeping the reading order breaks ties
between near-identical articles (本法自……起施行). Each pair is `same`, `changed` (with a word diff) or, unpaired,
`added` / `removed`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ingest.schema import Article
from ingest.words import segments

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"
MIN_SIMILARITY = 0.3  # below this share of character pairs, two articles are not one article amended
ORDER_WEIGHT = 0.02  # how much keeping the reading order counts against text similarity
_NOT_TEXT = re.compile(r"[\s\u3000]+")


@dataclass(frozen=True)
class Segment:
    op: str  # "equal", "delete", "insert", "replace" (difflib's opcodes)
    old: str
    new: str

    def to_json(self) -> dict[str, str]:
        return {"op": self.op, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Pair:
    kind: str  # SAME, CHANGED, ADDED, REMOVED
    old: Article | None
    new: Article | None
    similarity: float  # 0 for an added or removed article
    diff: tuple[Segment, ...] = ()

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.label != self.new.label

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "old": _article_json(self.old),
            "new": _article_json(self.new),
            "renumbered": self.renumbered,
            "similarity": round(self.similarity, 3),
            "diff": [s.to_json() for s in self.diff],
        }


def _article_json(a: Article | None) -> dict[str, object] | None:
    if a is None:
        return None
    return {"article": a.label, "number": a.number, "chapter": a.chapter, "text": a.text, "citation": a.citation}


def _bigrams(text: str) -> set[str]:
    t = _NOT_TEXT.sub("", text)
    return {t[i : i + 2] for i in range(len(t) - 1)} or ({t} if t else set())


def similarity_matrix(old: Sequence[str], new: Sequence[str]) -> np.ndarray:
    """Dice overlap of character pairs, old × new."""
    from scipy.sparse import csr_matrix

    grams_old = [_bigrams(t) for t in old]
    grams_new = [_bigrams(t) for t in new]
    vocab: dict[str, int] = {}

    def matrix(grams: list[set[str]]) -> tuple[list[int], list[int]]:
        rows, cols = [], []
        for i, g in enumerate(grams):
            for b in g:
                rows.append(i)
                cols.append(vocab.setdefault(b, len(vocab)))
        return rows, cols

    ro, co = matrix(grams_old)
    rn, cn = matrix(grams_new)
    shape = len(vocab) or 1
    a = csr_matrix((np.ones(len(ro), dtype=np.float32), (ro, co)), shape=(len(old), shape))
    b = csr_matrix((np.ones(len(rn), dtype=np.float32), (rn, cn)), shape=(len(new), shape))
    inter = (a @ b.T).toarray()
    sizes_old = np.array([len(g) for g in grams_old], dtype=np.float32)
    sizes_new = np.array([len(g) for g in grams_new], dtype=np.float32)
    total = sizes_old[:, None] + sizes_new[None, :]
    return np.where(total > 0, 2 * inter / np.maximum(total, 1), 0.0)


def pair_articles(old: Sequence[Article], new: Sequence[Article], min_similarity: float = MIN_SIMILARITY,
                  diff: bool = True) -> list[Pair]:
    """Every article of both versions once: pairs in the new version's order, a removed article after the pair
    of the old article before it. `diff=False` leaves the word diffs out (for links, where only the pairing
    counts)."""
    from scipy.optimize import linear_sum_assignment

    matched: dict[int, tuple[int, float]] = {}  # new index -> (old index, similarity)
    if old and new:
        sim = similarity_matrix([a.text for a in old], [a.text for a in new])
        pos_old = np.arange(len(old))[:, None] / max(len(old) - 1, 1)
        pos_new = np.arange(len(new))[None, :] / max(len(new) - 1, 1)
        score = sim - ORDER_WEIGHT * np.abs(pos_old - pos_new)
        rows, cols = linear_sum_assignment(-score)
        for i, j in zip(rows, cols, strict=True):
            if sim[i, j] >= min_similarity:
                matched[int(j)] = (int(i), float(sim[i, j]))
    old_of = {i: j for j, (i, _) in matched.items()}
    after: dict[int, list[int]] = {}  # new index (-1: the start) -> removed old indexes placed after it
    last_new = -1
    for i in range(len(old)):
        if i in old_of:
            last_new = old_of[i]
        else:
            after.setdefault(last_new, []).append(i)
    out = [Pair(REMOVED, old[i], None, 0.0) for i in after.get(-1, [])]
    for j, article in enumerate(new):
        if j in matched:
            i, s = matched[j]
            before = old[i]
            if before.text == article.text:
                out.append(Pair(SAME, before, article, 1.0))
            else:
                out.append(Pair(CHANGED, before, article, s, word_diff(before.text, article.text) if diff else ()))
        else:
            out.append(Pair(ADDED, None, article, 0.0))
        out.extend(Pair(REMOVED, old[i], None, 0.0) for i in after.get(j, []))
    return out


def counterpart(article: Article, pairs: Sequence[Pair]) -> Pair | None:
    """The pair an article of either version is in."""
    for p in pairs:
        if article in (p.old, p.new):
            return p
    return None


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The changes between two texts, word by word (jieba's words), as difflib's opcodes."""
    a, b = segments(old), segments(new)
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return tuple(Segment(op, "".join(a[i1:i2]), "".join(b[j1:j2])) for op, i1, i2, j1, j2 in matcher.get_opcodes())
