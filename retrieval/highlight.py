"""Find the sentence of an article that best matches the question, to point the reader at it."""

from __future__ import annotations

import re

from ingest.words import normalise

_SENTENCE_RE = re.compile(r"[^。；;！？!?\n]+[。；;！？!?]?")


def sentences(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SENTENCE_RE.finditer(text) if m.group().strip()]


def _bigrams(text: str) -> set[str]:
    t = re.sub(r"\W+", "", normalise(text))
    return {t[i : i + 2] for i in range(len(t) - 1)} if len(t) > 1 else {t} if t else set()


def best_sentence(text: str, question: str, query_words: list[str],
                  within: tuple[int, int] | None = None) -> tuple[int, int]:
    """Span of the sentence sharing most words (then character pairs, then single characters) with the question.

    `within` is the matched chunk's span: sentences inside it win remaining ties. Falls back to the first
    sentence. Single characters break ties because a layperson's words often share only characters with the
    text (配…专门管质量的人 against 配备…专职…质量管理专业人员).
    """
    spans = sentences(text) or [(0, len(text))]
    qb = _bigrams(question)
    words = [w for w in query_words if len(w) > 1]
    chars = {w for w in query_words if len(w) == 1}

    def score(span: tuple[int, int]) -> tuple[float, float, int]:
        s = normalise(text[span[0] : span[1]])
        word_hits = sum(1 for w in words if w in s)
        pair_hits = len(qb & _bigrams(s)) / (len(qb) or 1)
        char_hits = sum(1 for c in chars if c in s) / (len(chars) or 1)
        inside = 1 if within and within[0] <= span[0] < within[1] else 0
        return (word_hits + pair_hits, char_hits, inside)

    return max(spans, key=score)
