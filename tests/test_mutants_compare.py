"""Side by side (retrieval/conversation/compare.py), fast: which articles are paired, in what order, which sides a
library shows, the limits. Two kinds of retriever, no model: `_Lib`, hand-made articles whose word counts are real
(key words and topic overlaps as the index would weigh them) with the vector neighbours and search answers given;
and a small library of five regulations (two versions of one) built from fixture text with the fake embedder."""

from __future__ import annotations

import json
import math
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest.schema import Article, Regulation
from ingest.words import words
from retrieval.conversation import compare
from retrieval.conversation.compare import Comparison
from retrieval.conversation.followup import Corpus
from retrieval.results import Result
from tests.conftest import FakeEmbedder

NUMERALS = "一二三四五六七八九十"


def _reg(rid: str, title: str, *short: str, version: str | None = None) -> Regulation:
    return Regulation(rid, title, short_names=short, version=version)


def _article(reg: Regulation, number: int, text: str) -> Article:
    return Article(reg.id, reg.title, None, f"第{NUMERALS[number - 1]}条", number, 0, text)


class _Lib:
    """A retriever as compare sees it. `close`: an article id → [(neighbour id, closeness)], best first;
    `answers`: a regulation id (None: the whole index) → the article ids its search returns, best first."""

    def __init__(self, regulations, articles, close=None, answers=None) -> None:
        self.regulations = tuple(regulations)
        self.articles = {a.id: a for a in articles}
        held = [set(words(a.text)) for a in articles]
        lexical = SimpleNamespace(documents=len(held), document_frequency=lambda t: sum(t in h for h in held))
        self.index = SimpleNamespace(lexical=lexical)
        self._followup_corpus = (self.index, Corpus.of_articles(self.regulations, articles))
        self.close, self.answers = close or {}, answers or {}
        self.related_asked: list[tuple] = []
        self.searched: list[tuple] = []

    def article_by_id(self, article_id):
        return self.articles.get(article_id)

    def related(self, article_id, k=3, within=None):
        self.related_asked.append((article_id, k, within))
        near = [Result(self.articles[a], s, ("dense",), 0, 1) for a, s in self.close.get(article_id, [])]
        return [r for r in near if within is None or r.article.regulation_id in within][:k]

    def search(self, question, k=5, mode="hybrid", regulations=None, settings=None):
        self.searched.append((question, k, mode, None if regulations is None else tuple(regulations)))
        rid = None if regulations is None else regulations[0]
        ids = self.answers.get(rid, [])[:k]
        return SimpleNamespace(abstained=False, results=[Result(self.articles[a], 0.5, (mode,), 1, 3) for a in ids])


def _ids(rows) -> list[list[list[str]]]:
    return [[[x.article.id for x in cell] for cell in row] for row in rows]


# -- the helpers: weights, overlaps, the topic filter -------------------------------------------------------------
def test_a_row_is_weak_only_when_its_flag_says_so():
    c = Comparison("t", (), ((), (), ()), (True, False))
    assert [c.is_weak(n) for n in range(3)] == [True, False, False]  # a row without a flag is not weak
    assert not Comparison("t", (), ((),)).is_weak(0)


def test_overlap_is_the_weighted_share_of_tokens_or_words_the_text_holds():
    assert compare.overlap({}, "质量") == 0.0 and compare.overlap({"质量": 0.0}, "质量") == 0.0  # nothing to hold
    assert compare.overlap({"保险": 3.0, "首席": 1.0}, "质量保险产品") == 0.75
    assert compare.overlap({"保险": 3.0, "首席": 1.0}, "首席质量官与保险") == 1.0
    # tokens (the default): characters and pairs; a longer word is held only as words (tokens=False), folded
    assert compare.overlap({"首席质量官": 1.0}, "设立首席质量官") == 0.0
    assert compare.overlap({"首席质量官": 1.0, "保险": 1.0}, "設立首席質量官", tokens=False) == 0.5


def _counted() -> _Lib:
    a, b = _reg("a", "甲法"), _reg("b", "乙法")
    texts = ["企业设立首席质量官。", "企业投保质量保险。", "企业开展质量培训。", "企业质量信用评价。"]
    return _Lib((a, b), [_article(a if n < 2 else b, n + 1, t) for n, t in enumerate(texts)])


