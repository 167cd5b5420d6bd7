"""Junk gets "no answer" on the real index in every mode, while real questions in English still get their article
(the bundled model; the index calibrated on the development questions, as `make run` serves it)."""

from __future__ import annotations

import pytest

from ingest.errors import QueryError
from retrieval.settings import MODES

pytestmark = pytest.mark.integration

JUNK = [
    "' OR 1=1; DROP TABLE articles;--",
    "<script>alert(1)</script>",
    "%s%s%n",
    "asdfghjkl",
    "Article 999 of the Hangzhou measures",
    "第〇条",
    "上海的质量奖怎么申请",
    "产品质量法规定了什么",
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question", JUNK)
def test_junk_abstains_in_every_mode(retriever, mode: str, question: str):
    response = retriever.search(question, k=3, mode=mode)
    assert response.abstained, [r.citation for r in response.results]


@pytest.mark.parametrize("mode", MODES)
def test_emoji_only_is_refused_with_a_clear_message(retriever, mode: str):
    with pytest.raises(QueryError, match="please type a question"):
        retriever.search("😀🔥👍", mode=mode)


def test_an_article_past_the_end_names_the_article_count(retriever):
    response = retriever.search("Article 999 of the Hangzhou measures")
    assert response.message == "没有第999条（《杭州市质量促进办法》共 27 条）· no such article"


@pytest.mark.parametrize(("question", "citation"), [
    ("When does the Hangzhou measure take effect?", "《杭州市质量促进办法》第二十七条"),
    ("When did the Hubei regulation come into force?", "《湖北省质量促进条例》第四十九条（第七章 附则）"),
    ("Article 12 of the Hangzhou measures", "《杭州市质量促进办法》第十二条"),
])
@pytest.mark.parametrize("mode", ["hybrid", "dense"])
def test_real_english_questions_still_answer(retriever, mode: str, question: str, citation: str):
    response = retriever.search(question, k=5, mode=mode)
    assert not response.abstained and response.results[0].citation == citation
