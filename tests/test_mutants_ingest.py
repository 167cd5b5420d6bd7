"""The ingest room's own regressions (ingest/sources.py, ingest/build.py, ingest/stores/index_io.py), fast: the
fixtures built with the fake embedder of tests/conftest.py (no model). Each test names the change it catches
(tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.errors import IndexFault
from ingest.sources import load_source
from ingest.stores.index_io import build_lock, load_index
from tests.conftest import FIXTURES, FakeEmbedder


# -- (e) JSONL paragraph spans ---------------------------------------------------------------------------------
def test_jsonl_paragraph_spans_cut_the_text_at_each_paragraph(tmp_path: Path):
    body = "第一款的文字。\n\n第二款，稍长一些的文字。\n第三款。"
    rows = [{"title": "《示例法》", "article": "第一条", "text": body},
            {"title": "示例法", "article": "第二条之一", "text": "  只有一款。 "}]
    path = tmp_path / "law.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    [doc] = load_source(path)
    first, second = doc.articles
    assert [first.text[a:b] for a, b in first.paragraphs] == ["第一款的文字。", "第二款，稍长一些的文字。", "第三款。"]
    assert second.paragraphs == ((0, len("只有一款。")),) and second.text == "只有一款。"
    assert (second.number, second.sub_number, second.label) == (2, 1, "第二条之一")


# -- (f) a changed .meta.json rebuilds -------------------------------------------------------------------------
def _sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "sample_regulation.txt", src)
    shutil.copy(FIXTURES / "sample_regulation.meta.json", src)
    return src


def test_a_changed_metadata_file_rebuilds_and_serves_the_new_names(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    first = build_index([src], out, FakeEmbedder(), progress=False)
    assert not build_index([src], out, FakeEmbedder(), progress=False).rebuilt
    meta = json.loads((src / "sample_regulation.meta.json").read_text(encoding="utf-8"))
    meta["short_names"] = ["新简称条例"]
    (src / "sample_regulation.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    again = build_index([src], out, FakeEmbedder(), progress=False)
    assert again.rebuilt and again.path != first.path
    assert again.embedded == 0  # the texts did not change: every vector is reused
    [reg] = load_index(out).regulations
    assert reg.short_names == ("新简称条例",)


def test_the_regulation_checksum_covers_its_metadata(tmp_path: Path):
    src = _sources(tmp_path)
    [before] = load_source(src / "sample_regulation.txt")
    meta = src / "sample_regulation.meta.json"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace("示例省人民代表大会常务委员会", "另一个机关"), encoding="utf-8")
    [after] = load_source(src / "sample_regulation.txt")
    assert after.regulation.issuer == "另一个机关"
    assert after.regulation.checksum != before.regulation.checksum


# -- (g) a second build at the same time fails at once ----------------------------------------------------------
def test_a_second_build_on_the_same_index_fails_at_once_instead_of_waiting(tmp_path: Path):
    out = tmp_path / "index"
    outcome: list[BaseException | None] = []

    def second_build() -> None:
        try:
            build_index([FIXTURES / "sample_measure.txt"], out, FakeEmbedder(), progress=False)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    with build_lock(out):  # a build is running
        worker = threading.Thread(target=second_build, daemon=True)
        worker.start()
        worker.join(timeout=10)  # a guard against hanging, not a timing measurement: it fails at once or never
        waited = worker.is_alive()
    worker.join(timeout=30)
    assert not waited, "the second build waited for the first instead of failing"
    [error] = outcome
    assert isinstance(error, IndexFault) and "another build is already running" in str(error)
    with pytest.raises(IndexFault, match="no index"):
        load_index(out)  # nothing was switched in by the refused build
    assert build_index([FIXTURES / "sample_measure.txt"], out, FakeEmbedder(), progress=False).rebuilt  # lock freed
