"""The versions page view on a real version pair (会计法 2017 → 2024): badges, the old beside the new with the
changed words marked, every text escaped."""

from __future__ import annotations

import pytest

from ingest.errors import QueryError
from retrieval.versions.report import VersionLibrary, compare
from retrieval.web.versions_view import status_badge, versions_page
from tests.versions_sample import extract_versions


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> VersionLibrary:
    return VersionLibrary.from_sources([extract_versions(tmp_path_factory.mktemp("view"))])


def test_the_view_shows_both_versions_with_their_status_and_the_changed_words(library):
    html = versions_page(compare(library, "会计法", as_of="2026-12-01"))
    assert "《中华人民共和国会计法》的版本" in html and "已被修订" in html and "现行有效" in html
    assert '<del style="background:#fde8e8;text-decoration:line-through">帐簿</del>' in html
    assert '<ins style="background:#e6f4ea;text-decoration:underline">账簿</ins>' in html
    assert "修改 34 条" in html and "新增 2 条" in html and "删除 3 条" in html
    assert html.count('class="regqa-ver-row') == 54
    only_changed = versions_page(compare(library, "会计法", as_of="2026-12-01"), changed_only=True)
    assert only_changed.count('class="regqa-ver-row') == 54 - 15


def test_a_regulation_with_one_version_says_there_is_nothing_to_compare(library):
    html = versions_page(compare(library, "增值税暂行条例", as_of="2026-12-01"))
    assert "已废止" in html and "only one version" in html


def test_badges_name_the_status_and_date_and_escape():
    badge = status_badge("in_force", "2024-06-28")
    assert "现行有效" in badge and "2024-06-28" in badge
    assert status_badge("nonsense") == ""
    assert "&lt;b&gt;" in status_badge("superseded", "<b>")


def test_the_page_answers_as_of_a_day_and_marks_the_version(tmp_path):
    """The page's reply (ChatPage.reply, as `?q=…&as_of=…` asks it) on an index of the real pair, fake embedder."""
    import re

    from ingest.build import build_index
    from ingest.catalog import regulation_rows
    from retrieval.retriever import Retriever
    from retrieval.serving.engines import Engine
    from retrieval.serving.service import SearchService, ServingSettings
    from retrieval.web.chat import ChatPage
    from tests.conftest import FakeEmbedder

    build_index([extract_versions(tmp_path / "lib")], tmp_path / "index", FakeEmbedder(), progress=False)
    retriever = Retriever(tmp_path / "index", embedder=FakeEmbedder())
    engine = Engine(retriever, regulation_rows(retriever.index))
    page = ChatPage(SearchService(lambda: engine, ServingSettings(max_inflight=2)))
    badges = re.compile(r'regqa-status[^>]*>([^<]*)<')
    today = page.reply("各单位必须依法设置会计账簿", 3, "lexical", None, [])
    assert "现行有效 In force · 2024-06-28" in badges.findall(today)
    then = page.reply("各单位必须依法设置会计帐簿", 3, "lexical", None, [], as_of="2020-01-01")
    assert "现行有效 In force · 2017-11-04" in badges.findall(then) and "账簿" not in then
    named = page.reply("会计法2017年版第三条", 3, "lexical", None, [])
    assert badges.findall(named)[0] == "已被修订 Superseded · 2017-11-04" and "现行 第三条 In force now" in named
    with pytest.raises(QueryError, match="YYYY-MM-DD"):  # the turn shows it as the reply's error message
        page.reply("会计账簿", 3, "lexical", None, [], as_of="2020-02-30")


def test_eval_and_calibration_search_the_versions_in_force_as_the_cli_does(tmp_path):
    """`eval run` and `eval calibrate` measure what a user gets: the version in force today, not the same article
    of every version (which would fill the ranks with one article twice)."""
    from eval.calibrate import versions_within
    from eval.questions import Gold, Question
    from eval.runner import run_mode
    from ingest.build import build_index
    from retrieval.retriever import Retriever
    from tests.conftest import FakeEmbedder

    build_index([extract_versions(tmp_path / "lib")], tmp_path / "index", FakeEmbedder(), progress=False)
    retriever = Retriever(tmp_path / "index", embedder=FakeEmbedder())
    q = Question("kj", "各单位必须依法设置会计账簿", (Gold("中华人民共和国会计法", "第三条"),))
    every = [(r.article.regulation_id, r.article.label) for r in retriever.search(q.question, 10, "lexical").results]
    assert [label for _, label in every].count("第三条") == 2  # both versions hold it
    returned = run_mode(retriever, [q], "lexical", k=10, progress=False)[0].returned
    assert returned[0] == "中华人民共和国会计法 第三条" and returned.count("中华人民共和国会计法 第三条") == 1
    within = versions_within(retriever, [q])["kj"]
    in_force = [rid for rid, label in every if label == "第三条" and rid in within]
    assert len(in_force) == 1
    assert {r.id: r.version for r in retriever.index.regulations}[in_force[0]] == "2024-06-28"
