"""The conversation room's own regressions (retrieval/conversation/: followup, compare, permalinks), fast: the
hand-made two-regulation corpus of tests/test_followup.py, and stub retrievers that answer from fixed lists.

Each test names the change it catches (tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ingest.schema import Article
from retrieval.conversation import compare
from retrieval.conversation.followup import MAX_HISTORY
from retrieval.results import Result
from tests.test_followup import CORPUS, HANGZHOU, HUBEI, read


def _stub(**kw) -> SimpleNamespace:
    """A retriever as compare and followup see it: the corpus is already made for its index."""
    index = object()
    return SimpleNamespace(index=index, _followup_corpus=(index, CORPUS), regulations=(HUBEI, HANGZHOU), **kw)


# -- (a) the newest turns are the ones kept ------------------------------------------------------------------
def test_a_long_conversation_is_read_from_its_newest_turns():
    # An old topic at the start, many unrelated complete questions, then the topic the person is on now.
    history = ["湖北的质量保险", *["缺陷消费品召回由哪个部门监管"] * (MAX_HISTORY + 5), "首席质量官制度是怎么规定的"]
    u = read("那杭州呢", *history)
    assert (u.kind, u.query, u.regulations) == ("regulation", "首席质量官制度", ("hangzhou",))


def test_turns_older_than_the_limit_are_not_read():
    # The only turn that gives 那杭州呢 a topic lies beyond MAX_HISTORY: the question is read as typed.
    history = ["首席质量官制度是怎么规定的", *["？？？"] * MAX_HISTORY]
    assert read("那杭州呢", *history).merged is False
    assert read("那杭州呢", *history[1:][:-1], history[0]).merged is True  # the same turn within the limit


# -- (b) 后一条 is the next article, 前一条 the previous ---------------------------------------------------------
@pytest.mark.parametrize(("follow", "number"), [("后一条", 3), ("后一条呢", 3), ("再后一个条款", 3), ("前一条", 1),
                                                ("前一条讲什么", 1), ("the following article", 3),
                                                ("preceding provision", 1), ("next one", 3)])
def test_after_and_before_words_count_the_right_way(follow: str, number: int):
    u = read(follow, "湖北条例第二条讲什么")
    assert (u.kind, u.article) == ("relative", ("hubei", number, 0))
    assert u.query == f"湖北省质量促进条例第{'一二三'[number - 1]}条"


# -- (c) two named regulations are a comparison, with or without a comparison word -------------------------------
def test_two_named_regulations_are_compared_without_a_comparison_word():
    assert compare.sides_of(_stub(), "湖北和杭州对首席质量官制度的规定") == (("hubei", "hangzhou"), "首席质量官制度")
    assert compare.sides_of(_stub(), "杭州办法和湖北条例关于质量保险的规定") == (("hangzhou", "hubei"), "质量保险")


def test_one_regulation_and_a_comparison_word_compares_it_with_every_other():
    # the topic keeps the question's words whole (和 stays: a follow-up's topic is never garbled)
    assert compare.sides_of(_stub(), "杭州的首席质量官制度和别处有什么区别") == (("hangzhou", "hubei"),
                                                                         "首席质量官制度和别处")
    assert compare.sides_of(_stub(), "首席质量官制度有什么不同") == (("hubei", "hangzhou"), "首席质量官制度")
    assert compare.sides_of(_stub(), "compare quality insurance") == (("hubei", "hangzhou"), "quality insurance")
    # a word only the comparison knows (对照), and one only the follow-up rules know (两边 … 一样)
    assert compare.sides_of(_stub(), "对照首席质量官制度")[0] == ("hubei", "hangzhou")
    assert compare.sides_of(_stub(), "首席质量官制度两边一样吗")[0] == ("hubei", "hangzhou")


def test_questions_that_are_no_comparison():
    assert compare.sides_of(_stub(), "首席质量官制度") is None  # a topic, no comparison
    assert compare.sides_of(_stub(), "湖北和杭州") is None  # two names, nothing to compare them on
    assert compare.sides_of(_stub(), "杭州的首席质量官制度") is None  # one name, no comparison word
    one = SimpleNamespace(**{**vars(_stub()), "regulations": (HUBEI,)})
    one._followup_corpus = (one.index, CORPUS.__class__((HUBEI,), CORPUS.article, CORPUS.share))
    assert compare.sides_of(one, "首席质量官制度有什么不同") is None  # one regulation: nothing to set beside it


# -- compare_topic / compare_article on stubs ----------------------------------------------------------------
def _art(reg, number: int, text: str = "x") -> Article:
    return Article(reg.id, reg.title, None, f"第{number}条", number, 0, text)


def _res(reg, number: int, score: float = 0.9) -> Result:
    return Result(_art(reg, number), score, ("dense",), 0, 1)


class _Searcher:
    """Answers each regulation from a fixed list; `close` maps an article id to its vector neighbours."""

    def __init__(self, answers: dict[str, list[Result]], close: dict[str, list[Result]],
                 abstain: frozenset[str] = frozenset()) -> None:
        self.regulations = (HUBEI, HANGZHOU)
        self.answers, self.close, self.abstain = answers, close, abstain
        self.asked: list[tuple] = []
        # no lexical index: no word is rarer than another, so pairs rest on the vectors alone
        self.index = SimpleNamespace(lexical=SimpleNamespace(documents=0, document_frequency=lambda token: 0))

    def search(self, topic, k, mode, regulations, settings):
        self.asked.append((topic, k, mode, tuple(regulations), settings))
        [rid] = regulations
        return SimpleNamespace(abstained=rid in self.abstain, results=self.answers.get(rid, [])[:k])

    def related(self, article_id, k, within=None):
        self.asked_related = [*getattr(self, "asked_related", []), k]
        return self.close.get(article_id, [])[:k]

    def article_by_id(self, article_id):
        return next((a.article for rs in self.answers.values() for a in rs if a.article.id == article_id), None)


def _labels(rows) -> list[list[list[str]]]:
    return [[[f"{x.article.regulation_id}:{x.article.number}" for x in cell] for cell in row] for row in rows]


def test_compare_topic_pairs_each_article_with_its_closest_answer_on_the_other_side():
    hb2, hb6, hz2, hz3 = _res(HUBEI, 2), _res(HUBEI, 6), _res(HANGZHOU, 2, 0.5), _res(HANGZHOU, 3, 0.4)
    s = _Searcher({"hubei": [hb2, hb6], "hangzhou": [hz3, hz2]},
                  close={hb2.article.id: [_res(HANGZHOU, 9), hz2, hz3], hb6.article.id: [hz2, hz3]})
    c = compare.compare_topic(s, ["hubei", "hangzhou", "nowhere"], "首席质量官", mode="dense", settings="S")
    assert c.topic == "首席质量官" and c.sides == (("hubei", HUBEI.title), ("hangzhou", HANGZHOU.title))
    # 第二条 of Hubei goes with Hangzhou's 第2条 (its closest answer there; 第9条 was not an answer), 第六条 with
    # what is left; every answer appears once, the side's own result (its score) is shown
    assert _labels(c.rows) == [[["hubei:2"], ["hangzhou:2"]], [["hubei:6"], ["hangzhou:3"]]]
    assert c.rows[0][1][0].score == 0.5
    assert s.asked == [("首席质量官", compare.PER_SIDE, "dense", ("hubei",), "S"),
                       ("首席质量官", compare.PER_SIDE, "dense", ("hangzhou",), "S")]


def test_answers_left_unpaired_get_rows_of_their_own_and_an_abstaining_side_is_empty():
    hb2, hz2, hz3 = _res(HUBEI, 2), _res(HANGZHOU, 2), _res(HANGZHOU, 3)
    # 第3条 is Hubei 第二条's near neighbour, 第2条 a far one: the near one is paired, the other gets its own row
    near = {hb2.article.id: [hz3, _res(HANGZHOU, 2, 0.1)]}
    s = _Searcher({"hubei": [hb2], "hangzhou": [hz2, hz3]}, close=near)
    assert _labels(compare.compare_topic(s, ["hubei", "hangzhou"], "t").rows) == [
        [["hubei:2"], ["hangzhou:3"]], [[], ["hangzhou:2"]]]
    assert set(s.asked_related) == {2 * compare.CANDIDATES}  # CANDIDATES neighbours per regulation are looked at
    s = _Searcher({"hubei": [hb2], "hangzhou": [hz3, hz2]}, close=near)  # the placed one first
    assert _labels(compare.compare_topic(s, ["hubei", "hangzhou"], "t").rows) == [
        [["hubei:2"], ["hangzhou:3"]], [[], ["hangzhou:2"]]]
    s = _Searcher({"hubei": [hb2], "hangzhou": [hz2, hz3]}, close={hb2.article.id: [hz3]},
                  abstain=frozenset({"hangzhou"}))
    assert _labels(compare.compare_topic(s, ["hubei", "hangzhou"], "t").rows) == [[["hubei:2"], []]]
    assert s.asked[0][2] == "hybrid"  # the default mode


def test_compare_topic_stops_at_max_rows():
    many = [_res(HUBEI, n) for n in range(1, compare.MAX_ROWS + 3)]
    s = _Searcher({"hubei": many, "hangzhou": []}, close={})
    s.search = lambda topic, k, mode, regulations, settings: SimpleNamespace(
        abstained=False, results=s.answers[regulations[0]])
    assert len(compare.compare_topic(s, ["hubei", "hangzhou"], "t").rows) == compare.MAX_ROWS


def test_compare_article_sets_one_article_beside_its_closest_in_each_other_regulation():
    hb2 = _res(HUBEI, 2)
    near = [_res(HANGZHOU, 3, 0.8), _res(HANGZHOU, 1, 0.6), _res(HANGZHOU, 2, 0.5)]
    assert compare.CLOSEST == 2
    s = _Searcher({"hubei": [hb2]}, close={hb2.article.id: near})
    c = compare.compare_article(s, hb2.article.id)
    assert c.topic == "湖北省质量促进条例第2条"
    assert c.sides == (("hubei", HUBEI.title), ("hangzhou", HANGZHOU.title))
    assert _labels(c.rows) == [[["hubei:2"], ["hangzhou:3", "hangzhou:1"]]]  # CLOSEST of them
    own = c.rows[0][0][0]
    assert (own.score, own.found_by) == (1.0, ("reference",))
    assert (own.match_start, own.match_end) == (0, 0)  # no sentence of it is marked
    assert s.asked_related == [compare.CANDIDATES * 1]  # CANDIDATES neighbours for each other regulation
    assert compare.compare_article(s, "no-such-article") is None


# -- the corpus and the small helpers the rules stand on ---------------------------------------------------------------
def test_labels_of_articles_the_index_does_not_hold_are_written_regularly():
    assert CORPUS.label(("hubei", 3, 0)) == "第三条"
    assert CORPUS.label(("hubei", 40, 0)) == "第四十条" and CORPUS.label(("hubei", 40, 2)) == "第四十条之二"
    assert CORPUS.label(("hubei", 0, 0)) == "第0条" and CORPUS.label(("hubei", -1, 0)) == "第-1条"
    assert CORPUS.title("hubei") == HUBEI.title and CORPUS.title("nowhere") == "nowhere"


def test_word_shares_are_counted_once_and_the_memo_stays_bounded():
    from retrieval.conversation.followup import GENERIC_SHARE, Corpus

    asked: list[str] = []

    def share(word: str) -> float:
        asked.append(word)
        return 0.5 if word == "企业" else 0.0

    corpus = Corpus((HUBEI,), lambda r, n, s: None, share)
    assert corpus.share("企业") == 0.5 and corpus.share("企业") == 0.5 and asked == ["企业"]
    assert not corpus.is_topic_word("企业") and corpus.is_topic_word("保险")
    for n in range(10_002):
        corpus.share(f"w{n}")
    assert len(corpus._shares) <= 10_001  # cleared once past 10,000 words
    corpus.share("企业")
    assert asked.count("企业") == 2  # asked again after the clearing
    assert Corpus.of_articles((HUBEI,), ()).share("x") == 0.0
    assert CORPUS.share("首席质量官") == 2 / 20 < GENERIC_SHARE <= CORPUS.share("企业")


def test_the_corpus_of_a_retriever_is_made_once_per_loaded_index(fake_index):
    from retrieval.conversation.followup import corpus_of
    from retrieval.retriever import Retriever
    from tests.conftest import FakeEmbedder

    r = Retriever(fake_index, embedder=FakeEmbedder())
    first = corpus_of(r)
    assert corpus_of(r) is first and {reg.id for reg in first.regulations} == {reg.id for reg in r.regulations}
    assert first.article(r.index.articles[0].regulation_id, 1, 0) is not None
    assert 0 < first.share("质量") <= 1 and first.share("从未出现的词") == 0
    r._followup_corpus = (object(), first)  # made for another index (a reload): made again
    assert corpus_of(r) is not first


def test_kept_words_join_chinese_runs_without_spaces_and_latin_words_with_one():
    from retrieval.conversation.followup import _join

    assert _join(["质量", "保险", "", "quality", "insurance", "", "", "首席", "x", "官"]) == \
        "质量保险 quality insurance 首席 x 官"
    assert _join([]) == "" and _join(["", ""]) == "" and _join(["a1", "b"]) == "a1 b"


def test_the_callers_filter_and_the_conversations_regulations_meet():
    from retrieval.conversation.followup import _ids, _within

    assert _ids(["湖北条例", "杭州市质量促进办法", "hangzhou", "nothing"], CORPUS) == {"hubei", "hangzhou"}
    assert _within(None, None, ["a"]) == ["a"]
    assert _within(("a", "b"), None, None) == ("a", "b")
    assert _within(("a", "b"), frozenset({"b"}), ["B"]) == ("b",)
    assert _within(("a",), frozenset({"b"}), ["B"]) == ["B"]  # they do not meet: the caller's filter wins


def test_the_json_of_a_search_gains_understood_only_with_a_history():
    from retrieval.conversation.followup import response_json

    response = SimpleNamespace(to_json=lambda: {"query": "q", "results": []})
    assert response_json(response, None) == {"query": "q", "results": []}
    u = read("那杭州呢", "首席质量官制度是怎么规定的")
    assert response_json(response, u) == {"query": "q", "results": [], "understood": u.to_json()}


# -- more of the rules -------------------------------------------------------------------------------------------------
def test_the_same_regulation_named_after_an_article_is_that_article_again():
    u = read("杭州办法呢", "杭州办法第二条")
    assert (u.kind, u.article, u.query) == ("regulation", ("hangzhou", 2, 0), "杭州市质量促进办法第二条")


def test_the_corresponding_article_query_is_cut_at_a_sentence_end():
    from retrieval.conversation.followup import MAX_ARTICLE_QUERY, Corpus, _article_query

    long_text = "企业应当建立质量管理体系。" * 30
    article = Article("hubei", HUBEI.title, None, "第七条", 7, 0, long_text)
    query = _article_query(article, CORPUS)
    assert query.endswith("。") and len(query) <= MAX_ARTICLE_QUERY and len(query) > MAX_ARTICLE_QUERY - 14
    no_stop = Article("hubei", HUBEI.title, None, "第八条", 8, 0, "质" * 500)
    assert _article_query(no_stop, CORPUS) == "质" * MAX_ARTICLE_QUERY
    cited = Article("hubei", HUBEI.title, None, "第九条", 9, 0,
                    "依照《湖北省质量促进条例》第二条和  杭州办法第三条，做好工作。")
    assert _article_query(cited, CORPUS) == "依照 和 ,做好工作。"  # folded, without the names and numbers
    empty = Corpus((HUBEI,), lambda r, n, s: None, lambda w: 0.0)
    assert read("杭州有没有类似的", "湖北条例第五条").kind == "regulation"
    assert understand_fresh("杭州有没有类似的", "湖北条例第五条", empty)


def understand_fresh(question: str, before: str, corpus) -> bool:
    """In a corpus that does not hold the article the conversation is on, 'the corresponding one' reads as typed."""
    from retrieval.conversation.followup import understand

    return understand(question, [before], corpus).kind == "fresh"


def test_an_article_with_a_topic_of_its_own_or_of_an_unknown_regulation_is_complete():
    assert read("第三条关于质量保险怎么说", "湖北条例第二条").kind == "fresh"
    assert read("第三条呢", "首席质量官制度").kind == "fresh"  # no regulation to read it in
    assert read("《不存在条例》第三条", "湖北条例第二条").kind == "fresh"
    assert read("下一条", "《不存在条例》第三条").kind == "fresh"


def test_a_pronoun_with_few_topic_words_leans_on_the_history_and_many_do_not():
    u = read("它由谁监督", "湖北的缺陷消费品召回")
    assert (u.kind, u.query, u.regulations) == ("topic", "缺陷消费品召回 监督", ("hubei",))
    assert u.shown_as == "湖北省质量促进条例 · 缺陷消费品召回 · 监督"
    many = read("这个质量保险首席质量官召回奖励怎么规定", "湖北的缺陷消费品召回")
    assert many.kind == "fresh"


def test_a_topic_turn_after_a_regulation_alone_keeps_the_regulation():
    u = read("企业要做什么", "杭州办法")  # a regulation alone sets no topic; common words lean on it
    assert (u.kind, u.regulations, u.query) == ("topic", ("hangzhou",), "企业")
    assert read("企业要做什么", "第三条").kind == "fresh"  # no topic, no regulation: nothing to carry over


def test_a_shift_after_a_comparison_keeps_both_regulations_and_the_next_turn_follows_it():
    u = read("那质量保险呢", "湖北和杭州的首席质量官制度")
    assert (u.kind, set(u.regulations), u.query) == ("shift", {"hubei", "hangzhou"}, "质量保险")
    after = read("湖北的呢", "湖北和杭州的首席质量官制度", "那质量保险呢")
    assert (after.kind, after.regulations, after.query) == ("regulation", ("hubei",), "质量保险")


def test_a_follow_up_on_a_follow_up_carries_the_refinement():
    u = read("杭州呢", "湖北的质量保险", "这个由谁负责")
    assert (u.kind, u.regulations) == ("regulation", ("hangzhou",))
    assert u.query == "质量保险 负责"


# -- permalinks ------------------------------------------------------------------------------------------------------
def test_permalinks_of_sub_numbered_articles_and_of_regulations_not_in_the_table():
    from retrieval.conversation.permalinks import Permalinks

    links = Permalinks([HUBEI, HANGZHOU])
    assert links.resolve("hangzhou-10-12") == ("hangzhou", 10, 12)  # 第十条之十二
    assert links.resolve("hangzhou-10-123") is None and links.resolve("hangzhou-10-1x") is None
    other = Article("other-regulation-2020", "别的条例", None, "第五条", 5, 0, "x")
    assert links.of(other) == "other-regulation-2020-5"  # not in the table: its whole id
    assert links.resolve(None) is None


# -- whole readings (every field a caller gets), on a corpus made inside the test -----------------------------------
def _fresh_corpus():
    from retrieval.conversation.followup import Corpus
    from tests.test_followup import ARTICLES

    return Corpus.of_articles((HUBEI, HANGZHOU), ARTICLES)


def test_a_corpus_of_parsed_articles_knows_them_and_how_common_each_word_is():
    from tests.test_followup import ARTICLES

    corpus = _fresh_corpus()
    assert corpus.regulations == (HUBEI, HANGZHOU) and corpus.article("hubei", 5, 0) is ARTICLES[4]
    assert corpus.article("hubei", 5, 1) is None and corpus.article("nowhere", 1, 0) is None
    assert corpus.share("首席质量官") == 2 / 20 and corpus.share("企业") == 19 / 20 and corpus.share("无此词") == 0.0
    assert corpus.share("Ｑ") == corpus.share("Q") == 0.0  # texts are folded as questions are
    u = understand_with(corpus, "那杭州呢", "首席质量官制度是怎么规定的")
    assert (u.query, u.regulations) == ("首席质量官制度", ("hangzhou",))


def understand_with(corpus, question: str, *history: str):
    from retrieval.conversation.followup import understand

    return understand(question, list(history), corpus)


def test_a_pronoun_after_an_article_reads_in_that_article_whole():
    from retrieval.conversation.followup import Understood

    assert understand_with(_fresh_corpus(), "这里说的奖励给谁", "湖北条例第六条") == Understood(
        "湖北省质量促进条例第六条 奖励给", ("hubei",), ("hubei", 6, 0), True, "《湖北省质量促进条例》第六条 · 奖励给",
        "这里说的奖励给谁", "topic")
    # the article's regulation named again keeps it; another regulation named does not
    assert understand_with(_fresh_corpus(), "湖北条例这里说的奖励给谁", "湖北条例第六条").article == ("hubei", 6, 0)
    assert understand_with(_fresh_corpus(), "杭州办法这里说的奖励给谁", "湖北条例第六条").article is None


def test_a_topic_turn_after_a_regulation_alone_reads_whole():
    from retrieval.conversation.followup import Understood

    assert understand_with(_fresh_corpus(), "企业要做什么", "杭州办法") == Understood(
        "企业", ("hangzhou",), None, True, "杭州市质量促进办法 · 企业", "企业要做什么", "topic")
    assert understand_with(_fresh_corpus(), "杭州办法里企业要做什么", "杭州办法").kind == "fresh"  # nothing new


def test_the_same_regulation_after_its_article_reads_whole():
    from retrieval.conversation.followup import Understood

    assert understand_with(_fresh_corpus(), "杭州办法呢", "杭州办法第二条") == Understood(
        "杭州市质量促进办法第二条", ("hangzhou",), ("hangzhou", 2, 0), True, "《杭州市质量促进办法》第二条",
        "杭州办法呢", "regulation")
    assert understand_with(_fresh_corpus(), "湖北的呢", "杭州办法").kind == "fresh"  # no topic to carry


def test_an_article_number_needs_one_regulation_to_be_read_in():
    assert understand_with(_fresh_corpus(), "第三条呢", "湖北的首席质量官制度").article == ("hubei", 3, 0)
    assert understand_with(_fresh_corpus(), "第三条呢", "湖北和杭州的首席质量官制度").kind == "fresh"


def test_a_comparison_after_a_pronoun_turn_keeps_the_regulation_it_was_on():
    u = understand_with(_fresh_corpus(), "跟杭州的有什么不同", "质量保险有什么规定", "湖北条例里这个由谁负责")
    assert (u.kind, u.regulations) == ("regulation", ("hubei", "hangzhou"))
    both = understand_with(_fresh_corpus(), "两者哪个要求更严格", "杭州的首席质量官制度", "湖北的呢")
    assert (both.kind, set(both.regulations)) == ("topic", {"hubei", "hangzhou"})
    one = understand_with(_fresh_corpus(), "两者哪个要求更严格", "杭州的首席质量官制度")  # one regulation seen only
    assert (one.kind, one.regulations) == ("topic", ("hangzhou",))


# -- the context a turn leaves for the next (three and four turns) ----------------------------------------------------
@pytest.mark.parametrize(("history", "question", "expected"), [
    # after 下一条 (an article): a pronoun stays in that article, a regulation alone takes it across
    (["湖北条例第一条", "下一条"], "这里说的奖励给谁",
      ("topic", ("hubei",), ("hubei", 2, 0), "湖北省质量促进条例第二条 奖励给")),
    (["湖北条例第一条", "下一条"], "杭州呢", ("regulation", ("hangzhou",), None, None)),
    (["湖北条例第一条", "第二条呢"], "上一条", ("relative", ("hubei",), ("hubei", 1, 0), "湖北省质量促进条例第一条")),
    # after a regulation turn: its regulation, the old topic and article kept
    (["湖北的质量保险", "杭州呢"], "这个由谁负责", ("topic", ("hangzhou",), None, "质量保险 负责")),
    (["湖北条例第五条", "杭州有没有类似的"], "湖北的呢",
      ("regulation", ("hubei",), ("hubei", 5, 0), "湖北省质量促进条例第五条")),
    (["湖北的质量保险", "这个由谁负责", "杭州呢"], "湖北的呢", ("regulation", ("hubei",), None, "质量保险 负责")),
    # after a topic turn: the refinement replaces the last one, the regulation stays
    (["湖北的质量保险", "这个由谁负责", "这个有奖励吗"], "杭州呢",
      ("regulation", ("hangzhou",), None, "质量保险 奖励")),
    # after a shift: the new topic, in the same regulation, and the regulations seen are those of the shift
    (["湖北的首席质量官制度", "那质量保险呢"], "这个由谁负责", ("topic", ("hubei",), None, "质量保险 负责")),
    (["湖北的首席质量官制度", "那质量保险呢"], "杭州呢", ("regulation", ("hangzhou",), None, "质量保险")),
    (["湖北的首席质量官制度", "那质量保险呢"], "跟杭州有什么不同",
      ("regulation", ("hubei", "hangzhou"), None, "质量保险")),
    # a fresh question with an article: that article is the topic, unless the question has a topic too
    (["湖北条例第五条讲质量安全事故"], "下一条", ("relative", ("hubei",), ("hubei", 6, 0), "湖北省质量促进条例第六条")),
    (["湖北条例第五条讲质量安全事故"], "杭州呢", ("regulation", ("hangzhou",), None, "质量安全事故")),
])
def test_each_kind_of_turn_leaves_its_context(history, question, expected):
    u = understand_with(_fresh_corpus(), question, *history)
    kind, regulations, article, query = expected
    assert (u.kind, u.regulations, u.article) == (kind, regulations, article)
    if query is not None:
        assert u.query == query
    assert u.merged and u.alone == question


def test_a_shift_after_two_regulations_compares_within_the_shift():
    u = understand_with(_fresh_corpus(), "两边有什么不同", "湖北和杭州的首席质量官", "那质量保险呢")
    assert (u.kind, set(u.regulations)) == ("topic", {"hubei", "hangzhou"}) and u.query.startswith("质量保险")


# -- search_conversation: what it asks the retriever ---------------------------------------------------------------
class _Recorder:
    """A retriever that answers every search with one article and records what it was asked."""

    def __init__(self, top=("hubei", 2, 0)):
        index = object()
        self.index, self._followup_corpus, self.regulations = index, (index, _fresh_corpus()), (HUBEI, HANGZHOU)
        self.top = top
        self.asked: list[tuple] = []

    def search(self, query, k, mode, regulations, settings):
        self.asked.append((query, k, mode, regulations, settings))
        results = [] if self.top is None else [SimpleNamespace(article=SimpleNamespace(
            regulation_id=self.top[0], number=self.top[1], sub_number=self.top[2]))]
        return SimpleNamespace(results=results, query=query, abstained=not results)


def test_search_conversation_searches_what_it_understood_with_the_callers_settings():
    from retrieval.conversation.followup import COUNTERPART_POOL, search_conversation

    r = _Recorder(top=None)  # nothing found here: no earlier answers to lift counterparts of
    resp, u = search_conversation(r, "那杭州呢", ["首席质量官制度是怎么规定的"], k=3, mode="dense", settings="S")
    assert u.kind == "regulation"
    # a pool to reorder by the earlier turn's answers, cut to k afterwards
    assert r.asked == [("首席质量官制度", max(3, COUNTERPART_POOL), "dense", ("hangzhou",), "S")]
    assert resp.query == "首席质量官制度"
    r.asked.clear()
    search_conversation(r, "质量保险", None)
    assert r.asked == [("质量保险", 5, "hybrid", None, None)]  # the defaults


def test_next_article_after_a_topic_asks_for_the_top_article_once():
    from retrieval.conversation.followup import search_conversation

    r = _Recorder(top=("hubei", 2, 0))
    _, u = search_conversation(r, "下一条", ["湖北的首席质量官制度"], k=4, mode="lexical", settings="S",
                               regulations=["湖北条例", "杭州办法"])
    assert u.article == ("hubei", 3, 0)
    # the earlier turn searched again as it was read (as typed, in the caller's filter) for its top article
    assert r.asked == [("湖北的首席质量官制度", 1, "lexical", ["湖北条例", "杭州办法"], "S"),
                       ("湖北省质量促进条例第三条", 4, "lexical", ("hubei",), "S")]
    r = _Recorder(top=None)  # the earlier turn found nothing: 下一条 is read as typed
    _, u = search_conversation(r, "下一条", ["湖北的首席质量官制度"])
    assert u.kind == "fresh" and r.asked[-1][0] == "下一条"
    r = _Recorder()
    _, u = search_conversation(r, "下一条", ["湖北的首席质量官制度"], previous_top=("hangzhou", 1, 0))
    assert u.article == ("hangzhou", 2, 0) and len(r.asked) == 1  # known: no search for it
    history = ["湖北的首席质量官制度", "质量保险"]
    _, u = search_conversation(_Recorder(), "下一条", history, previous_top=("hangzhou", 1, 0))
    assert u.article == ("hangzhou", 2, 0)  # the top of the last turn only


def test_a_history_that_is_not_a_list_of_questions_is_refused_with_how_to_send_it():
    from ingest.errors import QueryError
    from retrieval.conversation.followup import _checked_history

    with pytest.raises(QueryError) as info:
        _checked_history("湖北条例第二条")
    assert str(info.value) == "history must be a list of the earlier questions (strings), oldest first"
    assert _checked_history(None) == [] and _checked_history(("a", "b")) == ["a", "b"]


# -- reading one turn: the signs of leaning on the history -----------------------------------------------------------
def _as_typed(question: str):
    from retrieval.conversation.followup import Understood

    return Understood(question, None, None, False, question, question, "fresh")


@pytest.mark.parametrize(("question", "history"), [
    ("下一条", ["首席质量官制度"]),  # nothing to count from
    ("《不存在条例》第三条", ["湖北条例第二条"]),  # an unknown regulation
    ("第六条", ["杭州办法第二条"]),  # not in the conversation's regulation
    ("第三条关于质量保险怎么说", ["湖北条例第二条"]),  # an article and a topic of its own
    ("这两部条例对质量保险怎么规定", ["杭州的首席质量官制度", "湖北的呢"]),  # counting the regulations points at none
    ("缺陷消费品召回怎么规定呢", ["湖北对首席质量官怎么规定"]),  # 呢 after a question word: a question of its own
])
def test_questions_read_as_typed_keep_every_word(question, history):
    assert understand_with(_fresh_corpus(), question, *history) == _as_typed(question)


@pytest.mark.parametrize("question", ["缺陷消费品召回呢", "那缺陷消费品召回", "还有缺陷消费品召回"])
def test_a_new_topic_with_a_continuation_sign_stays_in_the_regulation(question):
    u = understand_with(_fresh_corpus(), question, "湖北对首席质量官怎么规定")
    assert (u.kind, u.regulations, u.query, u.alone) == ("shift", ("hubei",), "缺陷消费品召回", question)


def test_relative_and_english_possessive_turns_keep_what_was_typed():
    u = understand_with(_fresh_corpus(), "下一条", "湖北条例第二条讲什么")
    assert (u.alone, u.shown_as, u.merged) == ("下一条", "《湖北省质量促进条例》第三条", True)
    asked = "What does the Hubei regulation say about quality insurance?"
    en = understand_with(_fresh_corpus(), "And Hangzhou's?", asked)
    assert (en.kind, en.regulations, en.query) == ("regulation", ("hangzhou",), "quality insurance")
    dem = understand_with(_fresh_corpus(), "杭州这个办法里质量保险怎么规定", "湖北的首席质量官制度")
    assert dem.kind == "fresh"  # 这个办法 is the one named, not the earlier turn
