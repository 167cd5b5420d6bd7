"""Decide when the corpus does not answer a question.

multilingual-e5 cosine scores cluster between 0.75 and 0.9, so a raw threshold alone either abstains on
real questions or answers noise. The rule combines the best dense score with lexical evidence: how many
of the question's content words the best article actually contains. Thresholds are calibrated on the
development questions (`python -m eval calibrate`), never on the test split.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AbstainRule:
    dense_floor: float = 0.80  # below this nothing is close enough, whatever the words say
    dense_sure: float = 0.86  # at or above this the meaning match alone is enough
    min_coverage: float = 0.34  # between the two, this share of the question's words must appear

    def abstain(self, dense_top: float, coverage: float) -> bool:
        if dense_top < self.dense_floor:
            return True
        if dense_top >= self.dense_sure:
            return False
        return coverage < self.min_coverage


def coverage(query_words: list[str], article_text: str) -> float:
    """Share of the question's content words (two characters or more) found in the article."""
    content = {w for w in query_words if len(w) > 1}
    if not content:
        return 0.0
    return sum(1 for w in content if w in article_text) / len(content)
