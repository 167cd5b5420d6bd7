"""The library's Markdown, read by the real parser from real files of the vendored snapshot: titles, parts,
history dates, chapters, verbatim articles, and the metadata the databases give (level, region, version)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.collect import Collection, collect, discover_sources
from ingest.markdown import parse_markdown
from tests.library_sample import (
    AMENDMENT,
    CASE,
    CATEGORY_PAGE,
    CONSTITUTION_AMENDMENT,
    DEPARTMENT_RULE,
    DUPLICATE_KEPT,
    DUPLICATE_SKIPPED,
    HANGZHOU_GAS,
    INTERPRETATION,
    METROLOGY_2018,
    METROLOGY_2022,
    PRODUCT_QUALITY,
    PROVINCE_PAGE,
    TEMPLATE,
    UNDATED,
    extract_sample,
)


@pytest.fixture(scope="session")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_sample(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="session")
def collected(library: Path) -> Collection:
    return collect(discover_sources([library]))


def _regulations(collected: Collection, title: str):
    return [r for r in collected.regulations if r.title == title]


def _articles(collected: Collection, reg_id: str):
    return [a for a in collected.articles if a.regulation_id == reg_id]


def test_a_national_law_title_history_chapters_and_verbatim_articles(library):
    text = (library / PRODUCT_QUALITY).read_text(encoding="utf-8")
    doc = parse_markdown(text)
    assert doc.title == "中华人民共和国产品质量法" and doc.part is None
    assert doc.adopted == "1993-02-22"
    assert [h.date for h in doc.history] == ["1993-02-22", "2000-07-08", "2018-12-29"]
    assert len(doc.articles) == 74 and doc.articles[0].label == "第一条" and doc.articles[-1].label == "第七十四条"
    assert doc.chapters[0] == "第一章 总则" and len(doc.chapters) == 6
    second = doc.articles[1]
    assert second.chapter == "第一章 总则"
    # Its three 款, verbatim, each a paragraph, as the file prints them.
    assert second.text == ("在中华人民共和国境内从事产品生产、销售活动，必须遵守本法。\n"
                           "本法所称产品是指经过加工、制作，用于销售的产品。\n"
                           "建设工程不适用本法规定；但是，建设工程使用的建筑材料、建筑构配件和设备，属于前款规定的产品范围的，适用本法规定。")
    assert [second.text[s:e] for s, e in second.paragraphs] == second.text.split("\n")
    for a in doc.articles:  # every article's text is in the file as printed (no heading, no history mixed in)
        for paragraph in a.text.split("\n"):
            assert paragraph in text
        assert "#" not in a.text and "INFO END" not in a.text


def test_the_civil_code_in_eight_files_is_one_regulation_numbered_through(collected):
    [code] = _regulations(collected, "中华人民共和国民法典")
    articles = _articles(collected, code.id)
    assert [a.number for a in articles] == list(range(1, 1261))
    assert code.level == "法律" and code.region is None and code.adopted == "2020-05-28"
    assert code.effective == "2021-01-01"
    assert code.source.split("; ")[0] == "民法典/总则.md" and len(code.source.split("; ")) == 8
    first_of_property = next(a for a in articles if a.number == 205)
    # The part names the chapter, so 物权编's 第一章 is not 总则's.
    assert first_of_property.citation == "《中华人民共和国民法典》第二百零五条（物权编 第一章 一般规定）"
    assert first_of_property.text == "本编调整因物的归属和利用产生的民事关系。"
    assert articles[0].chapter == "总则 第一章 基本规定"


def test_two_versions_of_one_regulation_are_both_kept_with_their_dates(collected):
    versions = _regulations(collected, "中华人民共和国计量法实施细则")
    assert sorted(r.version for r in versions) == ["2018-03-19", "2022-03-29"]
    assert len({r.id for r in versions}) == 2
    assert {r.source for r in versions} == {METROLOGY_2018, METROLOGY_2022}
    assert all(r.level == "行政法规" and len(_articles(collected, r.id)) == 60 for r in versions)


def test_documents_without_articles_duplicates_and_pages_are_named_with_their_reason(collected):
    reasons = {s.source: s.reason for s in collected.skipped}
    assert "amending law" in reasons[AMENDMENT]
    assert "court case" in reasons[CASE]
    assert "category page" in reasons[CATEGORY_PAGE] and "category page" in reasons[PROVINCE_PAGE]
    assert "template" in reasons[TEMPLATE]
    assert reasons[DUPLICATE_SKIPPED].startswith(f"a duplicate of {DUPLICATE_KEPT}")
    assert "the same text" in reasons[DUPLICATE_SKIPPED]
    assert len(_regulations(collected, "中华人民共和国反电信网络诈骗法")) == 1
    assert collected.documents == 23 and len(collected.skipped) == 6  # 25 files: 2 are databases
    assert len(collected.regulations) == collected.documents - len(collected.skipped) - 7  # 8 code files: one


def test_constitutional_amendments_written_as_articles_are_a_regulation(collected):
    [amendment] = _regulations(collected, "中华人民共和国宪法修正案（2018年）")
    assert amendment.source == CONSTITUTION_AMENDMENT
    assert [a.label for a in _articles(collected, amendment.id)][:2] == ["第三十二条", "第三十三条"]


def test_an_undated_file_is_a_regulation_without_a_version(collected):
    [constitution] = _regulations(collected, "中华人民共和国宪法")
    assert constitution.source == UNDATED and constitution.version is None
    assert constitution.level == "宪法" and constitution.adopted == "1982-12-04"
    assert len(_articles(collected, constitution.id)) == 143


def test_a_province_file_has_its_level_region_and_dates_from_the_province_database(collected):
    [gas] = _regulations(collected, "杭州市燃气管理条例")
    assert gas.source == HANGZHOU_GAS
    assert (gas.level, gas.region, gas.version) == ("地方性法规", "杭州市", "2021-12-03")
    assert gas.effective == "2022-01-01"
    assert len(_articles(collected, gas.id)) == 43


def test_interpretations_take_their_numbered_headings_as_chapters_and_rules_their_level(collected):
    [interp] = [r for r in collected.regulations if r.source == INTERPRETATION]
    assert interp.level == "司法解释" and interp.version == "2000-09-22"
    first = _articles(collected, interp.id)[0]
    assert first.citation.endswith("第一条（一、各类案件的审理、执行期限）")
    [rule] = [r for r in collected.regulations if r.source == DEPARTMENT_RULE]
    assert rule.level == "部门规章" and rule.region is None and rule.effective == "2015-03-15"


def test_a_national_law_has_no_region(collected):
    [law] = _regulations(collected, "中华人民共和国产品质量法")
    assert (law.level, law.region, law.version) == ("法律", None, "2018-12-29")
    assert law.short_names == ("产品质量法",)
