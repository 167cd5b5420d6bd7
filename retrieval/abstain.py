"""Decide when the corpus does not answer a question.

multilingual-e5 cosine scores cluster between 0.75 and 0.95, so a raw threshold alone either abstains on
real questions or answers noise. The rule combines the best dense score with lexical evidence: how much of
the question's content (character pairs and words, see ingest/words.py) the best article actually contains.

A question written in another script than the articles (English over Chinese statutes) shares no words
with them, so its coverage cannot be measured (NaN) and its cross-lingual cosines run about 0.1 lower than
same-language ones: it is judged by its own dense floor. Both groups also have a floor on the background
margin (retrieval/signals.py): junk stands no higher above unrelated sentences than below the articles.

Thresholds are calibrated per corpus on its development questions (`python -m eval calibrate --save`) and
stored with the index; the defaults below (fitted on the STARD statutes) serve a corpus without questions.
Decisions that need no threshold (an article number that does not exist, a law or place the index does not
hold, no words at all) are taken before the rule, in the Retriever.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ingest.words import has_cjk


@dataclass(frozen=True)
class Evidence:
    """What the rule sees about the best result of one search."""

    dense_top: float  # best dense cosine
    coverage: float  # share of the question's content in the best article; NaN across scripts
    background: float = math.inf  # dense_top minus the question's cosine to unrelated sentences


@dataclass(frozen=True)
class AbstainRule:
    # Calibrated on data/questions/dev.jsonl (see eval/calibrate.py).
    dense_floor: float = 0.88  # below this nothing is close enough, whatever the words say
    dense_sure: float = 0.885  # at or above this the meaning match alone is enough
    min_coverage: float = 0.15  # between the two, this share of the question's content must appear
    cross_lingual_floor: float = 0.765  # a question in another script than the articles: dense alone decides
    background_floor: float = -1.0  # below this background margin a same-script question is junk (off by default)
    cross_background_floor: float = -1.0  # the same for a question in another script

    def abstain(self, e: Evidence) -> bool:
        if math.isnan(e.coverage):
            return e.dense_top < self.cross_lingual_floor or e.background < self.cross_background_floor
        if e.dense_top < self.dense_floor or e.background < self.background_floor:
            return True
        if e.dense_top >= self.dense_sure:
            return False
        return e.coverage < self.min_coverage


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
