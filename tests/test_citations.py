"""The citation checker on the real regulation texts (data/regulations, parsed by the real parser): every
citation form and every verdict, and the search's article lookup reading citations the same way."""

from __future__ import annotations

import json

import pytest

from ingest.errors import QueryError
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import VERDICTS, check_citations
from retrieval.citations import find_citations
from retrieval.references import find_reference
from tests.conftest import REGULATIONS

HUBEI, HANGZHOU = "湖北省质量促进条例", "杭州市质量促进办法"

DRAFT = """\
一、《杭州市质量促进办法》第十二条第二款规定：“市、区、县（市）人民政府应当引导和鼓励企业推行首席质量官制度”。
二、湖北条例第二十三条、第二十四条和杭州办法第１２条也有规定；《湖北省质量促进条例》第十条至第十二条规定了标准化工作，\
质量促进条例第3条则规定了工作机制。
三、湖北省质量促进条例第四十九条规定：“本条例自2024年11月1日起施行。”该条例第六条同样适用。
四、《中华人民共和国产品质量法》第十条明确：“任何单位和个人有权对违反本法规定的行为，向市场监督管理部门检举。”
五、杭州办法第三十条；湖北条例第十条之一；杭州办法第十二条第三款。
六、《杭州市质量促进办法》第十二条规定：“鼓励企业实行首席质量官制度”。
七、《湖北省质量促进条例》第二条：本办法自 2021 年 9 月 15 日起施行。
八、《杭州市质量促进办法》第十二条第二款写道：“鼓励企业实施首席质量官制度”。
九、According to Article 12 of the Hangzhou measures, "鼓励企业实施首席质量官制度……提升企业质量竞争力". See also \
Art. 23 Hubei regulation, Articles 3-5 of the Hubei Regulations and Article 5 of the Product Quality Law.
十、“鼓励企业实施首席质量官制度”（《杭州市质量促进办法》第十二条）。《湖北省質量促進條例》第二十三條。
十一、第七条另有规定。
"""

