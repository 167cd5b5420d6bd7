"""The chat's new pieces: permalink ids, the comparison view, the follow-up and link HTML (fast, on fakes),
and the comparison and conversation searches on the real index."""

from __future__ import annotations

import pytest

from ingest.schema import Article, Regulation
from retrieval.conversation.compare import Comparison
from retrieval.conversation.permalinks import Permalinks
from retrieval.results import Result
from retrieval.web import cards, compare_view

HUBEI = Regulation("hubei-quality-promotion-2024", "湖北省质量促进条例")
HANGZHOU = Regulation("hangzhou-quality-promotion-2021", "杭州市质量促进办法")


def _article(reg: Regulation, number: int, text: str, sub: int = 0) -> Article:
    label = f"第{number}条" + ("之一" if sub else "")
    return Article(reg.id, reg.title, None, label, number, sub, text)


def _result(reg: Regulation, number: int, text: str) -> Result:
    return Result(_article(reg, number, text), 0.9, ("dense",), 0, len(text))


def test_permalink_ids_are_short_and_resolve_back():
    links = Permalinks([HUBEI, HANGZHOU])
    assert links.of(_article(HUBEI, 23, "x")) == "hubei-23"
    assert links.of(_article(HANGZHOU, 10, "x", sub=1)) == "hangzhou-10-1"
    assert links.resolve("hubei-23") == (HUBEI.id, 23, 0)
    assert links.resolve(" Hangzhou-10-1 ") == (HANGZHOU.id, 10, 1)
    assert links.resolve("hubei-quality-promotion-2024-23") == (HUBEI.id, 23, 0)  # the full id works too
    for bad in ("", "hubei", "hubei-", "wuhan-3", "<script>-1", "hubei-23-x", "hubei-99999"):
        assert links.resolve(bad) is None


def test_regulations_sharing_a_first_word_keep_their_full_ids():
    other = Regulation("hubei-food-safety-2020", "湖北省食品安全条例")
    links = Permalinks([HUBEI, other])
    assert links.of(_article(HUBEI, 5, "x")) == "hubei-quality-promotion-2024-5"
    assert links.resolve("hubei-5") is None


def test_comparison_shows_each_side_and_says_where_one_has_no_article():
    c = Comparison("质量奖励", ((HUBEI.id, HUBEI.title), (HANGZHOU.id, HANGZHOU.title)),
                   (((_result(HUBEI, 9, "设立质量奖<b>"),), (_result(HANGZHOU, 19, "质量奖励办法"),)),
                    ((_result(HUBEI, 21, "只在湖北"),), ())))
    out = compare_view.comparison(c, lambda r: cards.action("link", "链接 Link", a=f"x-{r.article.number}"))
    assert out.count('class="regqa-cmp-cell"') == 4
    assert out.count(compare_view.NONE) == 1
    assert "regqa-cols-2" in out
    assert "设立质量奖&lt;b&gt;" in out and "<b>" not in out
    assert "《杭州市质量促进办法》第19条" in out and 'href="?a=x-19"' in out


def test_a_comparison_without_rows_says_no_article_on_every_side():
    c = Comparison("<i>无</i>", ((HUBEI.id, HUBEI.title), (HANGZHOU.id, HANGZHOU.title)), ())
    out = compare_view.comparison(c)
    assert out.count(compare_view.NONE) == 2 and "&lt;i&gt;无&lt;/i&gt;" in out


def test_links_and_the_understood_line_are_escaped():
    line = cards.understood_line("杭州市质量促进办法 · <script>", '那杭州呢"><script>')
    assert "<script>" not in line
    assert 'href="?q=%E9%82%A3%E6%9D%AD%E5%B7%9E%E5%91%A2%22%3E%3Cscript%3E&amp;fresh=1"' in line
    share = cards.share_line("湖北条例第二十三条", ["hubei-quality-promotion-2024"])
    assert "reg=hubei-quality-promotion-2024" in share and "regqa-share" in share
    assert 'href="?a=hubei-23"' in cards.article_actions("hubei-23")


# -- on the real index -----------------------------------------------------------------------------------
@pytest.mark.integration
def test_comparison_questions_are_recognised_and_a_missing_side_is_empty(retriever):
    from retrieval.conversation import compare

    assert compare.sides_of(retriever, "首席质量官制度是怎么规定的") is None
    assert compare.sides_of(retriever, "那杭州呢") is None  # a follow-up, not a comparison
    regs, topic = compare.sides_of(retriever, "湖北和杭州对缺陷消费品召回的规定有什么不同")
    assert regs == (HUBEI.id, HANGZHOU.id) and topic == "缺陷消费品召回"
    c = compare.compare_topic(retriever, regs, topic)
    assert c.rows and all(row[0] and not row[1] for row in c.rows)  # Hubei regulates recalls, Hangzhou does not
    regs, topic = compare.sides_of(retriever, "compare Hubei and Hangzhou on 首席质量官")
    first = compare.compare_topic(retriever, regs, topic).rows[0]
    assert [x.article.label for x in first[0]] == ["第三十七条"] and [x.article.label for x in first[1]] == ["第十二条"]


@pytest.mark.integration
def test_the_service_reads_a_follow_up_and_caches_it_by_its_history(retriever):
    from types import SimpleNamespace

    from retrieval.serving.service import SearchService

    service = SearchService(lambda: SimpleNamespace(retriever=retriever, rows=[]))
    found = service.converse("那杭州呢", ["首席质量官制度是怎么规定的"], 3)
    assert found.understood.merged and found.understood.shown_as.startswith("杭州市质量促进办法 · 首席质量官")
    assert found.response.results[0].article.label == "第十二条" and not found.cached
    again = service.converse("那杭州呢", ["首席质量官制度是怎么规定的"], 3)
    assert again.cached and again.understood == found.understood
    alone = service.converse("那杭州呢", [], 3)
    assert alone.understood is None and alone.response.abstained
