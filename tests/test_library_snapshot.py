"""The vendored library snapshot: unpacked only when its sha256 is the vendored one, once, never half."""

from __future__ import annotations

import shutil

import pytest

from ingest.errors import SourceError
from ingest.snapshot import ARCHIVE_NAME, STAMP, TOP_FOLDER, unpack
from tests.library_sample import ARCHIVE


def test_the_snapshot_unpacks_once_with_its_databases_and_documents(tmp_path):
    target = unpack(ARCHIVE, tmp_path)
    assert target == tmp_path / TOP_FOLDER and (target / STAMP).is_file()
    assert (target / "db.sqlite3").is_file() and (target / "DLC" / "浙江地方法规" / "db.sqlite3").is_file()
    assert len(list(target.rglob("*.md"))) == 3504
    (target / "marker").write_text("kept", encoding="utf-8")
    assert unpack(ARCHIVE, tmp_path) == target and (target / "marker").is_file()  # already there: nothing done
    assert not list(tmp_path.glob(".unpack-*"))


def test_an_archive_with_another_digest_is_refused_and_nothing_is_unpacked(tmp_path):
    damaged = tmp_path / ARCHIVE_NAME
    shutil.copy(ARCHIVE, damaged)
    with damaged.open("r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x00\x00")
    with pytest.raises(SourceError, match=r"sha256 .* is not the vendored snapshot's"):
        unpack(damaged, tmp_path / "out")
    assert not (tmp_path / "out" / TOP_FOLDER).exists()


def test_cli_unpack_of_a_missing_archive_is_one_clear_error(tmp_path, capsys):
    from ingest.__main__ import main

    assert main(["unpack", "--archive", str(tmp_path / ARCHIVE_NAME)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing" in err and "Traceback" not in err
