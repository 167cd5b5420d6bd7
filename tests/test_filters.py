"""Finding one's way among many regulations, on a small real library index (real files of the vendored snapshot, the
fake embedder): filters by level, region and name in the core, the command line and the JSON API; short names and
本法 resolving; the checker against the library (newest version unless one is named); comparisons and similar
articles across any regulations; the laws tab's server-side filtering."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from ingest.errors import QueryError
from tests.conftest import FakeEmbedder
from tests.library_index import build_small_library

PRODUCT_QUALITY = "中华人民共和国产品质量法"
ZHEJIANG = "浙江省产品质量监督条例"
METROLOGY = "中华人民共和国计量法实施细则"


@pytest.fixture(scope="module")
def library_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_small_library(tmp_path_factory.mktemp("filters-library"))


@pytest.fixture(scope="module")
def retriever(library_index: Path):
    from retrieval.retriever import Retriever

    return Retriever(library_index, embedder=FakeEmbedder())


def _ids(retriever, title: str) -> set[str]:
    return {r.id for r in retriever.regulations if r.title == title}


def _regulation(retriever, rid: str):
    return next(r for r in retriever.regulations if r.id == rid)


# -- the core ----------------------------------------------------------------------------------------------------------
def test_levels_and_regions_come_from_the_regulations_and_a_province_holds_its_cities(retriever) -> None:
    facets = retriever.facets
    assert {"法律", "行政法规", "司法解释", "部门规章", "地方性法规"} <= set(facets.levels)
    assert facets.region_names()[0] == "全国"
    zhejiang = facets.ids(regions=["浙江"])
    # 杭州市's regulations are filed under DLC/浙江地方法规: 浙江 holds them, and the served 杭州 measure too.
    titles = {_regulation(retriever, rid).title for rid in zhejiang}
    assert titles == {ZHEJIANG, "杭州市燃气管理条例", "杭州市质量促进办法"}
    assert facets.ids(regions=["浙江省"]) == zhejiang
    assert facets.ids(regions=["湖北"]) == {"hubei-quality-promotion-2024"}
    national = facets.ids(regions=["全国"])
    assert _ids(retriever, PRODUCT_QUALITY) <= national and not national & zhejiang
    assert facets.ids(levels=["法律", "行政法规"]) == facets.ids(levels=["法律"]) | facets.ids(levels=["行政法规"])
    assert facets.ids() is None


@pytest.mark.parametrize(("given", "said"), [
    ({"levels": ["宪章"]}, "unknown level"),
    ({"regions": ["火星"]}, "unknown region"),
    ({"levels": ["法律"], "regions": ["浙江"]}, "no regulation of level 法律 in 浙江"),
    ({"levels": 3}, "level must be a name"),
])
def test_an_unknown_level_or_region_is_refused_with_the_choices(retriever, given, said) -> None:
    with pytest.raises(QueryError, match=said) as err:
        retriever.search("产品质量", k=3, **given)
    if "unknown" in said:
        assert "法律" in str(err.value) or "浙江省" in str(err.value)  # it names what the index holds


def test_a_search_filtered_by_level_and_region_keeps_to_them_and_results_carry_both(retriever) -> None:
    found = retriever.search("产品质量监督检查", k=10, levels=["地方性法规"], regions=["浙江"])
    assert found.results
    for r in found.results:
        assert (r.level, r.region) in {("地方性法规", "浙江省"), ("地方性法规", "杭州市")}
        row = r.to_json()
        assert (row["level"], row["region"]) == (r.level, r.region)
    national = retriever.search("生产者应当对其生产的产品质量负责", k=5, regions=["全国"], levels=["法律"])
    assert {r.article.regulation_title for r in national.results} <= {PRODUCT_QUALITY, "中华人民共和国民法典",
                                                                       "中华人民共和国反电信网络诈骗法"}
    assert all(r.to_json()["region"] is None and r.to_json()["level"] == "法律" for r in national.results)
    # the regulation filter narrows within them; one outside them is refused, not silently ignored
    assert {r.article.regulation_title for r in retriever.search(
        "质量", k=5, regulations=["浙江省产品质量监督条例"], regions=["浙江"]).results} == {ZHEJIANG}
    with pytest.raises(QueryError, match="level or region"):
        retriever.search("质量", k=5, regulations=["湖北条例"], regions=["浙江"])


@pytest.mark.parametrize("written", ["产品质量法第二十六条", "《中华人民共和国产品质量法》第二十六条",
                                     "中华人民共和国产品质量法第26条", "《产品质量法》第二十六条"])
def test_short_and_full_names_of_a_national_law_resolve_in_questions(retriever, written) -> None:
    top = retriever.search(written, k=3).results[0]
    assert top.citation.startswith(f"《{PRODUCT_QUALITY}》第二十六条")
    assert "reference" in top.found_by


@pytest.mark.parametrize("name", ["产品质量法", "《中华人民共和国产品质量法》", PRODUCT_QUALITY])
def test_the_regulation_filter_takes_short_and_full_names(retriever, name) -> None:
    found = retriever.search("质量", k=5, regulations=[name])
    assert {r.article.regulation_title for r in found.results} == {PRODUCT_QUALITY}


def test_short_names_drop_the_national_prefix_generically(retriever) -> None:
    for reg in retriever.regulations:
        if reg.title.startswith("中华人民共和国"):
            assert reg.title.removeprefix("中华人民共和国") in reg.short_names


def test_an_article_reference_to_a_law_in_several_versions_shows_the_newest(retriever) -> None:
    newest = next(r.id for r in retriever.regulations if r.title == METROLOGY and r.version == "2022-03-29")
    top = retriever.search("计量法实施细则第十条", k=3).results[0]
    assert (top.article.regulation_id, top.article.number) == (newest, 10)


def test_benfa_inside_an_article_refers_to_its_own_regulation(retriever) -> None:
    from retrieval.citations import find_citations

    law = _ids(retriever, PRODUCT_QUALITY)
    text = "违反本法第十三条规定，生产国家明令淘汰的产品的，依照本法第四十九条的规定处罚。"
    cited = find_citations(text, retriever._names, own=tuple(law))
    assert [(c.number, c.regulation_ids, c.inherited) for c in cited] == [(13, tuple(law), True),
                                                                          (49, tuple(law), True)]
    assert all(c.name is None or c.name == "本法" for c in cited)
    # without an own regulation (a draft of one's own), 本法 still needs a law named before it
    assert [c.regulation_ids for c in find_citations(text, retriever._names)] == [(), ()]


# -- the command line and the API -------------------------------------------------------------------------------------
@pytest.fixture
def cli(monkeypatch, library_index: Path, capsys):
    import retrieval.retriever
    from retrieval.__main__ import main

    monkeypatch.setattr(retrieval.retriever, "make_embedder", lambda spec, job=None: FakeEmbedder())

    def run(*args: str) -> tuple[int, str, str]:
        code = main(["search", "--index", str(library_index), *args])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def test_cli_filters_by_level_and_region_each_repeatable(cli) -> None:
    code, out, _ = cli("--level", "地方性法规", "--region", "浙江", "--region", "上海", "--json", "-k", "10",
                       "产品质量监督")
    assert code == 0
    results = json.loads(out)["results"]
    assert results and {r["region"] for r in results} <= {"浙江省", "杭州市", "上海市"}
    assert {r["region"] for r in results} >= {"浙江省", "上海市"}
    assert all(r["level"] == "地方性法规" for r in results)


def test_cli_batch_keeps_the_filters_and_an_unknown_region_is_one_clear_error(cli, tmp_path: Path) -> None:
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"question": "产品质量监督"}\n{"question": "那上海呢", "history": ["产品质量监督"]}\n',
                     encoding="utf-8")
    code, out, _ = cli("--batch", str(batch), "--level", "地方性法规", "--json")
    assert code == 0
    first, then = [json.loads(line) for line in out.splitlines()]
    assert first["results"] and all(r["level"] == "地方性法规" for r in first["results"] + then["results"])
    assert {r["region"] for r in then["results"]} == {"上海市"} and then["understood"]["merged"]
    code, out, err = cli("--region", "火星", "--json", "质量")
    assert code == 2 and out == "" and "unknown region" in err and "Traceback" not in err


@pytest.fixture
def api(retriever):
    from fastapi.testclient import TestClient

    from ingest.catalog import regulation_rows
    from retrieval.serving.http_api import build_api
    from retrieval.serving.service import SearchService, ServingSettings

    engine = SimpleNamespace(retriever=retriever, rows=regulation_rows(retriever.index))
    return TestClient(build_api(SearchService(lambda: engine, ServingSettings(max_inflight=2))),
                      raise_server_exceptions=False)


def test_api_filters_by_level_and_region_in_get_and_post(api) -> None:
    got = api.get("/api/search", params=[("q", "产品质量监督"), ("k", "10"), ("level", "地方性法规"),
                                         ("region", "浙江"), ("region", "上海市")])
    assert got.status_code == 200
    regions = {r["region"] for r in got.json()["results"]}
    assert regions and regions <= {"浙江省", "杭州市", "上海市"}
    posted = api.post("/api/search", json={"q": "产品质量监督", "k": 10, "level": ["地方性法规"],
                                           "region": ["浙江", "上海市"]})
    assert posted.json() == got.json()
    one = api.post("/api/search", json={"q": "生产者的产品质量责任", "region": "全国", "level": "法律"})
    assert one.status_code == 200 and all(r["region"] is None for r in one.json()["results"])
    followed = api.post("/api/search", json={"q": "那上海呢", "history": ["产品质量监督"], "region": "上海"})
    assert followed.status_code == 200 and {r["region"] for r in followed.json()["results"]} == {"上海市"}


@pytest.mark.parametrize(("params", "said"), [
    ([("level", "宪章")], "unknown level"), ([("region", "火星")], "unknown region"),
    ([("level", "法律"), ("region", "浙江")], "no regulation of level"),
])
def test_api_bad_level_or_region_is_a_400_with_a_message(api, params, said) -> None:
    got = api.get("/api/search", params=[("q", "质量"), *params])
    assert got.status_code == 400 and said in got.json()["error"]
    posted = api.post("/api/search", json={"q": "质量", "level": {"x": 1}})
    assert posted.status_code == 400 and "level must be a name" in posted.json()["error"]


# -- the checker against the library ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def catalogue(library_index: Path):
    from retrieval.checker.catalogue import Catalogue

    return Catalogue.from_index(library_index)


def test_the_checker_finds_a_national_law_by_its_full_or_short_name(catalogue, retriever) -> None:
    from retrieval.checker.check import check_citations

    article = retriever.article(next(iter(_ids(retriever, PRODUCT_QUALITY))), 26)
    draft = (f"《{PRODUCT_QUALITY}》第二十六条规定：“生产者应当对其生产的产品质量负责。”产品质量法第二十六条。"
             "《中华人民共和国食品安全法》第十条。")
    full, short, missing = check_citations(draft, catalogue).to_json()["citations"]
    for found in (full, short):
        assert found["verdict"] == "found" and found["title"] == PRODUCT_QUALITY
        assert found["text"] == article.text and found["citation"] == article.citation
    assert full["quote_found_at"] is not None
    assert missing["verdict"] == "unknown_regulation"


def test_the_checker_uses_the_newest_version_unless_the_citation_names_one(catalogue, retriever) -> None:
    from retrieval.checker.check import check_citations

    versions = {r.version: r.id for r in retriever.regulations if r.title == METROLOGY}
    plain, named = check_citations(f"计量法实施细则第六十条。《{METROLOGY}（2018年修订）》第六十条。",
                                   catalogue).citations
    assert plain.verdict == named.verdict == "found"
    assert plain.regulation.id == versions["2022-03-29"] and named.regulation.id == versions["2018-03-19"]


# -- comparisons and similar articles across any regulations ---------------------------------------------------------
def test_any_two_regulations_compare_side_by_side(retriever) -> None:
    from retrieval.conversation import compare

    sides = compare.sides_of(retriever, "浙江省产品质量监督条例和湖北条例对产品质量监督的规定有什么不同")
    assert sides is not None
    regs, topic = sides
    assert [_regulation(retriever, r).title for r in regs] == [ZHEJIANG, "湖北省质量促进条例"]
    shown = compare.compare_topic(retriever, regs, topic, mode="lexical")  # the fake embedder's scores abstain
    assert [t for _, t in shown.sides] == [ZHEJIANG, "湖北省质量促进条例"] and shown.rows
    for row in shown.rows:
        for side, cell in zip(regs, row, strict=True):
            assert all(r.article.regulation_id == side for r in cell)


def test_a_comparison_on_a_library_sets_a_few_sides_not_every_regulation(retriever) -> None:
    from retrieval.conversation import compare

    regs, _ = compare.sides_of(retriever, "对比各地关于产品质量监督的规定")
    assert 2 <= len(regs) <= compare.MAX_SIDES
    assert len({_regulation(retriever, r).title for r in regs}) == len(regs)
    art = retriever.article(next(iter(_ids(retriever, ZHEJIANG))), 6)
    shown = compare.compare_article(retriever, art.id)
    assert 2 <= len(shown.sides) <= compare.MAX_SIDES and shown.sides[0][0] == art.regulation_id


def test_similar_articles_come_from_other_regulations_not_other_versions(retriever) -> None:
    own = next(r for r in retriever.regulations if r.title == METROLOGY and r.version == "2022-03-29")
    related = retriever.related(retriever.article(own.id, 10).id, k=5)
    assert related and all(r.article.regulation_title != METROLOGY for r in related)
    hubei = frozenset({"hubei-quality-promotion-2024"})
    within = retriever.related(retriever.article(own.id, 10).id, k=5, within=hubei)
    assert {r.article.regulation_id for r in within} == {"hubei-quality-promotion-2024"}


# -- the laws tab and the pickers --------------------------------------------------------------------------------------
def test_the_laws_tab_filters_on_the_server_and_never_renders_every_row(retriever) -> None:
    from ingest.catalog import regulation_rows
    from retrieval.web import laws

    rows = laws.ordered(regulation_rows(retriever.index))
    assert [r["title"] for r in laws.matching(rows, "产品质量法")] == [PRODUCT_QUALITY]
    assert [r["title"] for r in laws.matching(rows, "《中华人民共和国产品质量法》")] == [PRODUCT_QUALITY]
    zhejiang = laws.matching(rows, "条例", retriever.facets.ids(regions=["浙江"]))
    assert {r["title"] for r in zhejiang} == {ZHEJIANG, "杭州市燃气管理条例"}
    many = [dict(rows[0], id=f"r{i}", title=f"某某条例{i}") for i in range(3500)]
    assert len(laws.table(many)) == laws.PAGE_ROWS
    assert laws.chapter_outline(many).count("**") == 2 * laws.OUTLINE_ROWS
    assert "3500 of 3500" in laws.shown_line(3500, 3500) and "first 100" in laws.shown_line(3500, 3500)
    labels = dict((v, k) for k, v in laws.filter_choices(rows))
    assert labels["hubei-quality-promotion-2024"] == "湖北省质量促进条例（49 条）"  # as before: no version
    assert sorted(label for label, _ in laws.filter_choices(rows) if label.startswith(METROLOGY)) == [
        f"{METROLOGY}（2018-03-19 · 60 条）", f"{METROLOGY}（2022-03-29 · 60 条）"]


def test_the_pickers_narrow_the_regulation_filter(retriever) -> None:
    from ingest.catalog import regulation_rows
    from retrieval.serving.service import SearchService
    from retrieval.web.browse import Browse

    engine = SimpleNamespace(retriever=retriever, rows=regulation_rows(retriever.index))
    browse = Browse(SearchService(lambda: engine))
    narrowed = browse.narrow(["地方性法规"], ["浙江"], ["hubei-quality-promotion-2024", next(iter(_ids(retriever,
                                                                                                      ZHEJIANG)))])
    titles = {label.split("（")[0] for label, _ in narrowed["choices"]}
    assert titles == {ZHEJIANG, "杭州市燃气管理条例"}
    assert [_regulation(retriever, v).title for v in narrowed["value"]] == [ZHEJIANG]  # Hubei is not in 浙江
    table, line, outline = browse.laws("质量", "地方性法规", "上海")
    assert [row[0] for row in table] == ["上海市产品质量条例"] and "1 of" in line and "上海市产品质量条例" in outline
    table, line, _ = browse.laws("", "", "")
    assert len(table) == len(engine.rows)
    table, line, _ = browse.laws("", "法律", "浙江")
    assert table == [] and "no regulation of level" in line


def test_on_the_two_regulations_a_level_filter_says_they_carry_none() -> None:
    from retrieval.checker.catalogue import Catalogue
    from retrieval.filters import Facets
    from tests.conftest import REGULATIONS

    facets = Facets.of(Catalogue.from_sources([REGULATIONS]).regulations)
    with pytest.raises(QueryError, match="carry no level"):
        facets.ids(levels=["法律"])
    assert facets.ids(regions=["湖北"]) == {"hubei-quality-promotion-2024"}
    assert facets.ids(regions=["杭州"]) == {"hangzhou-quality-promotion-2021"}
    with pytest.raises(QueryError, match="unknown region"):
        facets.ids(regions=["全国"])  # both have a region: nothing national to search