# (as written, title, article label, verdict), in the order they appear
EXPECTED = [
    ("《杭州市质量促进办法》第十二条第二款", HANGZHOU, "第十二条", "found"),
    ("湖北条例第二十三条", HUBEI, "第二十三条", "found"),
    ("第二十四条", HUBEI, "第二十四条", "found"),
    ("杭州办法第１２条", HANGZHOU, "第十二条", "found"),
    ("《湖北省质量促进条例》第十条至第十二条", HUBEI, "第十条", "found"),
    ("质量促进条例第3条", HUBEI, "第三条", "found"),
    ("湖北省质量促进条例第四十九条", HUBEI, "第四十九条", "found"),
    ("该条例第六条", HUBEI, "第六条", "found"),
    ("《中华人民共和国产品质量法》第十条", None, None, "unknown_regulation"),
    ("杭州办法第三十条", HANGZHOU, None, "no_such_article"),
    ("湖北条例第十条之一", HUBEI, None, "no_such_article"),
    ("杭州办法第十二条第三款", HANGZHOU, "第十二条", "no_such_article"),
    ("《杭州市质量促进办法》第十二条", HANGZHOU, "第十二条", "quote_differs"),
    ("《湖北省质量促进条例》第二条", HUBEI, "第二条", "quote_differs"),
    ("《杭州市质量促进办法》第十二条第二款", HANGZHOU, "第十二条", "quote_differs"),
    ("Article 12 of the Hangzhou measures", HANGZHOU, "第十二条", "found"),
    ("Art. 23 Hubei regulation", HUBEI, "第二十三条", "found"),
    ("Articles 3-5 of the Hubei Regulations", HUBEI, "第三条", "found"),
    ("Article 5 of the Product Quality Law", None, None, "unknown_regulation"),
    ("《杭州市质量促进办法》第十二条", HANGZHOU, "第十二条", "found"),
    ("《湖北省質量促進條例》第二十三條", HUBEI, "第二十三条", "found"),
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_sources([REGULATIONS])


@pytest.fixture(scope="module")
def report(catalogue):
    return check_citations(DRAFT, catalogue).to_json()


def _article(catalogue: Catalogue, title: str, number: int):
    reg = next(r for r in catalogue.regulations if r.title == title)
    return catalogue.article(reg.id, number)


def test_every_form_is_found_in_order_with_its_verdict(report):
    got = [(c["cited"], c["title"], c["article"], c["verdict"]) for c in report["citations"]]
    assert got == EXPECTED
    assert {c["verdict"] for c in report["citations"]} == set(VERDICTS)
    assert report["counts"] == {"found": 13, "unknown_regulation": 2, "no_such_article": 3, "quote_differs": 3}


def test_spans_point_at_the_draft(report):
    for c in report["citations"]:
        assert DRAFT[c["start"]:c["end"]] == c["cited"]
        if c["quote"]:
            assert DRAFT[c["quote"]["start"]:c["quote"]["end"]] == c["quote"]["text"]
    assert [u["cited"] for u in report["unattributed"]] == ["第七条"]  # no regulation named on its line


def test_found_gives_the_verbatim_article_and_its_citation(report, catalogue):
    c = report["citations"][1]
    art = _article(catalogue, HUBEI, 23)
    assert c["text"] == art.text and c["citation"] == art.citation
    assert c["citation"].startswith("《湖北省质量促进条例》第二十三条（第")  # with its chapter
    assert report["citations"][3]["citation"] == "《杭州市质量促进办法》第十二条"  # no chapters in Hangzhou
    assert report["citations"][2]["inherited"] and report["citations"][2]["name"] == "湖北条例"
    assert report["citations"][4]["range"] == ["第十条", "第十一条", "第十二条"]
    assert report["citations"][17]["range"] == ["第三条", "第四条", "第五条"]


def test_a_quotation_matches_across_whitespace_width_and_ellipsis(report, catalogue):
    hubei49 = report["citations"][6]
    at = hubei49["quote_found_at"]
    assert hubei49["text"][at["start"]:at["end"]] == "本条例自 2024 年 11 月 1 日起施行"  # the text's own spacing
    first = report["citations"][0]  # 第二款, with half/full-width brackets as the text prints them
    assert first["paragraph"] == 2 and first["paragraph_count"] == 2
    assert first["paragraph_text"] == _article(catalogue, HANGZHOU, 12).text[95:156]
    english = report["citations"][15]
    assert english["quote"]["text"] == "鼓励企业实施首席质量官制度……提升企业质量竞争力"
    assert english["verdict"] == "found"
    parenthesised = report["citations"][19]
    assert parenthesised["quote"]["text"] == "鼓励企业实施首席质量官制度"


def test_unknown_regulation_and_missing_articles_say_what_the_index_holds(report):
    by = {c["cited"]: c for c in report["citations"]}
    quality_law = by["《中华人民共和国产品质量法》第十条"]
    assert quality_law["title"] is None and quality_law["name"] == "《中华人民共和国产品质量法》"
    assert HUBEI in quality_law["message"] and HANGZHOU in quality_law["message"]
    assert by["杭州办法第三十条"]["article_count"] == 27
    assert "27" in by["杭州办法第三十条"]["message"] and "第二十七条" in by["杭州办法第三十条"]["message"]
    assert by["湖北条例第十条之一"]["article_count"] == 49
    paragraph = by["杭州办法第十二条第三款"]
    assert paragraph["paragraph"] == 3 and paragraph["paragraph_count"] == 2 and "2 款" in paragraph["message"]


def test_a_misquotation_shows_the_closest_passage_and_the_difference(report):
    wrong_word = report["citations"][12]
    assert wrong_word["closest"]["text"] == "鼓励企业实施首席质量官制度"
    assert wrong_word["diff"] == [{"op": "replace", "article": "施", "quote": "行", "at": 5}]
    assert wrong_word["diff_text"] == "鼓励企业实[-施-]{+行+}首席质量官制度"
    assert wrong_word["did_you_mean"] == []


def test_a_quotation_from_elsewhere_names_where_it_is(report):
    other_regulation = report["citations"][13]
    assert other_regulation["did_you_mean"] == ["《杭州市质量促进办法》第二十七条"]
    assert "did you mean 《杭州市质量促进办法》第二十七条" in other_regulation["message"]
    other_paragraph = report["citations"][14]
    assert other_paragraph["did_you_mean"] == ["《杭州市质量促进办法》第十二条第一款"]


def test_a_citation_inside_a_quotation_is_part_of_the_quotation(catalogue):
    draft = "《杭州市质量促进办法》第二十六条规定：“违反本办法第二十条规定的行为，从其规定。”"
    checks = check_citations(draft, catalogue).citations
    assert [c.citation.cited for c in checks] == ["《杭州市质量促进办法》第二十六条"]
    assert checks[0].verdict == "quote_differs"


def test_a_colon_quotation_ends_before_the_next_citation(catalogue):
    draft = "湖北条例第一条：为了实施质量强国战略；湖北条例第二条：本条例适用于本省行政区域内产品质量"
    checks = check_citations(draft, catalogue).citations
    assert [(c.citation.quote.text if c.citation.quote else None, c.verdict) for c in checks] == [
        ("为了实施质量强国战略；", "found"), ("本条例适用于本省行政区域内产品质量", "found")]


def test_anaphora_takes_the_latest_regulation_of_its_kind(catalogue):
    draft = "杭州办法第五条和湖北条例第五条之外，本办法第二十条、该条例第四十九条也相关。"
    checks = check_citations(draft, catalogue).citations
    assert [(c.citation.cited, c.regulation.title, c.article.label) for c in checks][2:] == [
        ("本办法第二十条", HANGZHOU, "第二十条"), ("该条例第四十九条", HUBEI, "第四十九条")]


def test_a_range_past_the_end_is_no_such_article(catalogue):
    [check] = check_citations("杭州办法第二十五条至第三十条", catalogue).citations
    assert check.verdict == "no_such_article" and "没有第三十条" in check.message


def test_a_draft_without_failures_is_ok_and_json_serialisable(catalogue):
    report = check_citations("湖北条例第二十三条和杭州办法第十二条。", catalogue)
    assert report.ok and [c.verdict for c in report.citations] == ["found", "found"]
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")
    empty = check_citations("没有任何引用的草稿。", catalogue)
    assert empty.ok and empty.citations == ()


def test_bad_drafts_get_a_clear_message(catalogue):
    with pytest.raises(QueryError, match="200,000"):
        check_citations("质" * 200_001, catalogue)
    with pytest.raises(QueryError, match="text"):
        check_citations(b"bytes", catalogue)  # type: ignore[arg-type]


# -- one matcher for the checker and the search -------------------------------------------------------------

AGREEMENT = [
    "杭州办法第12条", "杭州办法第十二条", "湖北条例第二十三条讲的是什么", "《湖北省质量促进条例》第二十三条",
    "湖北省質量促進條例第二十三條", "Article 12 of the Hangzhou measures", "Art. 23 Hubei regulation",
    "第十二条", "湖北条例第十条之一", "杭州办法第十二条第二款", "《中华人民共和国产品质量法》第十条",
    "浙江省质量促进条例第五条", "Article 5 of the Product Quality Law",
]


@pytest.mark.parametrize("question", AGREEMENT)
def test_search_reference_reads_citations_as_the_checker_does(catalogue, question):
    ref = find_reference(question, catalogue.names)
    first = find_citations(question, catalogue.names)[0]
    assert ref is not None and (ref.number, ref.sub_number) == (first.number, first.sub_number)
    assert ref.regulation_ids == first.regulation_ids
    assert (ref.unknown is not None) == first.unknown


def test_search_reference_without_an_article(catalogue):
    hangzhou = next(r.id for r in catalogue.regulations if r.title == HANGZHOU)
    assert find_reference("杭州办法里关于首席质量官的规定", catalogue.names).regulation_ids == (hangzhou,)
    assert find_reference("企业需要质量管理人员吗？", catalogue.names) is None
    ref = find_reference("Article 63 of 杭州办法", catalogue.names)
    assert (ref.regulation_ids, ref.number) == ((hangzhou,), 63)


def test_english_names_come_from_the_metadata_and_a_longer_unknown_name_is_unknown(catalogue):
    draft = ("Article 12 of the Hangzhou Municipal Measures on Quality Promotion. Article 7 of the Hubei quality "
             "promotion regulation. Article 5 of the Hubei Food Safety Regulations. Hubei regulation, Article 7.")
    got = [(c.citation.cited, c.verdict, c.article.label if c.article else None)
           for c in check_citations(draft, catalogue).citations]
    assert got == [
        ("Article 12 of the Hangzhou Municipal Measures on Quality Promotion", "found", "第十二条"),
        ("Article 7 of the Hubei quality promotion regulation", "found", "第七条"),
        ("Article 5 of the Hubei Food Safety Regulations", "unknown_regulation", None),
        ("Hubei regulation, Article 7", "found", "第七条"),
    ]


def test_search_keeps_names_side_by_side(catalogue):
    ids = {r.title: r.id for r in catalogue.regulations}
    ref = find_reference("湖北条例和杭州办法第十条", catalogue.names)
    assert set(ref.regulation_ids) == {ids[HUBEI], ids[HANGZHOU]} and ref.number == 10
    assert find_reference("湖北和杭州对首席质量官的规定有什么不同", catalogue.names).regulation_ids == \
        (ids[HUBEI], ids[HANGZHOU])


@pytest.mark.parametrize("text", ["第一二三条", "第〇条", "第十十条", "Article 1234567 of the Hubei regulation",
                                  "Article 12.5 of the Hubei regulation", "第二十三款", "湖北条例第条"])
def test_malformed_numbers_are_not_citations(catalogue, text):
    assert find_citations(text, catalogue.names) == []
