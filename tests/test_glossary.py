"""The English-Chinese glossary (data/glossary/en-zh.tsv, retrieval/glossary.py): written from the two texts,
read the way a person writes English. Fast: no model, no index."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import GlossaryError
from ingest.sources import discover, load_source
from ingest.words import normalise
from retrieval.glossary import DEFAULT_PATH, Entry, Glossary, load_glossary, parse
from tests.conftest import REGULATIONS


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return load_glossary(DEFAULT_PATH)


@pytest.fixture(scope="module")
def corpus_text() -> str:
    return normalise("".join(a.text for path in discover([REGULATIONS]) for doc in load_source(path)
                             for a in doc.articles))


def test_the_glossary_is_a_few_hundred_entries_of_the_texts_own_terms(glossary: Glossary, corpus_text: str):
    assert len(glossary) >= 250
    missing = sorted({t for e in glossary.entries for t in e.chinese if normalise(t) not in corpus_text})
    assert not missing, f"terms that no article of the two texts uses: {missing}"


def test_every_english_phrase_maps_to_one_entry_only_once(glossary: Glossary):
    seen: dict[str, int] = {}
    for n, e in enumerate(glossary.entries):
        for p in e.english:
            assert p == p.lower().strip() and p, p
            seen.setdefault(p, n)
    assert sum(len(e.english) for e in glossary.entries) >= 600


@pytest.mark.parametrize(("question", "terms"), [
    ("Is there a grading system for product quality in Hubei?", ["质量分级制度", "产品质量"]),
    ("What do the Hangzhou measures say about chief quality officers?", ["首席质量官"]),
    ("Who runs the government quality award?", ["质量奖"]),
    ("metrology and measurement", ["计量"]),
    ("certification and accreditation bodies", ["认证认可"]),
    ("inspection and testing platforms", ["检验检测"]),
    ("quality infrastructure service stations", ["质量基础设施"]),
    ("How does Hubei protect time-honoured brands (laozihao)?", ["老字号"]),
])
def test_english_phrases_find_the_regulations_terms(glossary: Glossary, question: str, terms: list[str]):
    found = glossary.terms(question)
    for t in terms:
        assert t in found, (question, found)


def test_longest_phrase_wins_and_matches_do_not_overlap():
    g = Glossary([Entry(("quality",), ("质量",)), Entry(("quality award",), ("质量奖",)),
                  Entry(("award",), ("奖励",))])
    assert g.terms("the Quality Award") == ["质量奖"]
    assert g.terms("quality and awards") == ["质量", "奖励"]


def test_plurals_hyphens_and_case_are_read_alike():
    g = Glossary([Entry(("chief quality officer",), ("首席质量官",)), Entry(("third-party",), ("第三方",))])
    for q in ("CHIEF QUALITY OFFICERS", "chief-quality officer", "a third party", "third-party"):
        assert g.terms(q), q
    assert g.terms("chief quality officership") == []  # whole words only
    assert g.terms("首席质量官制度") == []  # a Chinese question gets nothing added


def test_restricted_keeps_only_the_terms_a_corpus_uses():
    g = Glossary([Entry(("recall",), ("召回", "回收")), Entry(("visa",), ("签证",))])
    r = g.restricted(lambda t: t in "缺陷消费品召回")
    assert r.terms("recall and visa") == ["召回"]


def test_malformed_files_are_refused_with_the_line(tmp_path: Path):
    with pytest.raises(GlossaryError, match=r"x.tsv:2"):
        parse("# comment\nno tab here\n", "x.tsv")
    with pytest.raises(GlossaryError, match="at least one"):
        parse("a|b\t \n")
    with pytest.raises(GlossaryError, match="cannot read"):
        load_glossary(tmp_path / "missing.tsv")


def test_an_empty_environment_setting_turns_the_glossary_off(monkeypatch):
    monkeypatch.setenv("REGQA_GLOSSARY", "")
    assert len(load_glossary()) == 0