def test_a_topic_weighs_its_tokens_by_rarity_and_drops_those_in_every_article_or_none():
    weights = compare._weights(_counted(), "首席质量官和保险")
    assert weights["首席"] == pytest.approx(math.log(4)) and weights["保"] == pytest.approx(math.log(4))
    assert "质量" not in weights and "质" not in weights  # in every article: no weight
    assert "和" not in weights  # in none
    key = compare._key_words(_counted(), "企业设立首席质量官，投保质量保险")
    assert key == pytest.approx({"设立": math.log(4), "首席": math.log(4), "投保": math.log(4), "保险": math.log(4)})


def test_two_articles_share_their_key_words_both_ways_averaged():
    lib = _Lib((_reg("a", "甲法"),), [_article(_reg("a", "甲法"), n + 1, t) for n, t in enumerate(
        ["知识产权保护", "标准化建设", "质量基础设施", "计量检定", "认证认可", "检验检测"])])
    same = "加强知识产权保护和标准化建设"
    assert compare.pair_overlap(lib, same, same) == pytest.approx(1.0)
    assert compare.pair_overlap(lib, same, "计量检定") == 0.0
    one_way = compare.pair_overlap(lib, "知识产权保护", same)  # all of the first's words, half of the second's
    assert one_way == compare.pair_overlap(lib, same, "知识产权保护")
    assert 0.5 < one_way < 1.0
    assert one_way == pytest.approx((1.0 + compare.overlap(compare._key_words(lib, same), "知识产权保护", False)) / 2)


def _said(*texts: str) -> list[Result]:
    reg = _reg("a", "甲法")
    return [Result(_article(reg, n + 1, t), 0.5, ("lexical",), 0, 1) for n, t in enumerate(texts)]


def test_a_side_keeps_the_answers_that_hold_enough_of_the_topic():
    def kept(weights, *texts):
        return [r.article.text for r in compare._on_topic(_said(*texts), weights)]

    # the side's best answer holds the whole topic: those with less than TOPIC_SHARE of that go (at it: kept)
    assert kept({"甲": 2.0, "乙": 3.0}, "甲乙", "丙", "甲", "乙") == ["甲乙", "甲", "乙"]
    # the best holds exactly TOPIC_FLOOR: the filter applies; below it the topic's words are not in the texts
    assert kept({"甲": 3.0, "乙": 7.0}, "甲", "丙") == ["甲"]
    assert kept({"甲": 1.0, "乙": 9.0}, "丙", "甲") == ["丙", "甲"]
    assert kept({"甲": 1.0}) == []


# -- compare_topic: the rows --------------------------------------------------------------------------------------
HB, HZ, NB = _reg("hb", "湖北省质量促进条例", "湖北条例"), _reg("hz", "杭州市质量促进办法", "杭州办法"), \
    _reg("nb", "宁波市质量促进条例", "宁波条例")
_TEXTS = {
    ("hb", 1): "鼓励企业设立首席质量官，首席质量官负责质量管理。",
    ("hb", 2): "支持企业投保产品质量责任保险。",
    ("hb", 3): "本条例自公布之日起施行。",
    ("hz", 1): "企业应当设立首席质量官。",
    ("hz", 2): "推广产品质量责任保险。",
    ("hz", 3): "对成绩突出的单位给予表彰。",
    ("nb", 1): "首席质量官应当参加培训。",
    ("nb", 2): "建立质量信用档案。",
}
_REGS = {r.id: r for r in (HB, HZ, NB)}
ARTS = {f"{rid}{n}": _article(_REGS[rid], n, t) for (rid, n), t in _TEXTS.items()}


def _aid(short: str) -> str:
    return ARTS[short].id


def _topic_lib(answers: dict, close: dict) -> _Lib:
    return _Lib((HB, HZ, NB), ARTS.values(), {_aid(a): [(_aid(b), s) for b, s in near] for a, near in close.items()},
                {rid: [_aid(a) for a in got] for rid, got in answers.items()})


