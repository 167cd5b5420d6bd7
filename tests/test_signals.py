"""The signals beyond the scores (retrieval/signals.py) on their own: exact values, no model and no index."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ingest.words import normalise
from retrieval.signals import (
    BACKGROUND,
    BACKGROUND_TOP,
    background_margin,
    foreign_names,
    looks_like_words,
    named_laws,
    places_in,
)

HELD = ["湖北省质量促进条例", "湖北条例", "杭州市质量促进办法", "杭州办法", "hangzhou measures"]


def _unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_the_margin_is_the_best_score_minus_the_mean_of_the_three_closest_background_sentences():
    q = _unit(1, 0, 0)
    background = np.stack([_unit(0, 1, 0), _unit(0.6, 0.8, 0), _unit(1, 0, 0), _unit(0.8, 0.6, 0), _unit(0, 0, 1)])
    # cosines 0, 0.6, 1, 0.8, 0: the closest three are 1, 0.8, 0.6 (mean 0.8), whatever their order
    assert BACKGROUND_TOP == 3
    assert background_margin(q, 0.9, background) == pytest.approx(0.1, abs=1e-6)
    assert background_margin(q, 0.7, background) == pytest.approx(-0.1, abs=1e-6)  # junk: below its background


def test_the_margin_with_fewer_background_sentences_or_none():
    q = _unit(1, 0)
    assert background_margin(q, 0.5, np.stack([_unit(1, 0), _unit(0, 1)])) == pytest.approx(0.0, abs=1e-6)
    assert background_margin(q, 0.5, np.zeros((0, 2), np.float32)) == math.inf  # no yardstick: never junk


def test_the_background_is_a_fixed_mix_of_everyday_text_code_and_mash():
    assert len(BACKGROUND) == len(set(BACKGROUND)) >= 3 * BACKGROUND_TOP
    assert any("DROP TABLE" in s for s in BACKGROUND) and any("<script>" in s for s in BACKGROUND)


@pytest.mark.parametrize("question", [
    "When does the Hangzhou measure take effect?",
    "企业要不要配专门管质量的人",
    "杭州 quality award",
    "zhiliang cujin tiaoli",  # pinyin
    "bonjour la qualité",
    "rhythm",  # y counts as a vowel
    "bcdfa",  # a run of four consonants is still a word
    "hello bcdfg",  # half the tokens word-like is enough
    "ISO 9001",
    "%s%s%n",  # single letters are no tokens: left to the background margin
])
def test_questions_that_look_like_words(question: str):
    assert looks_like_words(question) is True


@pytest.mark.parametrize("question", [
    "asdfghjkl",  # a run of five consonants
    "bcdfga",
    "qwxz plmk",  # no vowel
    "xkcd bcdfg hello",  # fewer than half word-like
    "123 456",  # digits only: nothing to match
    "😀🔥👍",
    "!!! ---",
])
def test_questions_that_do_not(question: str):
    assert looks_like_words(question) is False


@pytest.mark.parametrize(("question", "laws"), [
    ("产品质量法对企业有什么要求", ["产品质量法"]),
    ("产品质量法规定了什么", ["产品质量法"]),  # 法 + 规定, not 法规
    ("用人单位违反劳动法规定要承担什么责任", ["劳动法"]),
    ("按照食品安全法", ["食品安全法"]),
    ("依照《中华人民共和国产品质量法》第十条", ["中华人民共和国产品质量法"]),
    ("《质量管理规定》怎么说", ["质量管理规定"]),
    ("江苏省质量促进条例怎么规定质量奖", ["江苏省质量促进条例"]),
    ("杭州市质量促进办法第十条", ["杭州市质量促进办法"]),
    ("湖北条例", ["湖北条例"]),
    ("劳动合同法实施条例第十条", ["劳动合同法实施条例"]),  # one name, not 劳动合同法 and a 实施条例
    ("有什么办法提高质量", []),
    ("这样做不合法吗", []),
    ("违法行为怎么处罚", []),
    ("法律法规有哪些", []),
    ("企业法人要承担什么", []),
    ("好办法", []),
    ("根据本条例", []),
    ("《用户手册》第三页", []),  # a title that is no law's
    ("《红楼梦》", []),
    ("《用户手册》和产品质量法", ["产品质量法"]),  # a title that is no law's does not end the search
    ("此办法", []),  # three characters ending in 办法: too short for a name
    ("管理办法第三条", ["管理办法"]),  # four are enough
])
def test_named_laws(question: str, laws: list[str]):
    assert named_laws(normalise(question)) == laws


def test_places_held_are_those_the_corpus_mentions_or_the_names_contain():
    held = places_in("浙江省人民政府设立质量奖", ["湖北省质量促进条例", "hangzhou measures"])
    assert {"浙江", "zhejiang", "湖北", "hubei"} <= held  # both spellings of each
    assert "杭州" not in held and "上海" not in held and "shanghai" not in held
    assert places_in("", []) == frozenset()


def test_foreign_names_are_the_laws_and_places_the_index_does_not_hold():
    places = places_in("浙江省人民政府设立质量奖", HELD)
    assert foreign_names(normalise("浙江省质量奖怎么评"), HELD, places) == []  # 浙江 is mentioned: held
    assert foreign_names(normalise("上海的质量奖怎么评"), HELD, places) == ["上海"]
    assert foreign_names(normalise("What does Shanghai award for quality?"), HELD, places) == ["shanghai"]
    assert foreign_names(normalise("美国的产品质量标准"), HELD, places) == ["美国"]
    assert foreign_names(normalise("quality rules in the USA"), HELD, places) == ["usa"]
    assert foreign_names(normalise("产品质量法第十条"), HELD, places) == ["产品质量法"]
    # the laws first, then the places in PLACES order
    assert foreign_names(normalise("江苏省质量促进条例和上海"), HELD, places) == ["江苏省质量促进条例", "上海", "江苏"]


def test_held_laws_match_by_containment_either_way():
    places = places_in("", HELD)
    assert foreign_names(normalise("湖北条例第十条"), HELD, places) == []
    assert foreign_names(normalise("质量促进条例怎么规定"), HELD, places) == []  # inside a held title
    assert foreign_names(normalise("杭州市质量促进办法第十条"), HELD, places) == []


def test_an_english_place_must_stand_as_a_word():
    places = places_in("", HELD)
    assert foreign_names("eurasia indiana museum", HELD, places) == []  # eu, india, usa inside other words
    assert foreign_names("rules of the eu", HELD, places) == ["eu"]
