"""Real version pairs of the vendored library snapshot (data/library/*.tar.xz), for the versions tests: extracted
with tests/library_sample.py's tarfile reader into a temporary folder, with the national database."""

from __future__ import annotations

from pathlib import Path

from tests.library_sample import extract_sample

PAIRS = {
    "计量法实施细则": ("行政法规/计量法实施细则(2018-03-19).md", "行政法规/计量法实施细则(2022-03-29).md"),
    "农产品质量安全法": ("经济法/农产品质量安全法(2018-10-26).md", "经济法/农产品质量安全法(2022-09-02).md"),
    "专利法实施细则": ("行政法规/专利法实施细则(2010-01-09).md", "行政法规/专利法实施细则(2023-12-11).md"),
    "会计法": ("经济法/会计法(2017-11-04).md", "经济法/会计法(2024-06-28).md"),
    "立法法": ("宪法相关法/立法法(2015-03-15).md", "宪法相关法/立法法(2023-03-13).md"),
}
VAT_REGULATION = "行政法规/增值税暂行条例(2017-11-19).md"  # repealed by 增值税法 (自2026年1月1日起施行)
VAT_LAW = "经济法/增值税法(2024-12-25).md"
NOISE = "行政法/环境噪声污染防治法(2018-12-29).md"  # the database: expired, no newer version in the library
SAMPLE = ("db.sqlite3", *(f for pair in PAIRS.values() for f in pair), VAT_REGULATION, VAT_LAW, NOISE)


def extract_versions(dest: Path) -> Path:
    return extract_sample(dest, SAMPLE)
