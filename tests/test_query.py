"""Cleaning a question before it is searched (retrieval/query.py): exact outputs and messages, no index."""

from __future__ import annotations

import pytest

from ingest.errors import QueryError
from retrieval.query import MAX_QUERY_CHARS, clean_query


@pytest.mark.parametrize(("raw", "clean"), [
    ("企业要配质量管理人员吗", "企业要配质量管理人员吗"),
    ("  企业\t\n质量  ", "企业 质量"),  # runs of whitespace become one space, ends trimmed
    ("企业\x00质量\x07管理\x1b[31m人员\x7f", "企业 质量 管理 [31m人员"),  # control characters become spaces
    ("企业\u200b质量\ufeff管理\u202e人员\u2060", "企业 质量 管理 人员"),  # zero-width and direction marks too
    ("\x85企业\x9f", "企业"),  # C1 controls
    ("企业\ud800质量\udfff管理", "企业质量管理"),  # lone surrogates are dropped
    ("企业\ud800", "企业"),  # the lowest and the highest surrogate on their own
    ("企业\udfff", "企业"),
    ("cafe\u0301", "café"),  # composed (NFC)
    ("a" * MAX_QUERY_CHARS, "a" * MAX_QUERY_CHARS),  # exactly the limit is accepted
    ("x1", "x1"),
])
def test_clean_questions(raw: str, clean: str):
    assert clean_query(raw) == clean


def test_an_over_long_question_is_refused_with_both_lengths():
    with pytest.raises(QueryError) as caught:
        clean_query("质" * (MAX_QUERY_CHARS + 1))
    assert str(caught.value) == (f"问题太长：最多 {MAX_QUERY_CHARS} 个字符，当前 {MAX_QUERY_CHARS + 1} 个 "
                                 f"(question too long: at most {MAX_QUERY_CHARS} characters)")
    assert clean_query("质量", max_chars=2) == "质量"
    with pytest.raises(QueryError, match="at most 2 characters"):
        clean_query("质量法", max_chars=2)


@pytest.mark.parametrize("raw", ["", " ", "\u3000", "\u200b\x00", "？！。，", "\ud83d", "😀🔥"])
def test_a_question_with_nothing_to_search_is_refused(raw: str):
    with pytest.raises(QueryError) as caught:
        clean_query(raw)
    assert str(caught.value) == "请输入问题，例如“企业要不要配专门管质量的人？” (please type a question)"


@pytest.mark.parametrize("raw", [None, 42, b"\xe4\xbc\x81", ["企业"]])
def test_a_question_that_is_not_text_is_refused(raw: object):
    with pytest.raises(QueryError) as caught:
        clean_query(raw)
    assert str(caught.value) == "请输入文字问题 (the question must be text)"
