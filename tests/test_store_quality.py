"""The two stores answer both question sets alike: the regulations' test split and the STARD test questions,
in every mode, through the same Retriever (fusion, references, abstain and highlight are the Retriever's).

Dense search is exact on both (FAISS Flat, Milvus FLAT), and Milvus's BM25 reads the same tokens as bm25s
(`ingest.words`, split at spaces by Milvus's whitespace analyzer) with the same formula, so what may differ is
float rounding and the order of chunks tied on a BM25 score at the candidates' cut-off. Measured when this
test was written: every question of both sets (115 and 471) returned the same articles in the same order with
the same abstain decision in every mode. With Milvus's own Chinese analyzer instead (`--milvus-analyzer
chinese`, jieba inside the engine) the tokens differ and so do the figures (README "Past one machine").
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.questions import Catalogue, read_questions
from eval.runner import MODES, evaluate_questions
from tests.conftest import QUESTIONS, STARD

pytestmark = [pytest.mark.integration, pytest.mark.slow]

METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "abstain_accuracy")
MIN_SAME = 0.99  # share of questions with the same articles, order and abstain decision
MAX_METRIC_GAP = 0.005


def _compare(faiss_dir: Path, milvus_dir: Path, questions_file: Path, minimum: int, every: int = 1) -> None:
    from retrieval.retriever import Retriever

    faiss = Retriever(faiss_dir)
    milvus = Retriever(milvus_dir, embedder=faiss.embedder)
    assert milvus.settings == faiss.settings  # calibrated alike: the stores are all that differs
    questions = read_questions(questions_file, Catalogue.from_index(faiss.index))[::every]
    assert len(questions) >= minimum
    a = evaluate_questions(faiss, questions, MODES, progress=False)
    b = evaluate_questions(milvus, questions, MODES, progress=False)
    for mode in MODES:
        same = sum(x.returned == y.returned and x.abstained == y.abstained
                   for x, y in zip(a[mode].runs, b[mode].runs, strict=True))
        assert same >= MIN_SAME * len(questions), (mode, same, len(questions))
        for m in METRICS:
            assert abs(a[mode].summary[m] - b[mode].summary[m]) <= MAX_METRIC_GAP, (mode, m, a[mode].summary,
                                                                                   b[mode].summary)


def test_the_regulations_test_split_is_answered_alike(real_index, milvus_index):
    _compare(real_index, milvus_index, QUESTIONS / "test.jsonl", 110)


# The whole STARD test set with REGQA_TEST_FULL (CI); a developer's run takes every fourth question.
@pytest.mark.parametrize("every, minimum", [pytest.param(4, 110, id="sample"),
                                            pytest.param(1, 450, id="all", marks=pytest.mark.full)])
def test_the_stard_test_questions_are_answered_alike(stard_index, milvus_stard_index, every, minimum):
    _compare(stard_index, milvus_stard_index, STARD / "test.jsonl", minimum, every)