def test_an_answer_neither_near_nor_sharing_a_word_is_not_paired_and_gets_its_own_row():
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz3"]}, close={})
    c = compare.compare_topic(lib, ["hb", "hz"], "质量")
    assert _ids(c.rows) == [[[_aid("hb1")], []], [[], [_aid("hz3")]]]
    assert c.weak == (False, False)  # a row with one side only is no loose pair
    # the same answer near by vectors is paired, however few words it shares: a weak pair
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz3"]}, close={"hb1": [("hz3", 0.4)]})
    c = compare.compare_topic(lib, ["hb", "hz"], "质量")
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("hz3")]]] and c.weak == (True,)
    # sharing key words is enough without being near: not weak
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz1"]}, close={})
    c = compare.compare_topic(lib, ["hb", "hz"], "质量")
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("hz1")]]] and c.weak == (False,)


def test_an_answer_the_vectors_did_not_find_counts_as_close_as_the_farthest_neighbour():
    # hz2 is hb1's neighbour (0.56), hz1 is not (it counts 0.1, the farthest) but shares 设立首席质量官 (0.55):
    # 0.1 + 0.55 beats 0.56 + 0.02 (hz1 counted 0 would not)
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz2", "hz1"]}, close={"hb1": [("hz2", 0.56), ("hz3", 0.1)]})
    c = compare.compare_topic(lib, ["hb", "hz"], "质量", mode="lexical")
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("hz1")]], [[], [_aid("hz2")]]]
    # a neighbour close enough wins over the shared words (hz1 counted as close as the nearest, 0.9, would not)
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz2", "hz1"]}, close={"hb1": [("hz2", 0.9), ("hz3", 0.1)]})
    assert _ids(compare.compare_topic(lib, ["hb", "hz"], "质量").rows)[0] == [[_aid("hb1")], [_aid("hz2")]]


def test_three_sides_are_paired_in_column_order_and_each_answer_shown_once():
    lib = _topic_lib({"hb": ["hb1", "hb2"], "hz": ["hz2", "hz1"], "nb": ["nb2", "nb1"]},
                     close={"hb1": [("hz1", 0.8), ("nb1", 0.7)], "hb2": [("hz2", 0.8)]})
    c = compare.compare_topic(lib, ["hb", "nowhere", "hz", "nb"], "质量")
    assert c.sides == (("hb", HB.title), ("hz", HZ.title), ("nb", NB.title))
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("hz1")], [_aid("nb1")]],
                            [[_aid("hb2")], [_aid("hz2")], [_aid("nb2")]]]
    # the vectors are asked among the compared regulations only, CANDIDATES for each
    assert {(k, w) for _, k, w in lib.related_asked} == {(3 * compare.CANDIDATES, frozenset({"hb", "hz", "nb"}))}
    lib = _topic_lib({"hb": [], "hz": ["hz1"], "nb": ["nb1", "nb2"]}, close={"hz1": [("nb2", 0.9), ("hb3", 0.1)]})
    # a side without answers: the next side's answers lead; the last side's leftovers get rows of their own
    assert _ids(compare.compare_topic(lib, ["hb", "hz", "nb"], "质量").rows) == [
        [[], [_aid("hz1")], [_aid("nb2")]], [[], [], [_aid("nb1")]]]


def test_a_side_answering_off_the_topic_drops_those_answers():
    # 首席质量官: hz1 holds it, hz2 (保险) does not; hb's answers hold none of it, so both are kept
    lib = _topic_lib({"hb": ["hb2", "hb3"], "hz": ["hz1", "hz2"]}, close={})
    c = compare.compare_topic(lib, ["hz", "hb"], "首席质量官")
    assert _ids(c.rows) == [[[_aid("hz1")], [_aid("hb2")]], [[], [_aid("hb3")]]]


def test_the_neighbours_looked_at_are_capped_in_a_large_library():
    regs = [_reg(f"r{n}", f"第{n}号条例") for n in range(20)]
    lib = _Lib(regs, [_article(r, 1, "企业设立首席质量官。") for r in regs],
               answers={r.id: [f"{r.id}#1-0"] for r in regs})
    compare.compare_topic(lib, [r.id for r in regs[:17]], "首席质量官")
    assert {k for _, k, _ in lib.related_asked} == {compare.MAX_NEIGHBOURS}  # not 17 × CANDIDATES


