"""CI quality gate for issue 21's hard questions, on the real model and the real index (calibrated on dev).

- data/questions/hard.jsonl, test part (split_of within the file): English written afresh from the texts must
  find its article (MRR@10 ≥ 0.90, R@5 ≥ 0.95); questions the articles touch but do not answer, and questions
  that presume what no article says, must be answered "related" with the articles shown (≥ 80 %).
- data/questions/test.jsonl: an answerable question is almost never called "related" (≤ 3 %).
- data/questions/conversations.jsonl, test part of the new kinds (English follow-ups, a topic changed
  mid-conversation, 那杭州呢 after an everyday question): a gold article in the top 3 (≥ 95 %).

Measured when the bars were set (hybrid): English MRR@10 0.944, R@5 1.000 (9 questions); related on 8 of 9
(the miss: 直接评定高级职称, a claim no rule of form can name); 0 of 89 answerable test questions called related;
the new conversations 6 of 6 with a gold article first. The bars are the issue's; they sit at or below each figure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.runner import evaluate_file
from tests.conftest import QUESTIONS

HARD = QUESTIONS / "hard.jsonl"
CONVERSATIONS = QUESTIONS / "conversations.jsonl"
MIN_ENGLISH_MRR_AT_10 = 0.90
MIN_ENGLISH_RECALL_AT_5 = 0.95
MIN_RELATED_ACCURACY = 0.80
MAX_FALSE_RELATED_RATE = 0.03
MIN_FOLLOWUP_TOP3 = 0.95
NEW_CONVERSATION_TYPES = ("english_followup", "topic_change", "followup_new")

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def hard(real_index: Path):
    return evaluate_file(real_index, HARD, ("hybrid",), progress=False, part="test")["hybrid"]


def test_english_questions_find_their_articles(hard):
    english = hard.summary["by_type"]["english_new"]
    assert english["questions"] >= 8
    assert english["mrr@10"] >= MIN_ENGLISH_MRR_AT_10, english
    assert english["recall@5"] >= MIN_ENGLISH_RECALL_AT_5, english
    assert english["false_abstain_rate"] == 0.0, english


def test_touched_and_false_claim_questions_are_shown_as_related(hard):
    runs = [r for r in hard.runs if r.question.expects_related]
    assert len(runs) >= 8
    right = [r for r in runs if r.answer == "related" and not r.abstained]
    assert len(right) / len(runs) >= MIN_RELATED_ACCURACY, [(r.question.question, r.answer) for r in runs]
    # The articles stay visible: the gold article is among those shown.
    shown = [r for r in runs if set(r.returned[:5]) & {g.doc_id for g in r.question.relevant}]
    assert len(shown) == len(runs)


def test_answerable_questions_are_rarely_called_related(real_index: Path):
    summary = evaluate_file(real_index, QUESTIONS / "test.jsonl", ("hybrid",), progress=False)["hybrid"].summary
    assert summary["false_related_rate"] <= MAX_FALSE_RELATED_RATE, summary


def test_new_english_questions_are_not_called_related(hard):
    assert hard.summary["by_type"]["english_new"]["false_related_rate"] <= MAX_FALSE_RELATED_RATE


def test_new_follow_ups_find_a_gold_article_in_the_top_3(real_index: Path):
    result = evaluate_file(real_index, CONVERSATIONS, ("hybrid",), progress=False, part="test")["hybrid"]
    runs = [r for r in result.runs if r.question.type in NEW_CONVERSATION_TYPES]
    assert {r.question.type for r in runs} >= {"english_followup", "topic_change"}
    hits = [r for r in runs if set(r.returned[:3]) & {g.doc_id for g in r.question.relevant}]
    assert len(hits) / len(runs) >= MIN_FOLLOWUP_TOP3, [(r.question.question, r.understood) for r in runs]
    assert all(r.understood["merged"] for r in runs)  # each leans on its history
