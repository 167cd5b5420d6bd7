"""The versions page view on a real version pair (会计法 2017 → 2024): badges, the old beside the new with the
changed words marked, every text escaped."""

from __future__ import annotations

import pytest

from retrieval.version_report import VersionLibrary, compare
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
