"""The checker room's own regressions (retrieval/checker/: check, quotes, catalogue), fast: small hand-made
catalogues, no index, no model. Each test names the change it catches (tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

import pytest

from ingest.schema import Article, Regulation
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import check_citations

REG = Regulation("demo", "示例质量条例", short_names=("示例条例",))
P1 = "企业应当建立质量管理体系并持续改进。"
P2 = "企业应当建立质量追溯制度并定期报告。"  # as long as P1: only the position tells the two 款 apart
TEXT = P1 + "\n" + P2
ART = Article("demo", REG.title, None, "第一条", 1, 0, TEXT, ((0, len(P1)), (len(P1) + 1, len(TEXT))))
QUOTE = "企业应当建立质量管理制度"  # in neither 款: closest to 第一款's start, then to 第二款's


def _catalogue(*articles: Article) -> Catalogue:
    return Catalogue([REG], articles or (ART,))


# -- (d) the closest passage is worked out for the 款 (or article) cited, not reused from another ------------------
def test_the_same_misquotation_cited_in_each_paragraph_gets_that_paragraphs_closest_passage():
    draft = (f"《示例质量条例》第一条第二款规定“{QUOTE}”。《示例质量条例》第一条第一款规定“{QUOTE}”。"
             f"《示例质量条例》第一条规定“{QUOTE}”。")
    second, first, whole = (c.to_json() for c in check_citations(draft, _catalogue()).citations)
    assert [x["verdict"] for x in (second, first, whole)] == ["quote_differs"] * 3
    assert second["closest"]["text"] == "企业应当建立质量追溯制度"
    assert second["closest"]["start"] == len(P1) + 1  # where 第二款 starts in the article
    assert first["closest"]["text"] == "企业应当建立质量管理" and first["closest"]["start"] == 0
    # the whole article: its closest passage is in 第一款, not the 第二款 passage worked out first
    assert whole["closest"]["text"] == "企业应当建立质量管理" and whole["closest"]["start"] == 0
    for x in (second, first, whole):
        assert TEXT[x["closest"]["start"]:x["closest"]["end"]] == x["closest"]["text"]
        assert all(TEXT[op["at"]:op["at"] + len(op["article"])] == op["article"] for op in x["diff"])


# -- verdicts on a small catalogue -------------------------------------------------------------------------------
OTHER = Regulation("other", "另一部质量办法", short_names=("另一办法",))
ARTICLES = (
    ART,
    Article("demo", REG.title, None, "第二条", 2, 0, "鼓励企业实施首席质量官制度。"),
    Article("demo", REG.title, None, "第三条", 3, 0, "县级以上人民政府应当设立质量奖。"),
    Article("demo", REG.title, None, "第三条之一", 3, 1, "质量奖每两年评选一次。"),
    Article("demo", REG.title, None, "第五条", 5, 0, "本条例自2024年3月1日起施行。"),  # no 第四条
    Article("other", OTHER.title, None, "第一条", 1, 0, "企业应当建立质量追溯制度。\n鼓励企业实施首席质量官制度。",
            ((0, 13), (14, 28))),
)
DRAFT = ("《示例质量条例》第一条第二款规定“鼓励企业实施首席质量官制度”。第二条规定“企业应当建立质量追溯制度”。"
         "第一条第二款规定“质量追溯”。第三条之一。第十条。第一条至第二条规定“首席质量官”。第三条之一至第五条规定“质量奖每年评选”。"
         "另一办法第一条第二款规定“实施首席质量官制度”。第二条第二款。第三条至第三条之一。")


@pytest.fixture  # per test: mutmut ties the checker's functions only to the tests that call them
def verdicts() -> list[dict]:
    return check_citations(DRAFT, Catalogue([REG, OTHER], ARTICLES)).to_json()["citations"]


def _brief(c: dict) -> tuple:
    return c["cited"], c["verdict"], c["message"]


def test_each_citation_gets_its_verdict_and_message(verdicts):
    assert [_brief(c) for c in verdicts] == [
        ("《示例质量条例》第一条第二款", "quote_differs",
         "引文与《示例质量条例》第一条第二款不符 (the quotation is not in the article)；"
         "该引文见于《示例质量条例》第二条、"
         "《另一部质量办法》第一条第二款 (did you mean 《示例质量条例》第二条?)"),
        ("第二条", "quote_differs",
         "引文与《示例质量条例》第二条不符 (the quotation is not in the article)；"
         "该引文见于《示例质量条例》第一条第二款、"
         "《另一部质量办法》第一条第一款 (did you mean 《示例质量条例》第一条第二款?)"),
        ("第一条第二款", "found", "《示例质量条例》第一条第二款：引文相符 (found; the quotation matches)"),
        ("第三条之一", "found", "《示例质量条例》第三条之一：条文存在 (found)"),
        ("第十条", "no_such_article",
         "《示例质量条例》共 5 条（第一条至第五条），没有第十条 (no such article: the regulation has 5 articles)"),
        ("第一条至第二条", "found", "《示例质量条例》第一条至第二条：引文相符 (found; the quotation matches)"),
        ("第三条之一至第五条", "no_such_article",
         "《示例质量条例》共 5 条（第一条至第五条），没有第四条 (no such article: the regulation has 5 articles)"),
        ("另一办法第一条第二款", "found", "《另一部质量办法》第一条第二款：引文相符 (found; the quotation matches)"),
        ("第二条第二款", "no_such_article",  # still 另一办法, which has one article
         "《另一部质量办法》共 1 条（第一条至第一条），没有第二条 (no such article: the regulation has 1 articles)"),
        ("第三条至第三条之一", "no_such_article",
         "《另一部质量办法》共 1 条（第一条至第一条），没有第三条 (no such article: the regulation has 1 articles)"),
    ]


def test_a_found_quotation_says_where_it_is_and_a_cited_paragraph_its_text(verdicts):
    in_paragraph, in_range, other = verdicts[2], verdicts[5], verdicts[7]
    assert in_paragraph["quote_found_at"] == {"article": "第一条", "start": 25, "end": 29}  # in 第二款, not 第一款
    assert TEXT[25:29] == "质量追溯"
    assert (in_paragraph["paragraph"], in_paragraph["paragraph_count"], in_paragraph["paragraph_text"]) == (2, 2, P2)
    assert in_range["range"] == ["第一条", "第二条"] and in_range["article"] == "第一条"
    assert in_range["quote_found_at"] == {"article": "第二条", "start": 6, "end": 11}  # the one holding it
    assert other["paragraph_text"] == "鼓励企业实施首席质量官制度。" and other["quote_found_at"]["start"] == 18
    assert other["title"] == OTHER.title and other["regulation_id"] == "other" and other["name"] == "另一办法"


def test_a_misquotation_shows_the_closest_passage_of_the_article_that_was_cited(verdicts):
    wrong_paragraph, wrong_article = verdicts[0], verdicts[1]
    assert wrong_paragraph["closest"]["text"] == "企业应当建立质量追溯制度"
    assert wrong_paragraph["closest"]["start"] == 19
    assert wrong_paragraph["closest"]["citation"] == "《示例质量条例》第一条"
    assert wrong_paragraph["did_you_mean"] == ["《示例质量条例》第二条", "《另一部质量办法》第一条第二款"]
    assert wrong_article["diff_text"] == "企业[-实施首席-]{+应当建立+}质量[-官-]{+追溯+}制度"
    assert [op["op"] for op in wrong_article["diff"]] == ["replace", "replace"]
    assert wrong_article["closest"]["similarity"] == pytest.approx(0.5217, abs=1e-4)


def test_ranges_list_their_articles_and_name_the_first_gap(verdicts):
    gap = verdicts[6]
    assert gap["range"] == ["第三条之一", "第五条"] and gap["article"] == "第三条之一"
    assert gap["article_count"] == 5 and gap["text"] == "质量奖每两年评选一次。"
    assert verdicts[4]["article"] is None and verdicts[4]["text"] is None and verdicts[4]["article_count"] == 5


def test_the_report_counts_verdicts_and_lists_citations_it_cannot_check():
    cat = Catalogue([REG, OTHER], ARTICLES)
    report = check_citations("第二条规定。《示例质量条例》第二条。", cat)
    assert report.ok and report.counts() == {"found": 1, "unknown_regulation": 0, "no_such_article": 0,
                                             "quote_differs": 0}
    [bare] = report.to_json()["unattributed"]
    assert bare == {"cited": "第二条", "start": 0, "end": 3,
                    "message": "未指明法规，无法核对 (no regulation named before it; not checked)"}
    assert not check_citations("《示例质量条例》第九条。", cat).ok
    assert check_citations("没有引用。", cat).ok  # nothing cited: nothing failed


def test_an_unknown_regulation_names_what_the_index_holds():
    many = [Regulation(f"r{i}", f"第{i}部质量条例") for i in range(6)]
    draft = "《不存在的条例》第一条规定“鼓励企业实施首席质量官制度”。"
    [c] = check_citations(draft, Catalogue([REG, OTHER], ARTICLES)).citations
    assert c.verdict == "unknown_regulation"
    assert c.message == ("索引中没有《不存在的条例》，现有：《示例质量条例》、《另一部质量办法》 "
                         "(the index does not hold this regulation)")
    assert c.did_you_mean == ("《示例质量条例》第二条", "《另一部质量办法》第一条第二款")  # where the quotation is
    [c] = check_citations("《不存在的条例》第一条。", Catalogue(many, ())).citations
    assert c.message.startswith("索引中没有《不存在的条例》，现有：《第0部质量条例》、")
    assert "《第4部质量条例》等 " in c.message  # five, then 等
    assert "第5部" not in c.message
    [c] = check_citations("《不存在的条例》第一条。", Catalogue([], ())).citations
    assert "现有：无 " in c.message


def test_a_draft_is_text_of_bounded_length_and_lone_surrogates_keep_their_offsets():
    from ingest.errors import QueryError, QueryTooLong

    cat = _catalogue()
    with pytest.raises(QueryError, match="must be text"):
        check_citations(b"bytes", cat)
    with pytest.raises(QueryTooLong, match="at most 10 characters"):
        check_citations("x" * 11, cat, max_chars=10)
    assert check_citations("x" * 10, cat, max_chars=10).ok
    [c] = check_citations("\ud800《示例质量条例》第一条", cat).citations
    assert (c.citation.start, c.verdict) == (1, "found")


def test_closest_passages_are_worked_out_a_bounded_number_of_times_per_draft():
    from retrieval.checker.check import MAX_CLOSEST

    quotes = [f"企业应当建立质量{n}制度" for n in range(MAX_CLOSEST + 1)] + ["企业应当建立质量0制度"]
    draft = "".join(f"《示例质量条例》第一条规定“{q}”。" for q in quotes)
    found = check_citations(draft, _catalogue()).citations
    assert {c.verdict for c in found} == {"quote_differs"} and len(found) == MAX_CLOSEST + 2
    assert all(c.closest is not None for c in found[:MAX_CLOSEST])
    assert found[MAX_CLOSEST].closest is None  # past the budget: the verdict only
    assert found[-1].closest == found[0].closest  # a repeated quotation is remembered, not worked out again


def test_labels_and_titles_are_written_as_a_regulation_prints_them():
    from retrieval.checker.check import _as_title, label

    assert (label(12), label(10, 1), label(3, 0)) == ("第十二条", "第十条之一", "第三条")
    assert (_as_title("示例条例"), _as_title("《示例条例》"), _as_title("Hubei regulation")) == \
        ("《示例条例》", "《示例条例》", "“Hubei regulation”")


# -- quotations against a text (quotes.py) and the catalogue's search for them -------------------------------------
def test_a_folded_text_keeps_the_position_of_every_character():
    from retrieval.checker.quotes import Comparable

    c = Comparable.of("第一款 内容，“引号”。\n２０２４ 年")
    assert c.folded == '第一款内容,"引号"。2024年'  # no whitespace, half-width, straight quotes
    assert c.pos[:5] == (0, 1, 2, 4, 5) and c.pos[-1] == len(c.text) and len(c.pos) == len(c.folded) + 1
    assert c.span(3, 5) == (4, 6) and c.span(11, 15) == (13, 17)  # ２０２４, not the space after
    assert c.span(4, 4) == (5, 5) and c.span(4, 2) == (5, 5)  # empty: where it would start


def test_a_quotation_is_split_at_ellipses_and_found_in_order():
    from retrieval.checker.quotes import Comparable, locate, pieces

    assert pieces("“企业应当……建立制度。”") == ["企业应当", "建立制度"]
    assert pieces("...a⋯b...") == ["a", "b"] and pieces("“”") == [] and pieces("……") == []
    t = Comparable.of("企业应当配备专职质量管理人员，建立健全质量管理体系，推行ISO 9001等先进标准。")
    assert locate(pieces("配备专职……质量管理体系"), t) == (4, 25)
    assert locate(pieces("体系……配备"), t) is None  # out of order
    assert locate(pieces("ISO9001"), t) == (28, 36)  # across the space the text has
    assert locate([], t) is None and locate(["不在其中"], t) is None


def test_the_closest_passage_is_trimmed_to_what_lines_up_and_its_difference_is_compact():
    from retrieval.checker.quotes import Comparable, closest

    t = Comparable.of("企业应当配备专职质量管理人员，建立健全质量管理体系，推行ISO 9001等先进标准。")
    p = closest("企业应当配备兼职质量管理人员", t)
    assert (p.start, p.end, p.text, p.ratio) == (0, 14, "企业应当配备专职质量管理人员", 0.9286)
    assert [op.to_json() for op in p.diff] == [{"op": "replace", "article": "专", "quote": "兼", "at": 6}]
    assert p.diff_text == "企业应当配备[-专-]{+兼+}职质量管理人员"
    p = closest("推行ISO9001等国际先进标准", t)
    assert p.text == "推行ISO 9001等先进标准" and p.start == 26
    assert [(op.op, op.article, op.quote, op.at) for op in p.diff] == [("insert", "", "国际", 37)]
    assert p.diff_text == "…SO 9001等{+国际+}先进标准"
    p = closest("建立健全质量管理制度", t)
    assert p.text == "建立健全质量管理" and p.diff_text == "建立健全质量管理{+制度+}"  # CONTEXT characters: whole
    assert closest("", t) is None and closest("……", t) is None and closest("x", Comparable.of("")) is None


def test_long_changes_and_long_unchanged_runs_are_shortened():
    from retrieval.checker.quotes import CONTEXT, LONG_CHANGE, _context, _elide

    ten = "一二三四五六七八九十"
    assert _elide("x" * LONG_CHANGE) == "x" * LONG_CHANGE
    assert _elide(ten * 5) == "一二三四五六七八九十一二三四五六…五六七八九十一二三四五六七八九十"
    assert (CONTEXT, LONG_CHANGE) == (8, 40)
    assert _context(ten, first=True, last=False) == "…三四五六七八九十"
    assert _context(ten, first=False, last=True) == "一二三四五六七八…"
    assert _context(ten * 2, first=False, last=False) == "一二三四五六七八…三四五六七八九十"
    assert _context("一" * 17, first=False, last=False) == "一" * 17
    assert _context(ten, first=True, last=True) == ten
    assert _context("一二三四五六七八", first=True, last=False) == "一二三四五六七八"
    assert _context("一二三四五六七八", first=False, last=True) == "一二三四五六七八"


def test_the_quotation_is_searched_in_the_cited_regulations_first_and_at_most_limit_times():
    from retrieval.checker.quotes import pieces

    cat = Catalogue([REG, OTHER], ARTICLES)
    parts = pieces("首席质量官制度")
    where = [(a.regulation_id, a.label, span) for a, span in cat.find_quote(parts)]
    assert where == [("demo", "第二条", (6, 13)), ("other", "第一条", (20, 27))]
    first = [(a.regulation_id, a.label) for a, _ in cat.find_quote(parts, first=["other", "nowhere"])]
    assert first == [("other", "第一条"), ("demo", "第二条")]
    assert [a.regulation_id for a, _ in cat.find_quote(parts, limit=1)] == ["demo"]
    assert [a.regulation_id for a, _ in cat.find_quote(parts, exclude=[ARTICLES[1]])] == ["other"]
    assert cat.find_quote([]) == [] and cat.find_quote(pieces("没有这句话")) == []
    # a quotation whose first part occurs in several articles: each article is looked at once, in order
    assert [a.label for a, _ in cat.find_quote(pieces("质量奖"), limit=5)] == ["第三条", "第三条之一"]
    assert [a.label for a, _ in cat.find_quote(pieces("企业……制度"), limit=5)] == ["第一条", "第二条", "第一条"]


def test_the_catalogue_answers_by_regulation_and_number():
    cat = Catalogue([REG, OTHER], reversed(ARTICLES))
    assert [a.label for a in cat.articles_of("demo")] == ["第一条", "第二条", "第三条", "第三条之一", "第五条"]
    assert cat.articles_of("nowhere") == [] and cat.regulation("nowhere") is None
    assert cat.regulation("other") is OTHER and cat.article("demo", 3, 1).label == "第三条之一"
    assert cat.article("demo", 3).label == "第三条" and cat.article("demo", 4) is None
    assert cat.comparable(ART) is cat.comparable(ART) and cat.comparable(ART).text == TEXT


def test_a_catalogue_from_sources_is_what_a_build_parses():
    from tests.conftest import FIXTURES

    cat = Catalogue.from_sources([FIXTURES / "sample_regulation.txt", FIXTURES / "sample_measure.txt"])
    assert [r.title for r in cat.regulations] == ["示例省质量促进条例", "示例市质量促进办法"]
    assert len(cat.articles) == 9 and cat.names is not None
    [c] = check_citations("示例条例第三条之一", cat).citations
    assert c.verdict == "found" and c.article.text.startswith("县级以上人民政府")


def test_a_catalogue_from_an_index_holds_what_the_build_serves(fake_index, tmp_path):
    import shutil

    from ingest.errors import IndexFault
    from ingest.stores.index_io import current_build

    cat = Catalogue.from_index(fake_index)
    assert sorted(r.title for r in cat.regulations) == ["示例市质量促进办法", "示例省质量促进条例"]
    assert len(cat.articles) == 9
    [c] = check_citations("示例条例第三条之一", cat).citations
    assert c.verdict == "found"
    copy = tmp_path / "index"
    shutil.copytree(fake_index, copy)
    articles = current_build(copy) / "articles.jsonl"
    articles.write_text(articles.read_text(encoding="utf-8").replace("县级以上", "县级以下"), encoding="utf-8")
    with pytest.raises(IndexFault, match="damaged"):
        Catalogue.from_index(copy)
    unchecked = Catalogue.from_index(copy, verify=False)  # read as it is
    assert check_citations("示例条例第三条之一", unchecked).citations[0].article.text.startswith("县级以下")


def test_the_closest_passage_starts_where_the_quotation_lines_up_and_ties_go_to_the_first():
    from retrieval.checker.quotes import Comparable, closest

    t = Comparable.of("企业应当配备专职质量管理人员，建立健全质量管理体系，推行ISO 9001等先进标准。")
    p = closest("企业应当配备兼职质量管理人员，建立健全质量管理体系", t)
    assert (p.start, p.end) == (0, 25)
    assert p.diff_text == "企业应当配备[-专-]{+兼+}职质量管理人员，…"  # a long unchanged end: its first characters
    p = closest("ISO9001等国际先进标准", t)
    assert (p.start, p.end, p.text) == (28, 41, "ISO 9001等先进标准")  # trimmed at the start too
    p = closest("甲乙丙戊", Comparable.of("甲乙丙丁。甲乙丙丁。"))
    assert (p.start, p.end, p.diff_text) == (0, 3, "甲乙丙{+戊+}")  # two clauses alike: the first
    assert closest("质量管理体系建设", Comparable.of("质量。质量管理。质量管理体系建设。")).text == "质量管理体系建设"


def test_a_long_misquotation_is_compared_character_by_character():
    import random

    from retrieval.checker.quotes import Comparable, closest

    chars = ("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同"
             "工也能下过子说产种面而方后多定行学法所")
    rng = random.Random(1)
    text = "".join(rng.choice(chars) for _ in range(300)) + "。"
    quote = text[:150] + "改" + text[151:299]  # 299 characters, one changed: common characters are no junk
    p = closest(quote, Comparable.of(text))
    assert (p.start, p.end) == (0, 299) and len(p.diff) == 1
    assert (p.diff[0].op, p.diff[0].article, p.diff[0].quote, p.diff[0].at) == ("replace", text[150], "改", 150)


def test_a_quotation_in_another_paragraph_of_the_cited_article_is_named_first():
    cat = Catalogue([REG, OTHER], ARTICLES)
    draft = "《示例质量条例》第一条第一款规定“质量追溯制度”。第二条第一款。"
    wrong, whole = (c.to_json() for c in check_citations(draft, cat).citations)
    assert wrong["verdict"] == "quote_differs"
    assert wrong["did_you_mean"] == ["《示例质量条例》第一条第二款", "《另一部质量办法》第一条第一款"]
    assert (wrong["paragraph_text"], wrong["paragraph_count"]) == (P1, 2)
    # an article stored without paragraph spans is one paragraph: its whole text
    assert (whole["verdict"], whole["paragraph_count"]) == ("found", 1)
    assert whole["paragraph_text"] == "鼓励企业实施首席质量官制度。"


def test_the_difference_names_what_the_quotation_left_out_and_maps_back_past_an_ellipsis():
    from retrieval.checker.quotes import Comparable, _context, closest

    t = Comparable.of("企业应当配备专职质量管理人员，建立健全质量管理体系，推行ISO 9001等先进标准。")
    [op] = closest("企业应当配备质量管理人员", t).diff
    assert (op.op, op.article, op.quote, op.at) == ("delete", "专职", "", 6)
    [op] = closest("“企业应当 ……配备兼职质量管理人员”", t).diff
    assert (op.op, op.article, op.quote, op.at) == ("replace", "专", "兼", 6)  # 兼 as written in the quotation
    assert _context("一" * 18, first=False, last=False) == "一" * 8 + "…" + "一" * 8


def test_find_quote_keeps_looking_past_a_match_and_stops_at_its_limit():
    from retrieval.checker.quotes import pieces

    cat = Catalogue([REG, OTHER], ARTICLES)
    assert [a.label for a, _ in cat.find_quote(pieces("年"), limit=5)] == ["第三条之一", "第五条"]
    assert [a.label for a, _ in cat.find_quote(pieces("质量奖"), limit=1)] == ["第三条"]
    assert len(cat.find_quote(pieces("企业"))) == 3  # three by default


def test_names_that_point_to_no_loaded_regulation_say_so_and_five_regulations_are_listed_whole():
    from retrieval.citations import name_table

    ghost = Regulation("ghost", "幽灵条例")
    cat = _catalogue()
    cat.names = name_table([REG, ghost])  # a stale name table: it knows a regulation the catalogue does not hold
    [c] = check_citations("《幽灵条例》第一条", cat).citations
    assert c.verdict == "unknown_regulation"
    assert c.message == "索引中没有该法规 (the index does not hold this regulation)"
    assert c.citation.name == "《幽灵条例》"
    five = [Regulation(f"r{i}", f"第{i}部质量条例") for i in range(5)]
    [c] = check_citations("《不存在的条例》第一条。", Catalogue(five, ())).citations
    assert "《第4部质量条例》 (the index" in c.message and "等" not in c.message


def test_the_json_of_a_check_holds_every_field_the_cli_and_the_api_print():
    cat = Catalogue([REG, OTHER], ARTICLES)
    draft = "《示例质量条例》第一条第二款规定“质量追溯”。第一条至第二条规定“首席质量管理官”。"
    found, differs = check_citations(draft, cat).to_json()["citations"]
    common = {"title": "示例质量条例", "article": "第一条", "name": "《示例质量条例》", "regulation_id": "demo",
              "citation": "《示例质量条例》第一条", "text": TEXT, "article_count": 5, "item": None, "did_you_mean": [],
              "quote_compared": True, "quote_not_compared": None}  # both quotations were compared
    assert found == {**common, "cited": "《示例质量条例》第一条第二款", "verdict": "found",
                     "message": "《示例质量条例》第一条第二款：引文相符 (found; the quotation matches)",
                     "start": 0, "end": 14, "inherited": False, "paragraph": 2, "paragraph_count": 2,
                     "paragraph_text": P2, "range": None, "quote": {"text": "质量追溯", "start": 17, "end": 21},
                     "quote_found_at": {"article": "第一条", "start": 25, "end": 29},
                     "closest": None, "diff": None, "diff_text": None}
    assert differs == {**common, "cited": "第一条至第二条", "verdict": "quote_differs",
                       "message": "引文与《示例质量条例》第一条至第二条不符 (the quotation is not in the article)",
                       "start": 23, "end": 30, "inherited": True, "paragraph": None, "paragraph_count": None,
                       "paragraph_text": None, "range": ["第一条", "第二条"],
                       "quote": {"text": "首席质量管理官", "start": 33, "end": 40}, "quote_found_at": None,
                       "closest": {"article": "第一条", "citation": "《示例质量条例》第一条", "text": "质量管理",
                                   "start": 6, "end": 10, "similarity": 0.7273},
                       "diff": [{"op": "insert", "article": "", "quote": "首席", "at": 6},
                                {"op": "insert", "article": "", "quote": "官", "at": 10}],
                       "diff_text": "{+首席+}质量管理{+官+}"}
    [in_range] = check_citations("《示例质量条例》第一条至第二条规定“首席质量官”。", cat).to_json()["citations"]
    assert in_range["quote_found_at"] == {"article": "第二条", "start": 6, "end": 11}  # the article that holds it
    assert in_range["article"] == "第一条" and in_range["range"] == ["第一条", "第二条"]
