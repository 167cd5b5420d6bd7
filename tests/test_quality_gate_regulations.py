"""CI quality gate on the product's own corpus: the test split of the question set over the two regulations.

Runs what `python -m eval run --questions data/questions/test.jsonl --mode hybrid` runs, on the index that
`make run` serves, calibrated on the development split (tests/conftest.py `real_index`). The test split is
never tuned on. Measured when the bars were set (115 questions: 89 answerable, 26 unanswerable or junk):
recall@5 0.964, mrr@10 0.947, abstained on 25 of 26 (0.962), falsely abstained on 2 of 89 (0.022).
Retrieval is deterministic for a given index and model; the bars sit one question below each figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import evaluate_file
from tests.conftest import QUESTIONS

TEST_SPLIT = QUESTIONS / "test.jsonl"
MIN_RECALL_AT_5 = 0.95
MIN_MRR_AT_10 = 0.93
MIN_ABSTAIN_ACCURACY = 0.92  # 24 of 26
MAX_FALSE_ABSTAIN_RATE = 0.034  # 3 of 89

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hybrid(real_index: Path) -> dict:
    return evaluate_file(real_index, TEST_SPLIT, ("hybrid",), progress=False)["hybrid"].summary


def test_ranking_keeps_its_bars(hybrid):
    assert hybrid["questions"] >= 110
    assert hybrid["recall@5"] >= MIN_RECALL_AT_5, hybrid
    assert hybrid["mrr@10"] >= MIN_MRR_AT_10, hybrid


def test_unanswerable_and_junk_questions_are_abstained_on(hybrid):
    assert hybrid["abstain_accuracy"] >= MIN_ABSTAIN_ACCURACY, hybrid
    assert hybrid["by_type"]["junk"]["abstain_accuracy"] == 1.0, hybrid["by_type"]["junk"]


def test_answerable_questions_are_rarely_abstained_on(hybrid):
    assert hybrid["false_abstain_rate"] <= MAX_FALSE_ABSTAIN_RATE, hybrid


def test_article_references_are_found_first(hybrid):
    ref = hybrid["by_type"]["reference"]
    assert ref["mrr@10"] == 1.0 and ref["recall@5"] == 1.0, ref
