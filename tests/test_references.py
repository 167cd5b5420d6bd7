"""Article references in questions (retrieval/references.py, through the shared citation matcher), without an
index: regulations are given as records."""

from __future__ import annotations

import pytest

from ingest.schema import Regulation
from retrieval.references import Reference, find_reference, name_table

NAMES = name_table((
    Regulation("impl", "劳动合同法实施条例"),
    Regulation("law", "劳动合同法"),
    Regulation("hubei", "湖北省质量促进条例", short_names=("湖北条例",), region="湖北省"),
    Regulation("hangzhou", "杭州市质量促进办法", short_names=("杭州办法",), english_names=("Hangzhou measures",),
               region="杭州市"),
))


@pytest.mark.parametrize(("question", "expected"), [
    ("劳动合同法实施条例第十条", Reference(("impl",), 10, 0)),  # the longest name wins over the one inside it
    ("劳动合同法第十条", Reference(("law",), 10, 0)),
    ("湖北条例和杭州办法第五条", Reference(("hangzhou", "hubei"), 5, 0)),  # the cited one first, both kept
    ("第一千一百六十五条", Reference((), 1165, 0)),
    ("民法典第一千一百六十五条", Reference((), 1165, 0, unknown="民法典")),  # a law the index does not hold
    ("第十条之一规定了什么", Reference((), 10, 1)),
    ("杭州办法第 12 条", Reference(("hangzhou",), 12, 0)),
    ("Article 12 of the Hangzhou measures", Reference(("hangzhou",), 12, 0)),
    ("湖北条例怎么规定质量奖", Reference(("hubei",), None, 0)),  # a regulation without an article number
])
def test_references_found(question: str, expected: Reference):
    assert find_reference(question, NAMES) == expected


def test_no_reference_in_an_ordinary_question():
    assert find_reference("企业要不要配专门管质量的人", NAMES) is None


def test_an_unknown_regulations_article_keeps_its_sub_number():
    assert find_reference("民法典第十条之一", NAMES) == Reference((), 10, 1, unknown="民法典")
