"""The citation checker on real version pairs of the vendored library: a quotation of an amended text is
`superseded` (naming the version quoted and the article in force now, or that it was removed); a citation that
names its version is checked against that version; without versions nothing changes."""

from __future__ import annotations

import pytest

from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import check_citations
from retrieval.version_report import VersionLibrary
from tests.versions_sample import extract_versions


@pytest.fixture(scope="module")
def catalogue(tmp_path_factory: pytest.TempPathFactory) -> Catalogue:
    lib = VersionLibrary.from_sources([extract_versions(tmp_path_factory.mktemp("check-versions"))])
    return Catalogue(lib.regulations, lib.articles)


def one(draft: str, catalogue: Catalogue):
    (check,) = check_citations(draft, catalogue).citations
    return check


def test_quoting_the_text_in_force_is_found_in_that_version(catalogue):
    c = one("《会计法》第三条规定：“各单位必须依法设置会计账簿”。", catalogue)
    assert c.verdict == "found" and c.version == "2024-06-28" and c.to_json()["version"] == "2024-06-28"


def test_quoting_an_amended_text_is_superseded_and_names_the_article_in_force(catalogue):
    c = one("《会计法》第三条规定：“各单位必须依法设置会计帐簿”。", catalogue)  # 帐簿: the 2017 wording
    assert c.verdict == "superseded" and c.version == "2017-11-04"
    assert "2017-11-04版本" in c.message and "现行2024-06-28版本为第三条" in c.message
    out = c.to_json()
    assert out["verdict"] == "superseded" and out["current"]["article"] == "第三条"
    assert out["current"]["text"].startswith("各单位必须依法设置会计账簿")
    assert not check_citations("《会计法》第三条规定：“各单位必须依法设置会计帐簿”。", catalogue).ok


def test_an_article_that_was_renumbered_or_removed_says_where_it_went(catalogue):
    last = one("会计法第五十二条", catalogue)  # 2017 has 52 articles, 2024 has 51: 本法自2000年7月1日起施行
    assert last.verdict == "superseded" and last.current["article"] == "第五十一条"
    gone = one("《会计法》第二十四条规定：“公司、企业进行会计核算，除应当遵守本法第二章的规定外”", catalogue)
    assert gone.verdict == "superseded" and gone.current == {"version": "2024-06-28", "removed": True}
    assert "已删除该条" in gone.message


def test_a_citation_that_names_its_version_is_checked_against_it(catalogue):
    for draft in ("《中华人民共和国会计法》（2017年修正）第三条规定：“各单位必须依法设置会计帐簿”。",
                  "根据会计法2017年版第三条，“各单位必须依法设置会计帐簿”。"):
        c = one(draft, catalogue)
        assert c.verdict == "found" and c.version == "2017-11-04", draft
    wrong = one("《中华人民共和国会计法》（2024年修正）第三条规定：“各单位必须依法设置会计帐簿”。", catalogue)
    assert wrong.verdict == "quote_differs" and wrong.version == "2024-06-28"
    # A year without its own version: the version in force at the end of that year.
    assert one("会计法（2020年版）第五十二条", catalogue).version == "2017-11-04"
    missing = one("会计法（1999年修订）第三条", catalogue)
    assert missing.verdict == "unknown_regulation" and "没有《中华人民共和国会计法》1999年的版本" in missing.message


def test_a_regulation_with_one_version_is_checked_as_before(catalogue):
    c = one("《增值税法》第一条", catalogue)
    assert c.verdict == "found" and "version" not in c.to_json() and "current" not in c.to_json()


def test_the_report_counts_superseded_citations(catalogue):
    report = check_citations("《会计法》第三条规定：“各单位必须依法设置会计帐簿”。会计法第五十一条。", catalogue)
    assert report.counts()["superseded"] == 1 and report.counts()["found"] == 1
