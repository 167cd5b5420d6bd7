"""The Retriever's query side on a real index of the two sample fixtures, built with the fake embedder
(no model): neighbours, related articles, a newly switched-in build, settings per call, references with a
regulation filter."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.words import words
from retrieval.abstain import AbstainRule
from retrieval.retriever import FILTERS_KEPT, Retriever
from retrieval.settings import SearchSettings
from tests.conftest import FIXTURES

REGULATION = "示例省质量促进条例"
MEASURE = "示例市质量促进办法"


@pytest.fixture(scope="module")
def fake(fake_index: Path) -> Retriever:
    from tests.conftest import FakeEmbedder

    return Retriever(fake_index, embedder=FakeEmbedder())


def _reg_id(retriever: Retriever, title: str) -> str:
    return next(r.id for r in retriever.regulations if r.title == title)


def _labels(articles) -> list[str]:
    return [a.label for a in articles]


def test_context_is_the_article_between_its_neighbours_in_its_chapter(fake: Retriever):
    reg = _reg_id(fake, REGULATION)
    third_a = fake.article(reg, 3, 1)
    assert third_a is not None and fake.article_by_id(third_a.id) == third_a
    assert _labels(fake.context(third_a.id, before=1, after=1)) == ["第三条", "第三条之一", "第四条"]
    # chapter two holds three articles: the context stops at the chapter's edges
    assert _labels(fake.context(fake.article(reg, 3).id)) == ["第三条", "第三条之一", "第四条"]
    measure = _reg_id(fake, MEASURE)
    assert _labels(fake.context(fake.article(measure, 2).id)) == ["第1条", "第2条", "第3条"]  # no chapters
    assert fake.context("nowhere#1-0") == []


def test_related_articles_come_from_other_regulations_only(fake: Retriever):
    measure = _reg_id(fake, MEASURE)
    own = fake.article(measure, 2)
    related = fake.related(own.id, k=3)
    assert len(related) == 3 and {r.article.regulation_title for r in related} == {REGULATION}
    assert [r.score for r in related] == sorted((r.score for r in related), reverse=True)
    assert all(r.found_by == ("dense",) and 0 <= r.match_start < r.match_end <= len(r.article.text)
               for r in related)
    # the regulation's articles have only the measure's three to relate to
    reg_article = fake.article(_reg_id(fake, REGULATION), 1)
    assert {r.article.regulation_title for r in fake.related(reg_article.id, k=5)} == {MEASURE}
    assert len(fake.related(reg_article.id, k=5)) == 3
    assert fake.related(own.id, k=0) == [] and fake.related("nowhere#1-0") == []


def test_the_response_carries_the_question_words(fake: Retriever):
    response = fake.search("企业 质量管理人员", k=2)
    assert response.words == tuple(words("企业 质量管理人员")) and "质量" in response.words


def test_a_reference_and_a_regulation_filter(fake: Retriever):
    both = fake.search("第三条", k=3)
    assert {r.citation for r in both.results[:2]} == {"《示例省质量促进条例》第三条（第二章 质量发展）",
                                                       "《示例市质量促进办法》第3条"}  # no regulation named: both
    assert all("reference" in r.found_by for r in both.results[:2])
    only_measure = fake.search("第三条", k=3, regulations=[MEASURE])
    assert only_measure.results[0].citation == "《示例市质量促进办法》第3条"
    assert {r.article.regulation_title for r in only_measure.results} == {MEASURE}
    # the named regulation's article is outside the filter: nothing is pinned, nothing leaks through
    filtered_out = fake.search("示例条例第四条", k=3, regulations=[MEASURE])
    assert {r.article.regulation_title for r in filtered_out.results} == {MEASURE}
    assert not any("reference" in r.found_by for r in filtered_out.results)


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_a_regulation_filter_holds_in_every_mode(fake: Retriever, mode: str):
    response = fake.search("质量", k=10, mode=mode, regulations=[REGULATION])
    assert response.results and {r.article.regulation_title for r in response.results} == {REGULATION}


def test_a_filter_gives_the_same_regulations_each_time_and_each_form_its_own(fake: Retriever):
    """The regulation ids of the last few filters are kept: asked again, the same answer; a filter naming nothing
    is refused each time, not remembered as no filter."""
    from ingest.errors import QueryError

    first = fake.regulation_ids([REGULATION])
    assert first == {_reg_id(fake, REGULATION)} and fake.regulation_ids([REGULATION]) is first
    assert fake.regulation_ids([MEASURE]) == {_reg_id(fake, MEASURE)}
    for _ in range(2):
        with pytest.raises(QueryError):
            fake.regulation_ids(["没有这部法规"])
    for i in range(2, 42):  # many other filters: the kept ones are bounded, and the first is worked out again
        assert fake.regulation_ids([REGULATION] * i) == first
    assert fake._filter_ids.cache_info().currsize == FILTERS_KEPT
    again = fake.regulation_ids([REGULATION])
    assert again == first and again is not first and fake.regulation_ids(None) is None


def test_a_filter_mixing_an_exact_name_and_a_written_form_names_both(fake: Retriever):
    both = {_reg_id(fake, REGULATION), _reg_id(fake, MEASURE)}
    assert fake.regulation_ids([REGULATION, f"《{MEASURE}》"]) == both
    assert fake.regulation_ids([f"《{REGULATION}》", MEASURE]) == both
    found = fake.search("质量", k=10, regulations=[REGULATION, f"《{MEASURE}》"])
    assert {r.article.regulation_title for r in found.results} == {REGULATION, MEASURE}


def test_settings_per_call_leave_the_retriever_as_it_was(fake: Retriever):
    before = fake.settings
    plain = fake.search("企业应当配备专职质量管理人员", k=3).to_json()
    never = SearchSettings(0.0, AbstainRule(dense_floor=2.0, dense_sure=2.0, cross_lingual_floor=2.0))
    assert fake.search("企业应当配备专职质量管理人员", k=3, settings=never).abstained
    assert fake.settings is before and fake.search("企业应当配备专职质量管理人员", k=3).to_json() == plain


def test_the_index_supplies_default_settings(fake_index: Path, tmp_path: Path, fake_embedder):
    copy = tmp_path / "index"
    shutil.copytree(fake_index, copy)
    build = copy / "builds" / (copy / "CURRENT").read_text(encoding="utf-8").strip()
    manifest = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    manifest["search"] = {"dense_weight": 0.35, "abstain_rule": {"dense_floor": 0.5}}
    (build / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    retriever = Retriever(copy, embedder=fake_embedder())
    assert retriever.settings.dense_weight == 0.35 and retriever.settings.abstain_rule.dense_floor == 0.5
    given = SearchSettings(0.9)
    assert Retriever(copy, embedder=fake_embedder(), settings=given).settings is given


def test_a_newly_switched_in_build_is_noticed_and_reloaded_with_the_same_model(tmp_path: Path, fake_embedder):
    from ingest.build import build_index

    source = tmp_path / "sample_regulation.txt"
    shutil.copy(FIXTURES / "sample_regulation.txt", source)
    embedder = fake_embedder()
    build_index([source], tmp_path / "index", embedder, progress=False)
    first = Retriever(tmp_path / "index", embedder=embedder)
    assert not first.newer_build_current()
    source.write_text(source.read_text(encoding="utf-8").replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    build_index([source], tmp_path / "index", embedder, progress=False)
    assert first.newer_build_current()
    second = first.reloaded()
    assert second.embedder is embedder and second.index.path != first.index.path
    assert not second.newer_build_current()
    assert "特制定本条例" in second.article(second.regulations[0].id, 1).text
    assert "特制定本条例" not in first.article(first.regulations[0].id, 1).text  # the old one is unchanged
    (tmp_path / "index" / "CURRENT").write_bytes(b"\xff\xfe")  # a damaged pointer: keep serving what is loaded
    assert not second.newer_build_current()


def test_a_regulation_named_without_an_article_is_searched_even_when_others_fill_the_candidates(tmp_path: Path,
                                                                                               fake_embedder):
    """In a library, other laws' closer wording can fill every candidate place before one article of the named
    regulation is reached; its own best articles still join the candidates, and the name lifts them first."""
    from ingest.build import build_index
    from retrieval.retriever import CANDIDATES

    sources = []
    for i in range(CANDIDATES + 20):  # more regulations than candidate places, each worded like the question
        path = tmp_path / f"other-{i}.txt"
        path.write_text(f"第{i}号市物业管理条例\n\n第1条 违反规定的法律责任由主管部门依法追究，违反规定的法律责任。\n"
                        f"第2条 本条例自2020年1月1日起施行。\n", encoding="utf-8")
        sources.append(path)
    named = tmp_path / "named.txt"
    named.write_text("乙市质量促进办法\n\n第1条 为了提升本市质量总体水平，制定本办法。\n"
                     "第2条 企业违反本办法的，由市场监管部门责令改正。\n", encoding="utf-8")
    build_index([*sources, named], tmp_path / "index", fake_embedder(), progress=False)
    retriever = Retriever(tmp_path / "index", embedder=fake_embedder())
    settings = SearchSettings(0.5, AbstainRule(-1.0, -1.0, 0.0, -1.0))  # never abstains: the ranking is tested
    for mode in ("hybrid", "dense", "lexical"):
        found = retriever.search("乙市质量促进办法规定违反规定的法律责任", k=3, mode=mode, settings=settings)
        assert found.results[0].article.regulation_title == "乙市质量促进办法", mode
    # Without the name, the closest wording wins, as before.
    plain = retriever.search("违反规定的法律责任", k=3, settings=settings)
    assert all(r.article.regulation_title.endswith("物业管理条例") for r in plain.results)


# -- filters by level and region, the pointer read per request, a given glossary, the answer's kind ---------------
@pytest.fixture(scope="module")
def faceted(faceted_index: Path) -> Retriever:
    from tests.conftest import FakeEmbedder

    return Retriever(faceted_index, embedder=FakeEmbedder())


def _titles(response) -> set[str]:
    return {r.article.regulation_title for r in response.results}


def test_a_level_or_a_region_limits_the_search_and_narrows_the_regulations_named(faceted: Retriever):
    from ingest.errors import QueryError

    assert _titles(faceted.search("质量", k=9)) == {REGULATION, MEASURE}
    assert _titles(faceted.search("质量", k=9, levels=["地方性法规"])) == {REGULATION}
    assert _titles(faceted.search("质量", k=9, regions=["示例市"])) == {MEASURE}
    both_levels = ["地方性法规", "地方政府规章"]
    assert _titles(faceted.search("质量", k=9, regulations=[MEASURE], levels=both_levels)) == {MEASURE}
    assert _titles(faceted.search("质量", k=9, regulations=[REGULATION], regions=["示例省", "示例市"])) == {REGULATION}
    assert _titles(faceted.search("质量", k=9, regulations=[f"《{REGULATION}》"])) == {REGULATION}  # a title in 《》
    with pytest.raises(QueryError) as info:
        faceted.search("质量", regulations=[MEASURE], levels=["地方性法规"])
    assert str(info.value) == ("所选法规不属于所选层级或地区 (none of the chosen regulations is of the chosen level or "
                               "region)")
    with pytest.raises(QueryError):
        faceted.search("质量", regulations=[MEASURE], regions=["示例省"])


def test_the_pointer_is_read_again_only_when_it_changed_and_a_newer_build_stays_newer(tmp_path: Path, monkeypatch):
    """Asked on every request: the CURRENT file is read once while it is unchanged; a newer build is reported
    until it is loaded (a reload that failed is tried again); a directory that follows Milvus asks its catalog."""
    import ingest.stores.milvus_catalog as catalog
    import retrieval.retriever as retriever_module
    from ingest.build import build_index
    from tests.conftest import FakeEmbedder

    source = tmp_path / "sample_regulation.txt"
    shutil.copy(FIXTURES / "sample_regulation.txt", source)
    embedder = FakeEmbedder()
    build_index([source], tmp_path / "index", embedder, progress=False)
    first = Retriever(tmp_path / "index", embedder=embedder)
    reads = []
    read = retriever_module.current_build
    monkeypatch.setattr(retriever_module, "current_build", lambda root: reads.append(root) or read(root))
    assert [first.newer_build_current() for _ in range(3)] == [False, False, False] and len(reads) == 1
    source.write_text(source.read_text(encoding="utf-8").replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    build_index([source], tmp_path / "index", embedder, progress=False)
    assert [first.newer_build_current() for _ in range(2)] == [True, True] and len(reads) == 3
    second = first.reloaded()
    assert not second.newer_build_current() and not second.newer_build_current() and len(reads) == 4
    (tmp_path / "index" / "REMOTE").write_text("{}", encoding="utf-8")  # now follows a build published in Milvus
    monkeypatch.setattr(catalog, "follow", lambda root: root / "builds" / "from-milvus")
    assert second.newer_build_current() and second.newer_build_current()


def test_a_given_glossary_keeps_the_indexs_terms_and_english_questions_search_with_them(fake_index: Path):
    from retrieval.glossary import Entry, Glossary
    from tests.conftest import FakeEmbedder

    glossary = Glossary([Entry(("quality management",), ("质量管理",)), Entry(("full time",), ("专职",)),
                         Entry(("quality award",), ("质量奖",))])  # 质量奖: not in these regulations
    fresh = Retriever(fake_index, embedder=FakeEmbedder(), glossary=glossary)
    plain = Retriever(fake_index, embedder=FakeEmbedder(), glossary=Glossary(()))
    question = "full time quality management staff and the quality award"
    assert fresh.glossary.terms(question) == ["专职", "质量管理"] and plain.glossary.terms(question) == []
    assert plain.search(question, k=3, mode="lexical").results == ()  # English words find no Chinese article
    lexical = fresh.search(question, k=3, mode="lexical")
    assert lexical.words == tuple(words(question))  # the terms are searched, not counted as typed
    assert f"{lexical.results[0].article.regulation_title}{lexical.results[0].article.label}" == f"{REGULATION}第三条"
    assert [(r.article.id, r.score) for r in lexical.results] == [
        (r.article.id, r.score) for r in plain.search(f"{question} 专职 质量管理", k=3, mode="lexical").results]
    dense = fresh.search(question, k=3, mode="dense")  # the model reads the question with its terms
    assert [(r.article.id, r.score) for r in dense.results] == [
        (r.article.id, r.score) for r in plain.search(f"{question} 专职 质量管理", k=3, mode="dense").results]
    # a fresh Retriever keeps the filters it worked out
    assert fresh.regulation_ids([MEASURE]) is fresh.regulation_ids([MEASURE]) == {_reg_id(fresh, MEASURE)}


def test_a_search_says_whether_its_articles_answer_the_question_or_only_touch_it(fake: Retriever):
    from retrieval.answer_kind import DIRECT, NONE, RELATED

    answer_all = SearchSettings(abstain_rule=AbstainRule(dense_floor=0.0, dense_sure=0.0, min_coverage=0.0,
                                                         cross_lingual_floor=-1.0))
    direct = fake.search("企业应当配备专职质量管理人员", k=3, settings=answer_all)
    assert (direct.abstained, direct.answer, direct.reason) == (False, DIRECT, None)
    related = fake.search("企业配备专职质量管理人员的期限是多久", k=3, settings=answer_all)
    assert related.answer == RELATED and "未规定所问的期限" in related.reason and "time limit" in related.reason
    abstained = fake.search("企业配备专职质量管理人员的期限是多久", k=3)  # the default rule: the fake's cosines are low
    assert abstained.abstained and abstained.results and (abstained.answer, abstained.reason) == (NONE, None)


def test_a_reloaded_retriever_keeps_the_glossary_it_was_given(fake_index: Path):
    from retrieval.glossary import Entry, Glossary
    from tests.conftest import FakeEmbedder

    given = Glossary([Entry(("full time",), ("专职",))])
    reloaded = Retriever(fake_index, embedder=FakeEmbedder(), glossary=given).reloaded()
    assert [(e.english, e.chinese) for e in reloaded.glossary.entries] == [(("full time",), ("专职",))]


def test_results_carry_their_regulations_level_and_region(faceted: Retriever):
    response = faceted.search("质量", k=9)
    assert {(r.article.regulation_title, r.level, r.region) for r in response.results} == {
        (REGULATION, "地方性法规", "示例省"), (MEASURE, "地方政府规章", "示例市")}


def test_related_articles_within_a_set_of_regulations_come_only_from_them(faceted: Retriever):
    third = faceted.article(_reg_id(faceted, REGULATION), 3)
    anywhere = faceted.related(third.id, 2)
    assert len(anywhere) == 2 and {r.article.regulation_title for r in anywhere} == {MEASURE}
    assert faceted.related(third.id, 2, within=frozenset({_reg_id(faceted, MEASURE)})) == anywhere
    assert faceted.related(third.id, 2, within=frozenset({_reg_id(faceted, REGULATION)})) == []  # its own only