# -- counterparts and compare_article ----------------------------------------------------------------------------
def _pair_lib(close: dict, answers: dict, regs=(HB, HZ, NB)) -> _Lib:
    return _Lib(regs, ARTS.values(), {_aid(a): [(_aid(b), s) for b, s in near] for a, near in close.items()},
                {rid: [_aid(a) for a in got] for rid, got in answers.items()})


def test_a_counterpart_is_the_closest_by_vectors_plus_shared_key_words_in_that_regulation_only():
    lib = _pair_lib({"hb1": [("nb2", 0.9), ("hz3", 0.6), ("hz1", 0.4), ("hz2", 0.3)]}, {})
    shown, weak = compare.counterparts(lib, _aid("hb1"), "hz")
    assert [r.article.id for r in shown] == [_aid("hz1")] and not weak  # 首席质量官 outweighs 0.2 of closeness
    assert shown[0].score == 0.4  # its closeness, as the vectors gave it
    assert lib.related_asked == [(_aid("hb1"), 2 * compare.CANDIDATES, None)]  # CANDIDATES per other regulation
    # the lexical search: the rarest key words, in the one regulation, LEXICAL_CANDIDATES of them
    [(query, k, mode, regs)] = lib.searched
    assert (k, mode, regs) == (compare.LEXICAL_CANDIDATES, "lexical", ("hz",))
    assert set(query.split(" ")) == set(compare._key_words(lib, ARTS["hb1"].text))
    assert compare.counterparts(lib, _aid("hb1"), "nb")[0][0].article.id == _aid("nb2")
    assert compare.counterparts(lib, _aid("hb1"), "nowhere") == ((), False)


def test_articles_found_by_key_words_alone_count_as_close_as_the_farthest_neighbour():
    lib = _pair_lib({"hb1": [("hz3", 0.3), ("hz2", 0.2)]}, {"hz": ["hz1"]})
    shown, weak = compare.counterparts(lib, _aid("hb1"), "hz")
    assert [r.article.id for r in shown] == [_aid("hz1")] and not weak
    assert (shown[0].score, shown[0].found_by, shown[0].match_start, shown[0].match_end) == (0.2, ("lexical",), 0, 0)
    # not near and found by words only, without any neighbour: closeness 0
    lib = _pair_lib({}, {"hz": ["hz1"]})
    assert compare.counterparts(lib, _aid("hb1"), "hz")[0][0].score == 0.0


def test_a_second_counterpart_only_when_it_shares_nearly_as_many_key_words():
    # hz1 and hz2 share words with hb1 (首席质量官 / 质量): hz1 first; hz2 holds too few of them to be shown beside it
    lib = _pair_lib({"hb1": [("hz1", 0.5), ("hz2", 0.5), ("hz3", 0.49)]}, {})
    assert [r.article.id for r in compare.counterparts(lib, _aid("hb1"), "hz")[0]] == [_aid("hz1")]
    # two articles sharing the same words: both shown, at most n
    twin = _article(HZ, 4, "企业应当设立首席质量官。")
    lib = _Lib((HB, HZ), [*ARTS.values(), twin], {_aid("hb1"): [(_aid("hz1"), 0.5), (twin.id, 0.45),
                                                                (_aid("hz3"), 0.44)]})
    assert [r.article.id for r in compare.counterparts(lib, _aid("hb1"), "hz")[0]] == [_aid("hz1"), twin.id]
    assert [r.article.id for r in compare.counterparts(lib, _aid("hb1"), "hz", n=1)[0]] == [_aid("hz1")]
    assert [r.article.id for r in compare.counterparts(lib, _aid("hb1"), "hz", n=3)[0]] == [_aid("hz1"), twin.id]


def test_a_counterpart_sharing_almost_no_key_word_is_weak():
    lib = _pair_lib({"hb1": [("hz3", 0.9)]}, {})
    shown, weak = compare.counterparts(lib, _aid("hb1"), "hz")
    assert [r.article.id for r in shown] == [_aid("hz3")] and weak


