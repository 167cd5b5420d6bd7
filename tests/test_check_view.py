"""The check tab's HTML (retrieval/web/check_view.py) from the real checker on the real regulation texts:
marks in draft order with the verdict's colour, rows joined to marks, everything escaped."""

from __future__ import annotations

import re

import pytest

from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import check_citations
from retrieval.web import check_view
from retrieval.web.check_tab import EXAMPLE_DRAFT
from tests.conftest import REGULATIONS


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_sources([REGULATIONS])


def _render(text: str, catalogue: Catalogue) -> str:
    return check_view.report(text, check_citations(text, catalogue).to_json())


def _marks(page: str) -> list[tuple[str, str]]:
    """(classes, text without the number) of each citation mark, in order."""
    return [(cls, re.sub(r"<sup.*?</sup>", "", inner))
            for cls, inner in re.findall(r'<mark class="(regqa-ck-mark[^"]*)"[^>]*>(.*?)</mark>', page)]


def test_the_example_has_one_citation_of_each_verdict_coloured_in_order(catalogue) -> None:
    page = _render(EXAMPLE_DRAFT, catalogue)
    marks = _marks(page)
    assert [text for _, text in marks] == ["《湖北省质量促进条例》第三十七条", "《杭州市质量促进办法》第十二条",
                                           "《杭州市质量促进办法》第三十二条", "《浙江省质量促进条例》第二十条"]
    colours = [re.search(r"regqa-ck-(ok|warn|bad)\b", cls).group(1) for cls, _ in marks]
    assert colours == ["ok", "warn", "bad", "bad"]
    numbers = [re.search(r"regqa-ck-n(\d+)", cls).group(1) for cls, _ in marks]
    rows = re.findall(r'<div class="regqa-ck-row (regqa-ck-\w+) regqa-ck-n(\d+)">', page)
    assert rows == [("regqa-ck-ok", "1"), ("regqa-ck-warn", "2"), ("regqa-ck-bad", "3"), ("regqa-ck-bad", "4")]
    assert numbers == ["1", "2", "3", "4"]
    for verdict in ("条文存在 Article exists", "引文不符 Quote differs", "无此条文 No such article",
                    "未收录该法规 Unknown regulation"):
        assert verdict in page


def test_each_verdict_row_shows_what_the_index_holds(catalogue) -> None:
    page = _render(EXAMPLE_DRAFT, catalogue)
    rows = re.split(r'(?=<div class="regqa-ck-row )', page)[1:]
    found, differs, missing, unknown = rows
    assert "《湖北省质量促进条例》第三十七条（第五章 保障措施）" in found
    assert "县级以上人民政府应当支持企业推行首席质量官制度" in found  # the article, verbatim
    assert '<del class="regqa-ck-del">施</del><ins class="regqa-ck-ins">行</ins>' in differs
    assert "最接近的原文 Closest passage" in differs and "鼓励企业实" in differs
    assert "共 27 条" in missing and "27 articles" in missing
    assert "Did you mean" in missing and "《杭州市质量促进办法》第二十三条" in missing
    assert "索引中没有《浙江省质量促进条例》" in unknown


def test_markup_in_the_draft_and_in_quotations_is_shown_as_text(catalogue) -> None:
    draft = '<script>alert(1)</script>《杭州市质量促进办法》第十二条规定：“<img src=x onerror=alert(2)>鼓励”。' \
            '<b onclick="x()">湖北条例第九十九条</b>'
    page = _render(draft, catalogue)
    assert "<script" not in page and "<img" not in page and "<b " not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    assert [text for _, text in _marks(page)] == ["《杭州市质量促进办法》第十二条", "湖北条例第九十九条"]


def test_escaping_and_colours_on_made_up_reports() -> None:
    checked = {"citations": [
        {"cited": "A<1>", "verdict": "found", "message": "m&1", "start": 0, "end": 4, "citation": "《x》<b>",
         "text": "t\"<i>", "quote": None, "quote_found_at": None, "range": None, "did_you_mean": []},
        {"cited": "B", "verdict": "no_such_article", "message": "m", "start": 6, "end": 7, "title": "y<z>",
         "article_count": 3, "quote": None, "did_you_mean": ["<u>"]},
    ], "counts": {"found": 1, "no_such_article": 1}, "unattributed": [
        {"cited": "第七条", "start": 8, "end": 11, "message": "not checked"}]}
    page = check_view.report("A<1>, B 第七条", checked)
    assert "<b>" not in page and "<i>" not in page and "<u>" not in page and "<1>" not in page
    assert "A&lt;1&gt;" in page and "《x》&lt;b&gt;" in page and "m&amp;1" in page and "y&lt;z&gt;" in page
    assert [cls.split()[1] for cls, _ in _marks(page)] == ["regqa-ck-ok", "regqa-ck-bad", "regqa-ck-none"]
    assert "未核对 Not checked" in page


def test_overlapping_spans_keep_the_first_and_the_text_is_kept_whole() -> None:
    checked = {"citations": [
        {"cited": "abcd", "verdict": "found", "message": "", "start": 0, "end": 4},
        {"cited": "cdef", "verdict": "quote_differs", "message": "", "start": 2, "end": 6},
    ], "counts": {"found": 1, "quote_differs": 1}, "unattributed": []}
    draft = check_view.marked_draft("abcdefgh", checked["citations"])
    assert re.sub(r"<[^>]+>|\d", "", draft) == "abcdefgh"
    assert draft.count("<mark") == 1


def test_a_draft_without_citations_says_so(catalogue) -> None:
    page = _render("企业应当加强质量管理。", catalogue)
    assert "未发现引用 No article citations found" in page and "regqa-ck-row " not in page
