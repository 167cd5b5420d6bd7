"""Decide when the corpus does not answer a question.

multilingual-e5 cosine scores cluster between 0.75 and 0.95, so a raw threshold alone either abstains on
real questions or answers noise. The rule combines the best dense score with lexical evidence: how much of
the question's content (character pairs and words, see ingest/words.py) the best article actually contains.

A question written in another script than the articles (English over Chinese statutes) shares no words
with them, so its coverage cannot be measured (NaN) and its cross-lingual cosines run about 0.1 lower than
same-language ones: it is judged by its own dense floor. Thresholds are calibrated on the development
questions (`python -m eval calibrate`), never on the test split.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.words import has_cjk


@dataclass(frozen=True)
class AbstainRule:
    # Calibrated on data/questions/dev.jsonl (see eval/calibrate.py).
    dense_floor: float = 0.88  # below this nothing is close enough, whatever the words say
    dense_sure: float = 0.885  # at or above this the meaning match alone is enough
    min_coverage: float = 0.15  # between the two, this share of the question's content must appear
    cross_lingual_floor: float = 0.765  # a question in another script than the articles: dense alone decides

    def abstain(self, dense_top: float, coverage: float) -> bool:
        if math.isnan(coverage):
            return dense_top < self.cross_lingual_floor
        if dense_top < self.dense_floor:
            return True
        if dense_top >= self.dense_sure:
            return False
        return coverage < self.min_coverage


def coverage(query_words: list[str], article_text: str) -> float:
    """Share of the question's content tokens (two characters or more) found in the article.

    NaN when the question has content but none of it is in the article's script (an English question over
    a Chinese article): there is nothing to compare, which is not the same as evidence of a mismatch.
    """
    content = {w for w in query_words if len(w) > 1}
    if not content:
        return 0.0
    found = sum(1 for w in content if w in article_text)
    if not found and has_cjk(article_text) and not any(has_cjk(w) for w in content):
        return math.nan
    return found / len(content)
