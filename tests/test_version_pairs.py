"""The old beside the new on real version pairs of the vendored library: articles matched by text across
renumbering, added / removed / changed marked, changed words shown; `python -m retrieval versions` prints it and
refuses bad input with a message."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from retrieval.version_pairs import ADDED, CHANGED, REMOVED, SAME, pair_articles, word_diff
from retrieval.version_report import VersionLibrary, compare
from tests.conftest import ROOT
from tests.versions_sample import extract_versions


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_versions(tmp_path_factory.mktemp("pairs"))


@pytest.fixture(scope="module")
def library(folder: Path) -> VersionLibrary:
    return VersionLibrary.from_sources([folder])


def _by_new_label(pairs, label):
    return next(p for p in pairs if p.new is not None and p.new.label == label)


def test_every_article_of_both_versions_appears_once(library):
    old, new = library.versions("专利法实施细则")
    a, b = library.articles_of(old.regulation_id), library.articles_of(new.regulation_id)
    pairs = library.pairs(old.regulation_id, new.regulation_id)
    assert sorted(p.old.label for p in pairs if p.old) == sorted(x.label for x in a)
    assert [p.new.label for p in pairs if p.new] == [x.label for x in b]  # in the new version's order


def test_an_inserted_article_renumbers_the_rest_and_they_still_pair(library):
    # 2023 inserted 第十一条 (诚实信用); the old 第十一条 (申请日) is now 第十二条, word for word.
    old, new = library.versions("专利法实施细则")
    pairs = library.pairs(old.regulation_id, new.regulation_id)
    inserted = _by_new_label(pairs, "第十一条")
    assert inserted.kind == ADDED and inserted.new.text.startswith("申请专利应当遵循诚实信用原则")
    moved = _by_new_label(pairs, "第十二条")
    assert moved.kind == SAME and moved.old.label == "第十一条" and moved.renumbered
    last = _by_new_label(pairs, "第一百四十九条")
    assert last.old.label == "第一百二十三条" and last.old.text == last.new.text
    # the 专利复审委员会 articles went with the 2023 revision
    removed = [p.old.label for p in pairs if p.kind == REMOVED]
    assert "第五十九条" in removed


def test_a_changed_article_shows_the_words_that_changed(library):
    old, new = library.versions("会计法")
    pairs = library.pairs(old.regulation_id, new.regulation_id)
    third = _by_new_label(pairs, "第三条")
    assert third.kind == CHANGED and third.old.label == "第三条"
    changes = [(s.old, s.new) for s in third.diff if s.op != "equal"]
    assert changes == [("帐簿", "账簿")]
    # 2024 removed 第二十四条 (公司、企业进行会计核算……还应当遵守本章规定) and added the 从轻、减轻 article.
    assert any(p.kind == REMOVED and p.old.text.startswith("公司、企业进行会计核算，除应当遵守") for p in pairs)
    assert any(p.kind == ADDED and "从轻、减轻或者不予处罚" in p.new.text for p in pairs)


def test_versions_without_renumbering_pair_number_for_number(library):
    old, new = library.versions("计量法实施细则")
    pairs = library.pairs(old.regulation_id, new.regulation_id)
    assert len(pairs) == 60 and all(p.old and p.new and p.old.label == p.new.label for p in pairs)
    assert sum(p.kind == SAME for p in pairs) == 50


def test_unrelated_texts_do_not_pair(library):
    old = library.articles_of(library.versions("会计法")[0].regulation_id)[:3]
    other = library.articles_of(library.versions("计量法实施细则")[0].regulation_id)[10:13]
    pairs = pair_articles(old, other)
    assert all(p.kind in (ADDED, REMOVED) for p in pairs) and len(pairs) == 6


def test_word_diff_reassembles_both_texts():
    old, new = "各单位必须依法设置会计帐簿，并保证其真实、完整。", "各单位必须依法设置会计账簿，并保证其真实、完整。"
    segs = word_diff(old, new)
    assert "".join(s.old for s in segs) == old and "".join(s.new for s in segs) == new


def test_compare_picks_versions_by_date(library):
    c = compare(library, "农产品质量安全法", "2020-01-01", "2023-06-01", as_of="2026-12-06")
    assert (c.old.date, c.new.date) == ("2018-10-26", "2022-09-02")
    assert [s for _, s, _ in c.versions] == ["superseded", "in_force"]
    only = compare(library, "增值税暂行条例", as_of="2026-12-06")
    assert only.pairs == () and only.versions[0][2] == "已废止"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retrieval", "versions", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_cli_prints_the_pairing_as_json(folder):
    out = _cli("会计法", "--source", str(folder), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["regulation"] == "中华人民共和国会计法"
    assert (data["from"]["version"], data["to"]["version"]) == ("2017-11-04", "2024-06-28")
    assert data["counts"]["same"] + data["counts"]["changed"] + data["counts"]["added"] == 51
    third = next(p for p in data["pairs"] if p["new"] and p["new"]["article"] == "第三条")
    assert third["kind"] == "changed" and {"op": "replace", "old": "帐簿", "new": "账簿"} in third["diff"]


def test_cli_refuses_bad_input_with_a_message(folder):
    bad_date = _cli("会计法", "--source", str(folder), "--from", "2024-13-01")
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr and "Traceback" not in bad_date.stderr
    unknown = _cli("不存在的法", "--source", str(folder))
    assert unknown.returncode == 2 and "no regulation named" in unknown.stderr
    too_early = _cli("会计法", "--source", str(folder), "--from", "1990-01-01")
    assert too_early.returncode == 2 and "no version" in too_early.stderr
    text = _cli("会计法", "--source", str(folder))
    assert text.returncode == 0 and "[-帐簿-]{+账簿+}" in text.stdout and "已被修订" in text.stdout