def test_a_large_library_is_not_searched_by_key_words_for_each_regulation():
    regs = [_reg(f"r{n}", f"第{n}号条例") for n in range(compare.LEXICAL_SIDES + 2)]
    arts = [_article(r, 1, "企业设立首席质量官。" if r.id == "r0" else "质量") for r in regs]
    lib = _Lib(regs, arts, answers={"r1": ["r1#1-0"]})
    assert compare.counterparts(lib, "r0#1-0", "r1") == ((), False) and lib.searched == []
    lib = _Lib(regs[:-1], arts[:-1], answers={"r1": ["r1#1-0"]})  # LEXICAL_SIDES others: still searched
    assert [r.article.id for r in compare.counterparts(lib, "r0#1-0", "r1")[0]] == ["r1#1-0"]
    regs = [_reg(f"r{n}", f"第{n}号条例") for n in range(30)]
    lib = _Lib(regs, [_article(r, 1, "质量") for r in regs])
    compare.counterparts(lib, "r0#1-0", "r1")
    assert [k for _, k, _ in lib.related_asked] == [compare.MAX_NEIGHBOURS]
    lone = _Lib(regs[:1], [_article(regs[0], 1, "质量")])
    compare.counterparts(lone, "r0#1-0", "r1")
    assert [k for _, k, _ in lone.related_asked] == [compare.CANDIDATES]  # at least one other regulation's worth


def test_an_article_compared_in_a_library_sets_beside_it_the_regulations_of_its_closest_articles():
    regs = (HB, HZ, NB, _reg("sh", "上海市质量条例"))
    sh = _article(regs[3], 1, "上海的首席质量官。")
    lib = _Lib(regs, [*ARTS.values(), sh], {_aid("hb1"): [(_aid("nb1"), 0.9), (_aid("hz3"), 0.8),
                                                          (_aid("nb2"), 0.7), (_aid("hz1"), 0.6)]})
    c = compare.compare_article(lib, _aid("hb1"))
    assert c.sides == (("hb", HB.title), ("nb", NB.title), ("hz", HZ.title))  # closest first; sh has none near
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("nb1")], [_aid("hz1")]]]
    assert lib.related_asked[0] == (_aid("hb1"), compare.CLOSEST * compare.MAX_SIDES * 4, None)
    assert c.topic == f"{HB.title}第一条" and c.weak == (False,)
    # fewer other regulations than MAX_SIDES: every one, in the index's order, near or not
    lib = _Lib((HB, HZ, NB), ARTS.values(), {_aid("hb1"): [(_aid("nb1"), 0.9)]}, {"hz": [_aid("hz1")]})
    c = compare.compare_article(lib, _aid("hb1"))
    assert [rid for rid, _ in c.sides] == ["hb", "hz", "nb"]
    assert _ids(c.rows) == [[[_aid("hb1")], [_aid("hz1")], [_aid("nb1")]]]  # hz1 found by its key words


def test_an_article_compared_is_weak_when_any_counterpart_is():
    lib = _Lib((HB, HZ), ARTS.values(), {_aid("hb1"): [(_aid("hz3"), 0.9)]})
    assert compare.compare_article(lib, _aid("hb1")).weak == (True,)
    lib = _Lib((HB, HZ), ARTS.values(), {_aid("hb1"): [(_aid("hz1"), 0.9)]})
    assert compare.compare_article(lib, _aid("hb1")).weak == (False,)


# -- which regulations are the sides -----------------------------------------------------------------------------
def test_a_library_question_naming_none_compares_the_regulations_answering_best_one_version_each():
    old, new = _reg("nb-2010", "宁波市质量促进条例", version="2010-01-01"), _reg("nb-2020", "宁波市质量促进条例",
                                                                                   version="2020-01-01")
    regs = (HB, HZ, old, new, _reg("sh", "上海市质量条例"))
    arts = [_article(r, 1, "企业设立首席质量官。") for r in regs]
    ranked = [f"{rid}#1-0" for rid in ("nb-2020", "nb-2010", "hz", "sh", "hb")]
    lib = _Lib(regs, arts, answers={None: ranked})
    assert compare._answering(lib, "首席质量官", (), 2) == ("nb-2020", "hz")
    assert lib.searched == [("首席质量官", 20, "hybrid", None)]
    assert compare._answering(lib, "首席质量官", ("nb-2010",), 3) == ("hz", "sh", "hb")  # its other version too
    assert compare._answering(lib, "首席质量官", ("hz", "unknown"), 5) == ("nb-2020", "sh", "hb")
    assert compare._answering(lib, "首席质量官", (), 0) == ()
    # the old version answering best stands for its regulation in the newest version, ranked where it was found
    lib = _Lib(regs, arts, answers={None: [f"{rid}#1-0" for rid in ("hz", "nb-2010", "sh", "nb-2020", "hb")]})
    assert compare._answering(lib, "首席质量官", (), 3) == ("hz", "nb-2020", "sh")


