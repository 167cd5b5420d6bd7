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


def test_error_messages_name_the_article_and_the_one_before():
    with pytest.raises(ParseError) as caught:
        parse_regulation("某某条例\n第一条　甲。\n第一条之一　乙。\n第一条之一　丙。")
    assert str(caught.value) == "duplicate article number 第一条之一 (after 第一条之一)"
    with pytest.raises(ParseError) as caught:
        parse_regulation("某某条例\n第一条　甲。\n第三条　乙。\n第二条　丙。")
    assert str(caught.value) == "out-of-order article number 第二条 (after 第三条)"
    with pytest.raises(ParseError) as caught:
        parse_regulation("某某条例\n第一条　甲。\n第二条\n第三条　丙。")
    assert str(caught.value) == "第二条 has no text"


def test_lines_are_trimmed_of_every_kind_of_space_and_a_label_may_stand_alone():
    parsed = parse_regulation("\u3000某某条例 \n\u00a0第一条\t\n\u3000\u3000甲乙。\u3000\n第二条　丙丁。")
    assert parsed.title == "某某条例"
    assert [(a.label, a.text) for a in parsed.articles] == [("第一条", "甲乙。"), ("第二条", "丙丁。")]


def test_a_table_of_contents_with_sections_and_a_chapter_without_a_title():
    text = ("某某办法\n目　录\n第一章　总　　则\n第二章\n第一章　总　　则\n第一节　一般规定\n第一条　甲。\n"
            "第二章\n第二条　乙。\n第三章　空章\n")
    parsed = parse_regulation(text)
    assert parsed.chapters == ["第一章 总则", "第二章"]  # the TOC is no chapter list; a chapter with no article drops
    assert [(a.label, a.chapter, a.text) for a in parsed.articles] == [("第一条", "第一章 总则", "甲。"),
                                                                       ("第二条", "第二章", "乙。")]
    assert parsed.preamble == ""


def test_a_toc_that_ends_at_the_first_article_records_its_chapter():
    parsed = parse_regulation("某某条例\n目录\n第一章　总则\n第一条　甲。")
    assert parsed.chapters == ["第一章 总则"] and parsed.articles[0].chapter == "第一章 总则"


def test_the_preamble_is_the_lines_before_the_first_article_but_the_title():
    parsed = parse_regulation("某某条例\n（2020年1月2日通过）\n\n说明一\n第一条　甲。\n第二条　乙。\n第三条　丙。\n"
                              "第四条　本条例自2021年3月4日起施行。")
    assert parsed.title == "某某条例"
    assert parsed.preamble == "（2020年1月2日通过）\n说明一"
    assert (parsed.adopted, parsed.effective) == ("2020-01-02", "2021-03-04")


def test_dates_are_read_from_the_last_three_articles_only():
    parsed = parse_regulation("某某条例\n第一条　本条例自2020年1月1日起施行。\n第二条　乙。\n第三条　丙。\n"
                              "第四条　丁。")
    assert parsed.effective is None


def test_the_title_is_the_first_line_that_reads_like_one_before_the_first_heading():
    assert parse_regulation("说明\n《某某规定》\n第一条　甲。").title == "某某规定"
    assert parse_regulation("说明\n第一条　某某规定。").title == "说明"  # no title line: the first line
    long_name = "某" * 59 + "条例"  # 61 characters: too long for a title
    assert parse_regulation(f"说明\n{long_name}\n第一条　甲。").title == "说明"
    assert parse_regulation(f"说明\n{long_name[2:]}\n第一条　甲。").title == long_name[2:]  # 59: a title
    assert parse_regulation("\n".join(["说明"] * 30 + ["某某条例", "第一条　甲。"])).title == "说明"  # first 30 lines


def test_join_lines_spaces_latin_words_only():
    assert join_lines(["推行ISO", "9001等标准。"])[0] == "推行ISO 9001等标准。"
    assert join_lines(["推行ISO", "等标准。"])[0] == "推行ISO等标准。"
    assert join_lines(["质量", "9001。"])[0] == "质量9001。"
    assert join_lines(["版本a.", "b版。"])[0] == "版本a.b版。"
    assert join_lines(["AB", "c。"])[0] == "AB c。" and join_lines(["A", "BC。"])[0] == "A BC。"


def test_items_stay_in_their_paragraph_and_spans_cover_each_paragraph():
    text, spans = join_lines(["第一款：", "（一）甲；", "（二）乙。", "第二款。", "第三款。"])
    assert text == "第一款：\n（一）甲；\n（二）乙。\n第二款。\n第三款。"
    assert [text[s:e] for s, e in spans] == ["第一款：\n（一）甲；\n（二）乙。", "第二款。", "第三款。"]
    assert join_lines([]) == ("", [])


def test_chapters_without_a_table_of_contents_and_lines_a_toc_skips():
    assert parse_regulation("某某条例\n第一章　总则\n第一条　甲。").chapters == ["第一章 总则"]
    parsed = parse_regulation("某某条例\n目录\n第一章　总则\n附　录\n第一章　总则\n第一条　甲，\n乙。")
    assert parsed.preamble == "" and parsed.articles[0].text == "甲，乙。"  # TOC lines skipped, body lines kept


def test_title_fallbacks():
    assert parse_regulation("\n说明\n第一条　甲。").title == "说明"  # a blank line is no candidate
    assert parse_regulation("《说明》\n第一条　甲。").title == "说明"
    assert parse_regulation("说明\n第一条　甲。\n某某规定").title == "说明"  # nothing after the first heading
    sixty = "某" * 58 + "条例"
    assert parse_regulation(f"说明\n{sixty}\n第一条　甲。").title == sixty
    assert parse_regulation("\n\n").title == ""
