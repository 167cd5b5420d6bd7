"""A reply as a demanding reader sees it (issue 22): only the articles that clear a bar relative to the best one
in view (the rest under "more"), no bare effective-date article unless dates are asked about; a no-answer reply
whose copy button says what it copies and whose hint speaks of the filter only when one was set; the Markdown
export of a follow-up records what was typed and how it was understood. Pure HTML, no model."""

from __future__ import annotations

from ingest.schema import Article
from retrieval.results import Result, SearchResponse
from retrieval.web import cards, export

EFFECTIVE = "本办法自 2021 年 9 月 15 日起施行。"


def _r(number: int, score: float, text: str = "鼓励企业实施首席质量官制度。", found_by=("dense",)) -> Result:
    return Result(Article("hz", "杭州市质量促进办法", None, f"第{number}条", number, 0, text), score, found_by, 0,
                  len(text))


def test_an_effective_date_article_is_recognised():
    assert cards.effective_date_only(EFFECTIVE)
    assert cards.effective_date_only("本条例自2024年11月1日起施行。")
    assert not cards.effective_date_only("鼓励企业实施首席质量官制度。本办法自发布之日起施行，另有规定的除外；其他。")
    assert not cards.effective_date_only("企业应当自取得许可之日起施行质量管理体系。")
    for q in ("杭州办法什么时候施行", "When does the Hangzhou measure take effect?", "生效日期", "湖北条例何时生效"):
        assert cards.asks_about_dates(q), q
    for q in ("杭州质量促进办法什么时侯开始实施", "2021年9月15日开始实施的是什么"):  # from the question sets
        assert cards.asks_about_dates(q), q
    for q in ("首席质量官制度", "政府对质量奖励有哪些规定？", "企业要不要配专门管质量的人？"):
        assert not cards.asks_about_dates(q), q


def test_only_articles_near_the_best_are_in_view_and_the_rest_are_under_more():
    results = (_r(12, 1.0), _r(37, 0.70), _r(3, 0.47), _r(48, 0.37), _r(23, 0.34))
    shown = cards.shown_first(results, "首席质量官制度")
    assert shown == [True, True, False, False, False]
    html = cards.answer(SearchResponse("首席质量官制度", False, results), [f"<i>c{i}</i>" for i in range(5)],
                        shown=shown)
    assert "最相关的 2 条" in html and "<i>c0</i><i>c1</i><details class=\"regqa-more\">" in html
    assert "更多 3 条" in html and "<i>c2</i><i>c3</i><i>c4</i></details>" in html


def test_a_bare_effective_date_article_fills_no_slot_unless_dates_are_asked():
    results = (_r(19, 1.0), _r(27, 0.78, EFFECTIVE), _r(18, 0.75))
    assert cards.shown_first(results, "政府对质量奖励有哪些规定？") == [True, False, True]
    assert cards.shown_first(results, "杭州办法什么时候施行？") == [True, True, True]
    first = (_r(27, 1.0, EFFECTIVE), _r(19, 0.9))
    assert cards.shown_first(first, "质量奖励") == [False, True]
    assert cards.shown_first((_r(27, 1.9, EFFECTIVE, ("reference", "dense")),), "杭州办法第二十七条") == [True]


def test_an_article_asked_for_by_number_is_in_view_and_its_neighbours_under_more():
    results = (_r(23, 1.91, found_by=("reference", "dense")), _r(20, 0.91), _r(13, 0.85))
    assert cards.shown_first(results, "湖北条例第二十三条") == [True, False, False]


def test_the_no_answer_copy_button_says_it_copies_the_nearest_and_the_hint_follows_the_filter():
    none = SearchResponse("今天杭州天气怎么样", True, (_r(25, 0.3),))
    tools = cards.reply_tools(none, "b", "d")
    assert cards.COPY_NEAREST in tools and cards.COPY_ALL not in tools
    assert cards.COPY_ALL in cards.reply_tools(SearchResponse("q", False, (_r(12, 1.0),)), "b", "d")
    unfiltered = cards.answer(none, ["<i>c</i>"], tools)
    assert cards.HINT_REPHRASE in unfiltered and "设置中选择其他法规" not in unfiltered
    assert "设置中选择其他法规" in cards.answer(none, ["<i>c</i>"], tools, filtered=True)


def test_the_export_of_a_follow_up_records_what_was_typed_and_how_it_was_understood():
    response = SearchResponse("首席质量官制度", False, (_r(12, 1.0),))
    md = export.markdown(response, "b1", "d", asked="那杭州呢", understood="杭州市质量促进办法 · 首席质量官制度")
    assert "- 问题 Question: 那杭州呢\n" in md
    assert "- 理解为 Understood as: 杭州市质量促进办法 · 首席质量官制度\n" in md
    assert "- 检索词 Searched: 首席质量官制度\n" in md
    tools = cards.reply_tools(response, "b1", "d", asked="那杭州呢", understood="杭州市质量促进办法 · 首席质量官制度")
    assert "问题 Question: 那杭州呢" in tools and "理解为 Understood as" in tools
    plain = export.markdown(response, "b1", "d", asked="首席质量官制度")  # not a follow-up: as before
    assert plain == export.markdown(response, "b1", "d") and "理解为" not in plain


def test_the_chapter_outline_links_each_chapter_and_writes_one_article_alone():
    from retrieval.web import laws

    rows = [{"id": "hubei-quality-promotion-2024", "title": "湖北省质量促进条例", "articles": 49, "chapters": 2,
             "english_names": ["Hubei <regulations>"],
             "chapter_list": [{"chapter": "第三章 创新驱动", "first": "第十九条", "last": "第二十六条"},
                              {"chapter": "第七章 附则", "first": "第四十九条", "last": "第四十九条"}]},
            {"id": "hangzhou-quality-promotion-2021", "title": "杭州市质量促进办法", "articles": 27, "chapters": 0}]
    md = laws.chapter_outline(rows)
    assert '<a class="regqa-outline-link" href="?a=hubei-19">第三章 创新驱动（第十九条—第二十六条）</a>' in md
    assert '<a class="regqa-outline-link" href="?a=hubei-49">第七章 附则（第四十九条）</a>' in md
    assert "第四十九条—第四十九条" not in md and "Hubei &lt;regulations&gt;" in md
    assert laws.article_link("hangzhou", "第十条之一") == "?a=hangzhou-10-1"
    assert laws.article_link("hubei", "附则") is None


def test_a_searched_outline_links_with_the_slugs_of_the_whole_index():
    """The laws tab's search shows one of two 湖北 regulations: its links keep the full id the permalink reader
    needs, since the short `hubei` would name either of them."""
    from retrieval.web import laws

    chapters = [{"chapter": "第一章 总则", "first": "第一条", "last": "第五条"}]
    quality = {"id": "hubei-quality-promotion-2024", "title": "湖北省质量促进条例", "articles": 49, "chapters": 1,
               "chapter_list": chapters}
    other = {"id": "hubei-product-quality-2016", "title": "湖北省产品质量监督条例", "articles": 30, "chapters": 1,
             "chapter_list": chapters}
    searched = laws.chapter_outline([quality], every=[quality, other])
    assert 'href="?a=hubei-quality-promotion-2024-1"' in searched and "?a=hubei-1" not in searched
    assert 'href="?a=hubei-1"' in laws.chapter_outline([quality])  # alone in its index, the short slug