# -- the small library: the whole path as the chat takes it -------------------------------------------------------
_LIBRARY = {  # id: title, short names, version, articles (the region: the title's first two characters)
    "jia": ("甲省质量促进条例", ["甲省条例"], None, [
        "为了推进质量强省建设，制定本条例。",
        "鼓励企业实施首席质量官制度，首席质量官负责企业质量管理工作。",
        "鼓励保险机构开发质量保险产品，支持企业投保产品质量责任保险。",
        "对获得省政府质量奖的企业给予奖励。",
        "本条例自2024年1月1日起施行。"]),
    "yi": ("乙市质量促进办法", ["乙市办法"], None, [
        "为了提升本市质量水平，制定本办法。",
        "支持企业运用保险手段促进质量提升，推广产品质量责任保险。",
        "推行首席质量官制度，企业设立首席质量官，首席质量官组织质量培训。",
        "本办法自2021年9月15日起施行。"]),
    "bing-2010": ("丙省质量条例", ["丙省条例"], "2010-01-01", [
        "为了加强质量工作，制定本条例。",
        "企业可以设立首席质量官。",
        "本条例自2010年1月1日起施行。"]),
    "bing-2020": ("丙省质量条例", ["丙省条例"], "2020-01-01", [
        "为了加强质量工作，制定本条例。",
        "企业应当设立首席质量官，首席质量官对企业质量负责。",
        "鼓励企业投保产品质量责任保险。",
        "本条例自2020年1月1日起施行。"]),
    "ding": ("丁省食品安全条例", ["丁省条例"], None, [
        "为了保障食品安全，制定本条例。",
        "食品生产经营者应当建立食品安全追溯制度。",
        "本条例自2019年1月1日起施行。"]),
}


def _built(src: Path, regulations: dict):
    """The regulations indexed with the fake embedder (about a second), and a Retriever on them."""
    from ingest.build import build_index
    from retrieval.retriever import Retriever

    for rid, (title, short, version, texts) in regulations.items():
        body = "\n".join(f"第{NUMERALS[n]}条　{t}" for n, t in enumerate(texts))
        (src / f"{rid}.txt").write_text(f"{title}\n\n{body}\n", encoding="utf-8")
        meta = {"id": rid, "title": title, "short_names": short, "region": title[:2],
                **({"version": version} if version else {})}
        (src / f"{rid}.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    out: Path = src / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    return Retriever(out, embedder=FakeEmbedder())


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory):
    """Five regulations, 丙省条例 in two versions."""
    return _built(tmp_path_factory.mktemp("compare-library"), _LIBRARY)


@pytest.mark.parametrize(("question", "sides", "topic"), [
    ("甲省和乙市对首席质量官的规定有什么不同", ("jia", "yi"), "首席质量官"),
    ("乙市办法和甲省条例关于首席质量官的规定", ("yi", "jia"), "首席质量官"),  # short names, in the order named
    ("甲省条例和丙省条例关于首席质量官的规定", ("jia", "bing-2020"), "首席质量官"),  # of two versions the newest
    ("甲省乙市丙省丁省的首席质量官", ("jia", "yi", "bing-2020", "ding"), "首席质量官"),  # every one named
])
def test_named_regulations_are_the_sides_in_the_order_named(library, question, sides, topic):
    assert compare.sides_of(library, question) == (sides, topic)


def test_a_library_question_with_a_comparison_word_sets_a_few_regulations_answering_it(library):
    regs, topic = compare.sides_of(library, "首席质量官制度有什么不同")
    assert topic == "首席质量官制度" and len(regs) == compare.MAX_SIDES
    assert set(regs) == {"jia", "yi", "bing-2020"}  # not 丁省's food safety; one version of 丙省条例
    regs, _ = compare.sides_of(library, "甲省的首席质量官制度和别处有什么区别")
    assert regs[0] == "jia" and len(regs) == compare.MAX_SIDES and "ding" not in regs
    regs, _ = compare.sides_of(library, "丁省和别处的首席质量官制度有什么不同")
    assert regs[0] == "ding" and len(regs) == compare.MAX_SIDES
    assert compare.sides_of(library, "首席质量官") is None and compare.sides_of(library, "甲省和乙市") is None


