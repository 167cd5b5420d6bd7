"""Versions of one regulation and their status on a day, read from real version pairs of the vendored library:
the day before, of and after each effective date, an amendment whose effective date the data does not give
(unknown, never guessed), a regulation repealed by a newer law's text, and the database's expiry flag."""

from __future__ import annotations

import pytest

from ingest.collect import collect, discover_sources
from ingest.schema import Regulation
from ingest.versions import (
    IN_FORCE,
    NOT_YET,
    REPEALED,
    STATUS_LABELS,
    SUPERSEDED,
    UNKNOWN,
    VersionTable,
    title_key,
)
from tests.versions_sample import extract_versions


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> VersionTable:
    collected = collect(discover_sources([extract_versions(tmp_path_factory.mktemp("versions"))]))
    return VersionTable(collected.regulations, collected.articles)


def statuses(table: VersionTable, name: str, day: str) -> list[str]:
    return [table.status(v.regulation_id, day).status for v in table.find(name)]


def test_versions_of_one_title_are_grouped_and_ordered_by_date(table):
    versions = table.find("会计法")
    assert [v.date for v in versions] == ["2017-11-04", "2024-06-28"]
    assert all(v.title == "中华人民共和国会计法" for v in versions)
    assert table.find("中华人民共和国会计法") == versions
    assert versions[0].replaced_by == versions[1].regulation_id and versions[1].replaced_by is None
    assert [v.date for v in table.find("计量法实施细则")] == ["2018-03-19", "2022-03-29"]
    assert table.find("没有这部法") == ()


def test_a_revision_takes_effect_on_its_stated_day(table):
    # 农产品质量安全法 2022 修订: 本法自2023年1月1日起施行.
    assert [v.effective for v in table.find("农产品质量安全法")] == ["2018-10-26", "2023-01-01"]
    assert statuses(table, "农产品质量安全法", "2018-10-25") == [NOT_YET, NOT_YET]
    assert statuses(table, "农产品质量安全法", "2018-10-26") == [IN_FORCE, NOT_YET]
    assert statuses(table, "农产品质量安全法", "2022-09-02") == [IN_FORCE, NOT_YET]  # adopted, not yet in force
    assert statuses(table, "农产品质量安全法", "2022-12-31") == [IN_FORCE, NOT_YET]
    assert statuses(table, "农产品质量安全法", "2023-01-01") == [SUPERSEDED, IN_FORCE]
    assert statuses(table, "农产品质量安全法", "2023-01-02") == [SUPERSEDED, IN_FORCE]
    old, new = table.find("农产品质量安全法")
    st = table.status(old.regulation_id, "2023-01-01")
    assert st.in_force == new.regulation_id and st.label == "已被修订"


def test_an_amendment_without_an_effective_date_is_unknown_until_it_must_be_in_force(table):
    # 会计法 2017 修正 took effect 2017-11-05 (the database); the 2024 修正's date is not in the data.
    assert statuses(table, "会计法", "2017-11-04") == [NOT_YET, NOT_YET]
    assert statuses(table, "会计法", "2017-11-05") == [IN_FORCE, NOT_YET]
    assert statuses(table, "会计法", "2024-06-27") == [IN_FORCE, NOT_YET]
    assert statuses(table, "会计法", "2024-06-28") == [UNKNOWN, UNKNOWN]
    assert statuses(table, "会计法", "2024-07-01") == [UNKNOWN, UNKNOWN]
    assert statuses(table, "会计法", "2026-12-06") == [SUPERSEDED, IN_FORCE]
    # 专利法实施细则 2010 says expired 0 in the database though the 2023 version replaced it.
    assert statuses(table, "专利法实施细则", "2023-12-10") == [IN_FORCE, NOT_YET]
    assert statuses(table, "专利法实施细则", "2023-12-11") == [UNKNOWN, UNKNOWN]
    assert statuses(table, "专利法实施细则", "2026-12-06") == [SUPERSEDED, IN_FORCE]
    assert statuses(table, "计量法实施细则", "2022-03-28") == [IN_FORCE, NOT_YET]
    assert statuses(table, "计量法实施细则", "2025-01-01") == [SUPERSEDED, IN_FORCE]


