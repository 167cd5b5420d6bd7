"""The citation finder (retrieval/citations.py) on short texts, without an index: which regulation each
citation names, the article, 款/项, ranges, and the quotation that belongs to it, as exact records. The checker
built on it is tested on the real regulation texts in tests/test_citations.py."""

from __future__ import annotations

import pytest

from ingest.schema import Regulation
from retrieval.citations import Citation, find_citations, name_table

NAMES = name_table((
    Regulation("hubei", "湖北省质量促进条例", short_names=("湖北条例",), region="湖北省",
               english_names=("Hubei Provincial Regulations on Quality Promotion", "Hubei regulation")),
    Regulation("hangzhou", "杭州市质量促进办法", short_names=("杭州办法",), english_names=("Hangzhou measures",),
               region="杭州市"),
    Regulation("pq", "中华人民共和国产品质量法", short_names=("产品质量法",)),
))


def _record(c: Citation) -> tuple:
    """(as written, name as written, regulation ids, number, 之N, 款, 项, range end, (quote, start, end), inherited)"""
    q = (c.quote.text, c.quote.start, c.quote.end) if c.quote else None
    return (c.cited, c.name, c.regulation_ids, c.number, c.sub_number, c.paragraph, c.item, c.last, q, c.inherited)


@pytest.mark.parametrize(("text", "expected"), [
    ('“鼓励企业”（《杭州办法》第十二条）', [
        ('《杭州办法》第十二条', '《杭州办法》', ('hangzhou',), 12, 0, None, None, None, ('鼓励企业', 1, 5), False),
    ]),
    ('「甲「乙」丙」（杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲「乙」丙', 1, 6), False),
    ]),
    ('"甲" (杭州办法第十二条)', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 1, 2), False),
    ]),
    ('“甲”  [杭州办法第十二条]', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 1, 2), False),
    ]),
    ('“甲” （ 杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 1, 2), False),
    ]),
    ('“外“内”外”（杭州办法第三条）', [
        ('杭州办法第三条', '杭州办法', ('hangzhou',), 3, 0, None, None, None, ('外“内”外', 1, 6), False),
    ]),
    ('甲”（杭州办法第三条）', [
        ('杭州办法第三条', '杭州办法', ('hangzhou',), 3, 0, None, None, None, None, False),
    ]),
    ('”（杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('“甲”（（杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('杭州办法第一条规定：“甲”。“乙”（杭州办法第二条）', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲', 11, 12), False),
        ('杭州办法第二条', '杭州办法', ('hangzhou',), 2, 0, None, None, None, ('乙', 15, 16), False),
    ]),
    ('杭州办法第一条“甲”（杭州办法第二条）', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲', 8, 9), False),
        ('杭州办法第二条', '杭州办法', ('hangzhou',), 2, 0, None, None, None, None, False),
    ]),
    ('杭州办法第十二条规定：鼓励企业实施制度。下一句', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('鼓励企业实施制度', 11, 19), False),
    ]),
    ('杭州办法第十二条指出, 甲乙', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('湖北条例的第十条', [
        ('湖北条例的第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ('湖北条例 第十条', [
        ('湖北条例 第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ('湖北条例第五条、第六条', [
        ('湖北条例第五条', '湖北条例', ('hubei',), 5, 0, None, None, None, None, False),
        ('第六条', '湖北条例', ('hubei',), 6, 0, None, None, None, None, True),
    ]),
    ('湖北条例第五条\n第六条', [
        ('湖北条例第五条', '湖北条例', ('hubei',), 5, 0, None, None, None, None, False),
        ('第六条', None, (), 6, 0, None, None, None, None, False),
    ]),
    ('湖北条例第五条，杭州办法第六条，本条例第七条', [
        ('湖北条例第五条', '湖北条例', ('hubei',), 5, 0, None, None, None, None, False),
        ('杭州办法第六条', '杭州办法', ('hangzhou',), 6, 0, None, None, None, None, False),
        ('本条例第七条', '湖北条例', ('hubei',), 7, 0, None, None, None, None, True),
    ]),
    ('湖北条例第五条，杭州办法第六条，本办法第七条', [
        ('湖北条例第五条', '湖北条例', ('hubei',), 5, 0, None, None, None, None, False),
        ('杭州办法第六条', '杭州办法', ('hangzhou',), 6, 0, None, None, None, None, False),
        ('本办法第七条', '杭州办法', ('hangzhou',), 7, 0, None, None, None, None, True),
    ]),
    ('违反本条例第五条', [
        ('本条例第五条', None, (), 5, 0, None, None, None, None, False),
    ]),
    ('中华人民共和国产品质量法第十条', [
        ('中华人民共和国产品质量法第十条', '中华人民共和国产品质量法', ('pq',), 10, 0, None, None, None, None, False),
    ]),
    ('产品质量法第五条', [
        ('产品质量法第五条', '产品质量法', ('pq',), 5, 0, None, None, None, None, False),
    ]),
    ('根据食品安全法第十条', [
        ('食品安全法第十条', '食品安全法', (), 10, 0, None, None, None, None, False),
    ]),
    ('依照民法典第十条', [
        ('民法典第十条', '民法典', (), 10, 0, None, None, None, None, False),
    ]),
    ('中华人民共和国民法典第五条', [
        ('中华人民共和国民法典第五条', '中华人民共和国民法典', (), 5, 0, None, None, None, None, False),
    ]),
    ('关于质量的杭州办法第二条', [
        ('杭州办法第二条', '杭州办法', ('hangzhou',), 2, 0, None, None, None, None, False),
    ]),
    ('湖北条例第三条至第五条', [
        ('湖北条例第三条至第五条', '湖北条例', ('hubei',), 3, 0, None, None, (5, 0), None, False),
    ]),
    ('湖北条例第五条至第三条', [
        ('湖北条例第五条至第三条', '湖北条例', ('hubei',), 5, 0, None, None, None, None, False),
    ]),
    ('湖北条例第十条第二款第三项', [
        ('湖北条例第十条第二款第三项', '湖北条例', ('hubei',), 10, 0, 2, 3, None, None, False),
    ]),
    ('湖北条例第十条之一', [
        ('湖北条例第十条之一', '湖北条例', ('hubei',), 10, 1, None, None, None, None, False),
    ]),
    ('Article 7 of the Hubei regulation', [
        ('Article 7 of the Hubei regulation', 'Hubei regulation', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ("the Hubei regulation's Article 8", [
        ("Hubei regulation's Article 8", 'Hubei regulation', ('hubei',), 8, 0, None, None, None, None, False),
    ]),
    ('Hubei regulation, Article 7', [
        ('Hubei regulation, Article 7', 'Hubei regulation', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('Article 9 under Hangzhou measures', [
        ('Article 9 under Hangzhou measures', 'Hangzhou measures', ('hangzhou',), 9,
         0, None, None, None, None, False),
    ]),
    ('Art. 10(2) of the Hangzhou measures', [
        ('Art. 10(2) of the Hangzhou measures', 'Hangzhou measures', ('hangzhou',), 10,
         0, 2, None, None, None, False),
    ]),
    ('Articles 3 to 5 of the Hubei regulation', [
        ('Articles 3 to 5 of the Hubei regulation', 'Hubei regulation', ('hubei',), 3,
         0, None, None, (5, 0), None, False),
    ]),
    ('Article 5 of the Product Quality Law', [
        ('Article 5 of the Product Quality Law', 'Product Quality Law', (), 5, 0, None, None, None, None, False),
    ]),
    ('Article 5 of Hangzhou', [
        ('Article 5', None, (), 5, 0, None, None, None, None, False),
    ]),

    ('杭州办法第十二条“甲乙', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('杭州办法第十二条"甲乙', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('杭州办法第十二条「甲「乙」丙', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, None, False),
    ]),
    ('杭州办法第十二条「甲」乙」', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 9, 10), False),
    ]),
    ('“甲”（   杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 1, 2), False),
    ]),
    ('“甲”（  杭州办法第十二条）', [
        ('杭州办法第十二条', '杭州办法', ('hangzhou',), 12, 0, None, None, None, ('甲', 1, 2), False),
    ]),
    ('湖北条例   第十条', [
        ('湖北条例   第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ('湖北条例  第十条', [
        ('湖北条例  第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ('湖北条例 的 第十条', [
        ('湖北条例 的 第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ('湖北条例的  第十条', [
        ('湖北条例的  第十条', '湖北条例', ('hubei',), 10, 0, None, None, None, None, False),
    ]),
    ("Article 7 of Hubei's regulation", [
        ("Article 7 of Hubei's regulation", "Hubei's regulation", ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('Article 7 of the Hubei regulations', [
        ('Article 7 of the Hubei regulations', 'Hubei regulations', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('Article 7 of the Hubei regulationx', [
        ('Article 7', None, (), 7, 0, None, None, None, None, False),
    ]),
    ('xHubei regulation, Article 7', [
        ('Article 7', None, (), 7, 0, None, None, None, None, False),
    ]),
    ('Hubei regulation Article 7', [
        ('Hubei regulation Article 7', 'Hubei regulation', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('第两条', [
        ('第两条', None, (), 2, 0, None, None, None, None, False),
    ]),
    ('第一十条', [
        ('第一十条', None, (), 10, 0, None, None, None, None, False),
    ]),
    ('第9999条', [
        ('第9999条', None, (), 9999, 0, None, None, None, None, False),
    ]),
    ('杭州办法第一条、湖北条例第二条、第三条', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, None, False),
        ('湖北条例第二条', '湖北条例', ('hubei',), 2, 0, None, None, None, None, False),
        ('第三条', '湖北条例', ('hubei',), 3, 0, None, None, None, None, True),
    ]),
    ('湖北条例\n第三条', [
        ('第三条', None, (), 3, 0, None, None, None, None, False),
    ]),
    ('湖北条例第一条\n杭州办法第二条、第三条', [
        ('湖北条例第一条', '湖北条例', ('hubei',), 1, 0, None, None, None, None, False),
        ('杭州办法第二条', '杭州办法', ('hangzhou',), 2, 0, None, None, None, None, False),
        ('第三条', '杭州办法', ('hangzhou',), 3, 0, None, None, None, None, True),
    ]),
    ('杭州办法第一条：甲乙', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲乙', 8, 10), False),
    ]),
    ('杭州办法第一条：   ', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, None, False),
    ]),
    ('杭州办法第一条：甲乙 Hubei regulation, Article 7', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲乙 ', 8, 11), False),
        ('Hubei regulation, Article 7', 'Hubei regulation', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('杭州办法第一条：甲乙 Article 7 of the Hubei regulation', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲乙 ', 8, 11), False),
        ('Article 7 of the Hubei regulation', 'Hubei regulation', ('hubei',), 7, 0, None, None, None, None, False),
    ]),
    ('杭州办法第一条：甲乙湖北条例第二条', [
        ('杭州办法第一条', '杭州办法', ('hangzhou',), 1, 0, None, None, None, ('甲乙', 8, 10), False),
        ('湖北条例第二条', '湖北条例', ('hubei',), 2, 0, None, None, None, None, False),
    ]),
    ('Article 3 of the Hangzhou measures and the quality regulation', [
        ('Article 3 of the Hangzhou measures', 'Hangzhou measures', ('hangzhou',), 3,
         0, None, None, None, None, False),
    ]),
    ('Article 3 of the quality promotion regulation', [
        ('Article 3 of the quality promotion regulation', 'quality promotion regulation', ('hubei',), 3,
         0, None, None, None, None, False),
    ]),
    ('Article 3 of the quality regulation', [
        ('Article 3 of the quality regulation', 'quality regulation', ('hubei',), 3,
         0, None, None, None, None, False),
    ]),

])
def test_citations_found(text: str, expected: list[tuple]):
    assert [_record(c) for c in find_citations(text, NAMES)] == expected


def test_names_with_and_without_the_national_prefix_and_two_character_names():
    names = name_table((Regulation("xf", "宪法"), Regulation("mfd", "民法典"),
                        Regulation("bzh", "中华人民共和国标准化法")))
    found = [(c.cited, c.regulation_ids) for c in
             find_citations("宪法第五条；中华人民共和国民法典第十条；标准化法第三条", names)]
    assert found == [("宪法第五条", ("xf",)), ("民法典第十条", ("mfd",)), ("标准化法第三条", ("bzh",))]


@pytest.mark.parametrize(("after", "quote"), [
    ('"甲"乙"', "甲"),  # straight quotes: the first closing one
    ("“”甲”", None),  # an empty quotation is none
    ("「「甲」」", "「甲」"),  # nested pairs, closed one after the other
    ("「甲「乙」丙」丁」", "甲「乙」丙"),
])
def test_the_quotation_after_a_citation_ends_at_its_own_closing_mark(after: str, quote: str | None):
    [c] = find_citations(f"杭州办法第十二条{after}", NAMES)
    assert (c.quote.text if c.quote else None) == quote


def test_a_quotation_is_at_most_5000_characters():
    from retrieval.citations import MAX_QUOTE

    [c] = find_citations(f"杭州办法第十二条“{'甲' * (MAX_QUOTE - 1)}”", NAMES)
    assert c.quote is not None and len(c.quote.text) == MAX_QUOTE - 1
    [c] = find_citations(f"杭州办法第十二条“{'甲' * MAX_QUOTE}”", NAMES)
    assert c.quote is None