def test_on_the_library_a_topic_is_paired_across_three_regulations(library):
    c = compare.compare_topic(library, ("jia", "yi", "bing-2020"), "首席质量官", mode="lexical")
    assert _ids(c.rows) == [[["jia#2-0"], ["yi#3-0"], ["bing-2020#2-0"]]] and c.weak == (False,)
    c = compare.compare_topic(library, ("jia", "yi", "bing-2020"), "产品质量责任保险", mode="lexical")
    assert _ids(c.rows)[0] == [["jia#3-0"], ["yi#2-0"], ["bing-2020#3-0"]] and not c.is_weak(0)


def test_on_the_library_an_article_is_compared_with_its_closest_regulations(library):
    c = compare.compare_article(library, "jia#2-0")
    assert len(c.sides) == compare.MAX_SIDES and c.sides[0] == ("jia", "甲省质量促进条例")
    assert "ding" not in {rid for rid, _ in c.sides}
    cells = {rid: [x.article.id for x in cell] for (rid, _), cell in zip(c.sides, c.rows[0], strict=True)}
    assert cells["jia"] == ["jia#2-0"] and cells.get("yi", ["yi#3-0"]) == ["yi#3-0"]
    shown, weak = compare.counterparts(library, "jia#2-0", "yi")
    assert [x.article.id for x in shown] == ["yi#3-0"] and not weak
    shown, weak = compare.counterparts(library, "jia#2-0", "ding")  # food safety: the best there is a loose pair
    assert weak
    assert compare.compare_article(library, "jia#99-0") is None


# -- more edges ---------------------------------------------------------------------------------------------------
def test_an_article_is_searched_for_by_its_rarest_key_words_only():
    a, b = _reg("a", "甲法"), _reg("b", "乙法")
    main = _article(a, 1, "知识产权、标准化、计量、认证、检测、培训、档案、信用、奖励。")  # 7 rare words, 2 commoner
    others = ["信用奖励。", "信用制度。", "其他事项。", "其他规定。"]
    lib = _Lib((a, b), [main, *(_article(b, n + 1, t) for n, t in enumerate(others))], answers={"b": ["b#1-0"]})
    assert compare.KEY_WORDS == 8
    compare.counterparts(lib, main.id, "b")
    [(query, *_)] = lib.searched
    assert set(query.split(" ")) == {"知识产权", "标准化", "计量", "认证", "检测", "培训", "档案", "奖励"}  # not 信用
    # an article without a key word (its words are in every article) is not searched for
    plain = _Lib((a, b), [_article(a, 1, "质量。"), _article(b, 1, "质量。")], answers={"b": ["b#1-0"]})
    assert compare.counterparts(plain, "a#1-0", "b") == ((), False) and plain.searched == []


def test_counterparts_share_whole_key_words_not_their_characters():
    # hb2 and hz2 share 产品质量 and 责任保险 (words of four characters): hz2 wins over hz1, nearer by vectors
    lib = _pair_lib({"hb2": [("hz1", 0.5), ("hz2", 0.3)]}, {})
    shown, weak = compare.counterparts(lib, _aid("hb2"), "hz")
    assert [r.article.id for r in shown] == [_aid("hz2")] and not weak


def test_three_regulations_with_a_comparison_word_are_all_sides():
    lib = _Lib((HB, HZ, NB), ARTS.values())  # no search answers: a library's sides would be the named ones only
    assert compare.MAX_SIDES == 3
    assert compare.sides_of(lib, "首席质量官制度有什么不同") == (("hb", "hz", "nb"), "首席质量官制度")
    assert compare.sides_of(lib, "宁波条例的首席质量官制度和别处有什么区别")[0] == ("nb", "hb", "hz")