def test_a_superseded_version_flagged_expired_is_superseded_not_repealed(table):
    assert [v.expired for v in table.find("立法法")] == [True, False]
    assert statuses(table, "立法法", "2026-12-06") == [SUPERSEDED, IN_FORCE]


def test_a_regulation_repealed_by_a_newer_laws_text(table):
    # 增值税法 第三十八条: 本法自2026年1月1日起施行。《中华人民共和国增值税暂行条例》……同时废止。
    (regulation,) = table.find("增值税暂行条例")
    (law,) = table.find("增值税法")
    assert regulation.repealed is not None and regulation.repealed.by == law.regulation_id
    assert table.status(regulation.regulation_id, "2025-12-31").status == IN_FORCE
    assert table.status(law.regulation_id, "2025-12-31").status == NOT_YET
    repealed = table.status(regulation.regulation_id, "2026-01-01")
    assert repealed.status == REPEALED and "增值税法" in repealed.reason and repealed.label == "已废止"
    assert table.status(law.regulation_id, "2026-01-01").status == IN_FORCE


def test_the_databases_expiry_counts_from_the_snapshot_day_and_is_unknown_before(table):
    (noise,) = table.find("环境噪声污染防治法")
    assert noise.expired is True
    assert table.status(noise.regulation_id, "2025-04-19").status == REPEALED
    assert table.status(noise.regulation_id, "2020-01-01").status == UNKNOWN
    assert table.status(noise.regulation_id, "2018-12-28").status == NOT_YET


def test_searchable_keeps_one_version_per_regulation(table):
    ids = table.searchable("2026-12-06")
    kept = {table.version(i).title: table.version(i).date for i in ids}
    assert kept["中华人民共和国会计法"] == "2024-06-28"
    assert kept["中华人民共和国农产品质量安全法"] == "2022-09-02"
    assert "中华人民共和国增值税暂行条例" not in kept and "中华人民共和国环境噪声污染防治法" not in kept
    # The day the 2024 会计法 was adopted, neither version can be placed: the newest that may be in force is kept.
    assert {table.version(i).date for i in table.searchable("2024-07-01") if "会计法" in table.version(i).title} \
        == {"2024-06-28"}
    assert {table.version(i).date for i in table.searchable("2020-01-01") if "会计法" in table.version(i).title} \
        == {"2017-11-04"}


def test_a_single_regulation_with_an_effective_date_is_in_force_from_that_day():
    reg = Regulation(id="hz", title="杭州市质量促进办法", promulgated="2021-08-13", effective="2021-09-15")
    table = VersionTable([reg])
    assert table.status("hz", "2021-09-14").status == NOT_YET
    assert table.status("hz", "2021-09-15").status == IN_FORCE
    assert table.status("hz").status == IN_FORCE  # today
    assert table.searchable() == {"hz"}


def test_bad_dates_are_refused_with_a_message(table):
    (law,) = table.find("增值税法")
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        table.status(law.regulation_id, "2024-13-01")


def test_title_key_unifies_the_usual_spellings():
    assert title_key("中华人民共和国会计法") == title_key("会计法")
    assert title_key("人民检察院刑事诉讼规则（试行）") == title_key("人民检察院刑事诉讼规则(试行)")
    assert set(STATUS_LABELS.values()) >= {"现行有效", "已被修订", "已废止", "尚未生效"}


def test_an_empty_index_has_nothing_to_search():
    assert VersionTable([]).searchable() == frozenset()


def test_searchable_is_worked_out_once_per_day_and_is_the_same_set(table):
    """A library search asks for the versions in force on every question: the second ask is answered from the
    table's memory, and any spelling of the same day gets the same answer."""
    import datetime as dt

    first = table.searchable("2020-01-01")
    assert table.searchable(dt.date(2020, 1, 1)) is first
    assert table.searchable("2020-01-01") is first
    assert table.searchable("2024-12-31") != first  # another day, worked out afresh (会计法 2024 in force)
    with pytest.raises(ValueError):
        table.searchable("2020-02-30")
