"""Search what is in force: an index of real version pairs from the vendored library (with the two served
regulations), the fake embedder. By default the versions in force today; `as_of` a past day; `all_versions` every
version, a superseded article pointing at its counterpart in force. `ingest list` rows carry status and versions."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.catalog import regulation_rows
from ingest.errors import QueryError
from ingest.stores.index_io import load_index
from retrieval.in_force import annotate, regulation_filter
from retrieval.retriever import Retriever
from tests.conftest import REGULATIONS, ROOT, FakeEmbedder
from tests.versions_sample import extract_versions

ACCOUNTING = "各单位必须依法设置会计帐簿，并保证其真实、完整"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("in-force")
    out = base / "index"
    build_index([extract_versions(base / "lib"), REGULATIONS], out, FakeEmbedder(), progress=False)
    return out


@pytest.fixture(scope="module")
def retriever(index: Path) -> Retriever:
    return Retriever(index, embedder=FakeEmbedder())


def search(retriever: Retriever, question: str, k: int = 5, regulations=None, as_of=None, all_versions=False):
    wanted = regulation_filter(retriever.index, regulations, as_of, all_versions)
    return annotate(retriever.search(question, k=k, regulations=wanted).to_json(), retriever.index, as_of)


def test_a_question_searches_the_versions_in_force_today(retriever):
    out = search(retriever, ACCOUNTING)
    accounting = [r for r in out["results"] if r["title"] == "中华人民共和国会计法"]
    assert accounting and {r["version"] for r in accounting} == {"2024-06-28"}
    assert all(r["status"] == "in_force" and r["status_label"] == "现行有效" for r in out["results"])
    assert accounting[0]["article"] == "第三条" and "账簿" in accounting[0]["text"]


def test_as_of_searches_the_versions_in_force_that_day(retriever):
    out = search(retriever, ACCOUNTING, as_of="2020-01-01")
    accounting = [r for r in out["results"] if r["title"] == "中华人民共和国会计法"]
    assert {r["version"] for r in accounting} == {"2017-11-04"} and accounting[0]["article"] == "第三条"
    assert "帐簿" in accounting[0]["text"] and accounting[0]["status"] == "in_force"
    # 农产品质量安全法 2022 took effect 2023-01-01: the day before, the 2018 text is the one searched.
    farm = search(retriever, "农产品质量安全", k=10, regulations=["农产品质量安全法"], as_of="2022-12-31")
    assert {r["version"] for r in farm["results"]} == {"2018-10-26"}
    farm = search(retriever, "农产品质量安全", k=10, regulations=["农产品质量安全法"], as_of="2023-01-01")
    assert {r["version"] for r in farm["results"]} == {"2022-09-02"}


def test_all_versions_links_a_superseded_article_to_the_one_in_force(retriever):
    out = search(retriever, ACCOUNTING, k=10, all_versions=True)
    old = next(r for r in out["results"] if r["version"] == "2017-11-04" and r["article"] == "第三条")
    assert old["status"] == "superseded" and old["status_label"] == "已被修订"
    assert old["current"]["version"] == "2024-06-28" and old["current"]["article"] == "第三条"
    assert old["current"]["same_text"] is False
    # 会计法 2017 第二十四条 was deleted in 2024: the link says so.
    removed = search(retriever, "公司、企业进行会计核算，除应当遵守本法第二章的规定外，还应当遵守本章规定", k=10,
                     regulations=["会计法"], all_versions=True)
    gone = next(r for r in removed["results"] if r["version"] == "2017-11-04" and r["article"] == "第二十四条")
    assert gone["current"]["removed"] is True


def test_a_repealed_regulation_is_left_out_today_and_searched_before(retriever):
    wanted = regulation_filter(retriever.index, None)
    titles = {r.title for r in retriever.index.regulations if r.id in wanted}
    assert "中华人民共和国增值税暂行条例" not in titles and "中华人民共和国增值税法" in titles
    before = search(retriever, "增值税", k=10, regulations=["增值税暂行条例"], as_of="2025-12-31")
    assert before["results"] and all(r["status"] == "in_force" for r in before["results"])
    with pytest.raises(QueryError, match="no version of the chosen regulations is in force"):
        regulation_filter(retriever.index, ["增值税暂行条例"], "2026-01-01")
    with pytest.raises(QueryError, match="YYYY-MM-DD"):
        regulation_filter(retriever.index, None, "2026-02-30")


def test_the_served_regulations_search_exactly_as_before(fake_index):
    plain = Retriever(fake_index, embedder=FakeEmbedder())
    assert regulation_filter(plain.index, None) is None  # one version each, in force: no filter at all
    question = "质量奖励"
    before = plain.search(question, k=5).to_json()
    after = annotate(plain.search(question, k=5, regulations=regulation_filter(plain.index, None)).to_json(),
                     plain.index)
    added = {"version", "status", "status_label"}
    assert all(set(r) - set(b) == added for r, b in zip(after["results"], before["results"], strict=True))
    stripped = {**after, "results": [{k: v for k, v in r.items() if k not in added} for r in after["results"]]}
    assert json.dumps(stripped, ensure_ascii=False) == json.dumps(before, ensure_ascii=False)


def test_list_rows_carry_status_and_the_dates_of_every_version(index):
    rows = regulation_rows(load_index(index))
    by = {(r["title"], r["version"]): r for r in rows}
    old = by[("中华人民共和国会计法", "2017-11-04")]
    assert old["status"] == "superseded" and old["versions"] == ["2017-11-04", "2024-06-28"]
    assert by[("中华人民共和国会计法", "2024-06-28")]["status"] == "in_force"
    assert by[("中华人民共和国增值税暂行条例", "2017-11-19")]["status"] == "repealed"
    hubei = by[("湖北省质量促进条例", None)]
    assert hubei["status"] == "in_force" and len(hubei["versions"]) == 1


def test_the_command_line_refuses_a_bad_date_before_loading_anything(index):
    out = subprocess.run([sys.executable, "-m", "retrieval", "search", "--index", str(index), "--as-of", "2024-02-30",
                          "会计账簿"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "YYYY-MM-DD" in out.stderr and "Traceback" not in out.stderr


def test_the_api_takes_as_of_and_all_versions(retriever):
    from fastapi.testclient import TestClient

    from retrieval.serving.engines import Engine
    from retrieval.serving.http_api import build_api
    from retrieval.serving.service import SearchService, ServingSettings

    engine = Engine(retriever, regulation_rows(retriever.index))
    client = TestClient(build_api(SearchService(lambda: engine, ServingSettings(max_inflight=2))),
                        raise_server_exceptions=False)
    today = client.get("/api/search", params={"q": ACCOUNTING, "regulation": "会计法"}).json()
    assert {r["version"] for r in today["results"]} == {"2024-06-28"}
    past = client.post("/api/search", json={"q": ACCOUNTING, "regulation": "会计法", "as_of": "2020-01-01"}).json()
    assert {r["version"] for r in past["results"]} == {"2017-11-04"}
    every = client.get("/api/search", params={"q": ACCOUNTING, "regulation": "会计法", "all_versions": "true",
                                              "k": 10}).json()
    assert {r["version"] for r in every["results"]} == {"2017-11-04", "2024-06-28"}
    bad = client.get("/api/search", params={"q": ACCOUNTING, "as_of": "yesterday"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.json()["error"]
    bad = client.post("/api/search", json={"q": ACCOUNTING, "all_versions": "maybe"})
    assert bad.status_code == 400 and "all_versions" in bad.json()["error"]


def test_a_question_that_names_a_version_searches_that_version(retriever):
    question = "会计法2017年版第三条对会计帐簿是怎么规定的"
    out = search_named(retriever, question)
    accounting = [r for r in out["results"] if r["title"] == "中华人民共和国会计法"]
    assert accounting and {r["version"] for r in accounting} == {"2017-11-04"}
    assert accounting[0]["status"] == "superseded" and accounting[0]["current"]["article"] == "第三条"
    # A year without a version of its own: the version in force at the end of that year.
    out = search_named(retriever, "计量法实施细则（2020年版）计量标准器具")
    assert {r["version"] for r in out["results"] if "计量法实施细则" in r["title"]} == {"2018-03-19"}
    # No year: the version in force today.
    out = search_named(retriever, "会计法第三条")
    assert {r["version"] for r in out["results"] if r["title"] == "中华人民共和国会计法"} == {"2024-06-28"}


def search_named(retriever: Retriever, question: str, k: int = 5):
    wanted = regulation_filter(retriever.index, None, question=question)
    return annotate(retriever.search(question, k=k, regulations=wanted).to_json(), retriever.index)