def test_an_article_compared_in_a_library_shows_max_sides_regulations_in_all():
    regs = (HB, HZ, NB, _reg("sh", "上海市质量条例"))
    sh = _article(regs[3], 1, "上海的首席质量官。")
    near = [(_aid("nb1"), 0.9), (_aid("hz3"), 0.8), (sh.id, 0.7)]
    lib = _Lib(regs, [*ARTS.values(), sh], {_aid("hb1"): near})
    assert [rid for rid, _ in compare.compare_article(lib, _aid("hb1")).sides] == ["hb", "nb", "hz"]


def test_a_topic_of_light_words_is_still_held():
    assert compare.overlap({"保险": 0.5}, "质量保险") == 1.0
    assert compare.overlap({"保险": 0.4, "首席": 0.4}, "保险") == 0.5


def test_a_middle_side_without_a_pair_leaves_its_cell_empty_and_the_next_side_is_still_paired():
    lib = _topic_lib({"hb": ["hb1"], "hz": ["hz3"], "nb": ["nb1"]}, close={"hb1": [("nb1", 0.8)]})
    c = compare.compare_topic(lib, ["hb", "hz", "nb"], "质量")
    assert _ids(c.rows) == [[[_aid("hb1")], [], [_aid("nb1")]], [[], [_aid("hz3")], []]]


def test_a_counterpart_much_nearer_by_vectors_comes_before_one_sharing_more_words():
    # hz2: 0.9 close, a few words shared (质量); hz1: 0.1 close, 设立首席质量官 shared: 0.9 + 0.03 > 0.1 + 0.5
    lib = _pair_lib({"hb1": [("hz2", 0.9), ("hz1", 0.1)]}, {})
    shown, _ = compare.counterparts(lib, _aid("hb1"), "hz")
    assert shown[0].article.id == _aid("hz2")


# -- versions: a side is the newest version of a regulation, and one version is one side -----------------------------
@pytest.fixture(scope="module")
def versions(tmp_path_factory: pytest.TempPathFactory):
    """The library, 甲省条例 with a sixth article worded as 丙省条例's old version (2010) words it."""
    jia = _LIBRARY["jia"]
    regulations = {**_LIBRARY, "jia": (*jia[:3], [*jia[3], "企业可以设立首席质量官。"])}
    return _built(tmp_path_factory.mktemp("compare-versions"), regulations)


def test_a_library_question_sets_the_newest_version_of_a_regulation_whose_old_one_answers_best(versions):
    assert versions.search("企业可以设立首席质量官", k=1).results[0].article.regulation_id == "bing-2010"
    regs, _ = compare.sides_of(versions, "对比各地关于企业可以设立首席质量官的规定")
    assert "bing-2010" not in regs and "bing-2020" in regs and len(regs) == compare.MAX_SIDES


def test_an_article_compared_in_a_library_has_one_side_per_regulation_its_newest_version(versions):
    close = [c.article.regulation_id for c in versions.related("jia#6-0", k=3)]
    assert close[0] == "bing-2010" and "bing-2020" in close  # its two nearest: the two versions of 丙省条例
    c = compare.compare_article(versions, "jia#6-0")
    assert [rid for rid, _ in c.sides] == ["jia", "bing-2020", "yi"]
    assert [x.article.id for x in c.rows[0][1]] == ["bing-2020#2-0"]


def test_two_versions_of_one_regulation_near_an_article_are_one_side():
    old, new = _reg("nb-2010", NB.title, version="2010-01-01"), _reg("nb-2020", NB.title, version="2020-01-01")
    regs = (HB, HZ, old, new, _reg("sh", "上海市质量条例"))
    arts = [ARTS["hb1"], ARTS["hz1"], _article(old, 1, "企业可以设立首席质量官。"), _article(new, 1, "首席质量官。")]
    near = [("nb-2010#1-0", 0.9), ("nb-2020#1-0", 0.85), (_aid("hz1"), 0.8)]
    lib = _Lib(regs, arts, {_aid("hb1"): near})
    c = compare.compare_article(lib, _aid("hb1"))
    assert [rid for rid, _ in c.sides] == ["hb", "nb-2020", "hz"]
    assert _ids(c.rows) == [[[_aid("hb1")], ["nb-2020#1-0"], [_aid("hz1")]]]
    assert compare._newest_versions(lib, ["nowhere", "nb-2010", "hz", "nb-2020"]) == ("nb-2020", "hz")
