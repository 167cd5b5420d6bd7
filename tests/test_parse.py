"""The parser on regulation-formatted text: titles, chapters, articles, paragraphs, page breaks."""

from __future__ import annotations

import pytest

from ingest.parse import ParseError, join_lines, parse_regulation
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def sample():
    return parse_regulation((FIXTURES / "sample_regulation.txt").read_text(encoding="utf-8"))


def test_title_chapters_and_article_count(sample):
    assert sample.title == "示例省质量促进条例"
    assert sample.chapters == ["第一章 总则", "第二章 质量发展", "第三章 附则"]
    assert [a.label for a in sample.articles] == ["第一条", "第二条", "第三条", "第三条之一", "第四条", "第五条"]
    assert [(a.number, a.sub_number) for a in sample.articles] == [(1, 0), (2, 0), (3, 0), (3, 1), (4, 0), (5, 0)]


def test_table_of_contents_is_not_an_article_and_chapters_are_assigned(sample):
    assert sample.articles[0].chapter == "第一章 总则"
    assert sample.articles[2].chapter == "第二章 质量发展"
    assert sample.articles[-1].chapter == "第三章 附则"
    assert all("目" not in a.text[:2] for a in sample.articles)


def test_page_break_inside_a_sentence_is_repaired_and_english_words_kept(sample):
    third = sample.articles[2]
    assert third.text == "企业应当配备专职质量管理人员，建立健全质量管理体系，推行ISO 9001等先进标准。"
    assert "3" not in third.text.replace("9001", "")  # the page number line is not text


def test_paragraphs_and_items(sample):
    second = sample.articles[1]
    assert second.text == ("本条例适用于本省行政区域内的质量促进活动。\n"
                           "本条例所称质量，包括产品质量、工程质量和服务质量。")
    assert [second.text[s:e] for s, e in second.paragraphs] == [
        "本条例适用于本省行政区域内的质量促进活动。", "本条例所称质量，包括产品质量、工程质量和服务质量。"]
    items = sample.articles[3]
    assert items.text == "县级以上人民政府应当支持下列活动：\n（一）质量技术攻关；\n（二）品牌建设。"
    assert len(items.paragraphs) == 1  # items belong to the paragraph that introduces them


def test_a_line_starting_with_a_reference_is_not_a_heading(sample):
    assert sample.articles[4].text == "第三条规定的企业应当公开质量信息。"


def test_dates_stated_in_the_text(sample):
    assert sample.adopted == "2024-01-05"
    assert sample.effective == "2024-03-01"


def test_arabic_numerals_and_no_chapters():
    parsed = parse_regulation((FIXTURES / "sample_measure.txt").read_text(encoding="utf-8"))
    assert parsed.title == "示例市质量促进办法"
    assert [a.label for a in parsed.articles] == ["第1条", "第2条", "第3条"]
    assert [a.number for a in parsed.articles] == [1, 2, 3]
    assert parsed.chapters == [] and all(a.chapter is None for a in parsed.articles)
    assert parsed.effective == "2021-06-01"


@pytest.mark.parametrize("body, kind", [
    ("第一条　甲。\n第二条　乙。\n第二条　丙。", "duplicate"),
    ("第一条　甲。\n第三条　乙。\n第二条　丙。", "out-of-order"),
    ("第一条　甲。\n第一条之一　乙。\n第一条　丙。", "duplicate"),
])
def test_duplicate_or_out_of_order_numbers_are_refused(body, kind):
    with pytest.raises(ParseError, match=kind):
        parse_regulation("某某条例\n" + body)


def test_join_lines_joins_a_hard_wrap_and_keeps_paragraphs():
    text, spans = join_lines(["第一句没有结束", "", "这里结束。", "第二段。"])
    assert text == "第一句没有结束这里结束。\n第二段。"
    assert [text[s:e] for s, e in spans] == ["第一句没有结束这里结束。", "第二段。"]
