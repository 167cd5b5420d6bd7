"""Metrics on cases small enough to compute by hand (ranx does the arithmetic; these pin what we feed it)."""

from __future__ import annotations

import math

import pytest

from eval.metrics import (
    abstain_metrics,
    gold_ranks,
    latency,
    per_question,
    qrels_from,
    ranking_metrics,
    recall_curve,
    run_from,
)

QRELS = qrels_from({"q1": ["a", "b"], "q2": ["c"], "q3": ["d"], "unanswerable": []})
RUN = run_from({"q1": ["a", "x", "b"], "q2": ["y", "c"], "q3": [], "unanswerable": ["a"]})


def test_qrels_leave_out_questions_without_relevant_articles():
    assert QRELS == {"q1": {"a": 1, "b": 1}, "q2": {"c": 1}, "q3": {"d": 1}}


def test_run_scores_reproduce_the_returned_order_and_keep_the_first_of_a_duplicate():
    run = run_from({"q": ["b", "a", "b", "c"]})["q"]
    assert sorted(run, key=lambda d: -run[d]) == ["b", "a", "c"]
    assert run["b"] > run["a"] > run["c"]


def test_ranking_metrics_match_hand_computation():
    m = ranking_metrics(QRELS, RUN)
    # q1: a@1, b@3 of 2 relevant; q2: c@2 of 1; q3: nothing returned.
    assert m["recall@1"] == pytest.approx((0.5 + 0 + 0) / 3)
    assert m["recall@5"] == pytest.approx((1 + 1 + 0) / 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["mrr@10"] == pytest.approx((1 + 0.5 + 0) / 3)
    ndcg_q1 = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3))
    ndcg_q2 = (1 / math.log2(3)) / 1
    assert m["ndcg@10"] == pytest.approx((ndcg_q1 + ndcg_q2 + 0) / 3)


def test_a_question_missing_from_the_run_counts_as_a_miss():
    m = ranking_metrics({"q": {"a": 1}}, {})
    assert m["recall@10"] == 0.0 and m["mrr@10"] == 0.0


def test_rank_beyond_cutoff_does_not_count():
    ranked = [f"x{i}" for i in range(10)] + ["a"]  # gold at rank 11
    m = ranking_metrics({"q": {"a": 1}}, run_from({"q": ranked}))
    assert m["recall@10"] == 0.0 and m["mrr@10"] == 0.0


def test_no_answerable_question_gives_none_not_zero():
    metrics = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
    assert ranking_metrics({}, RUN) == dict.fromkeys(metrics)


def test_per_question_values_average_to_the_mean():
    pq = per_question(QRELS, RUN)
    assert pq["q1"]["recall@1"] == 0.5 and pq["q2"]["mrr@10"] == 0.5 and pq["q3"]["recall@10"] == 0.0
    mean = ranking_metrics(QRELS, RUN)
    assert sum(v["mrr@10"] for v in pq.values()) / 3 == pytest.approx(mean["mrr@10"])


def test_recall_curve_rises_with_k():
    curve = recall_curve(QRELS, RUN, max_k=3)
    assert curve == pytest.approx([0.5 / 3, 1.5 / 3, 2 / 3])


def test_gold_ranks_are_one_based_and_none_when_missing():
    assert gold_ranks(["a", "b", "z"], ["x", "a", "b"]) == {"a": 2, "b": 3, "z": None}


def test_abstain_metrics():
    answerable = {"u1": False, "u2": False, "u3": False, "u4": False, "a1": True, "a2": True}
    abstained = {"u1": True, "u2": True, "u3": True, "u4": False, "a1": True, "a2": False}
    m = abstain_metrics(abstained, answerable)
    assert m["abstain_accuracy"] == pytest.approx(0.75)
    assert m["false_abstain_rate"] == pytest.approx(0.5)


def test_abstain_metrics_without_unanswerable_questions_are_none():
    m = abstain_metrics({"a": False}, {"a": True})
    assert m["abstain_accuracy"] is None and m["false_abstain_rate"] == 0.0


def test_latency_percentiles():
    m = latency([10.0, 20.0, 30.0, 40.0])
    assert m["latency_p50_ms"] == pytest.approx(25.0)
    assert m["latency_p95_ms"] == pytest.approx(38.5)
    assert latency([]) == {"latency_p50_ms": None, "latency_p95_ms": None}


def test_per_question_values_belong_to_their_question_whatever_the_id_order():
    pq = per_question(qrels_from({"z": ["a"], "b": ["b"]}), run_from({"z": ["a"], "b": ["x"]}))
    assert pq["z"]["recall@1"] == 1.0 and pq["b"]["recall@1"] == 0.0


def test_a_deep_run_reports_recall_at_50_and_only_when_it_returned_that_many():
    """STARD is reported at R@50: a run of 50 articles measures it, a run of 10 cannot and does not claim it."""
    from eval.questions import Gold, Question
    from eval.runner import QuestionRun, summarise

    gold = Gold("法", "第一条")
    filler = [f"法 第{n}条" for n in range(100, 130)]  # 30 wrong articles before the right one
    runs = [QuestionRun(Question("q", "问", (gold,)), (*filler, gold.doc_id), (), False, 1.0)]
    deep = summarise("hybrid", runs, k=50).summary
    assert deep["recall@10"] == 0.0 and deep["recall@20"] == 0.0 and deep["recall@50"] == 1.0
    shallow = summarise("hybrid", runs).summary
    assert "recall@50" not in shallow and "recall@20" not in shallow
