"""Article references in questions (retrieval/references.py), without an index."""

from __future__ import annotations

import pytest

from retrieval.references import Reference, find_reference

NAMES = (("impl", ("劳动合同法实施条例",)), ("law", ("劳动合同法",)), ("hubei", ("湖北条例",)),
         ("hangzhou", ("杭州办法",)))


@pytest.mark.parametrize(("question", "expected"), [
    ("劳动合同法实施条例第十条", Reference(("impl",), 10, 0)),  # the longest name wins over the one inside it
    ("劳动合同法第十条", Reference(("law",), 10, 0)),
    ("湖北条例和杭州办法第五条", Reference(("hubei", "hangzhou"), 5, 0)),  # names side by side: both, in order
    ("民法典第一千一百六十五条", Reference((), 1165, 0)),
    ("第十条之一规定了什么", Reference((), 10, 1)),
    ("杭州办法第 12 条", Reference(("hangzhou",), 12, 0)),
    ("Article 12 of the Hangzhou measures", Reference((), 12, 0)),
    ("湖北条例怎么规定质量奖", Reference(("hubei",), None, 0)),  # a regulation without an article number
])
def test_references_found(question: str, expected: Reference):
    assert find_reference(question, NAMES) == expected


def test_no_reference_in_an_ordinary_question():
    assert find_reference("企业要不要配专门管质量的人", NAMES) is None
