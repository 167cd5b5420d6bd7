"""Unpack the vendored library snapshot (data/library/*.tar.xz) into a git-ignored folder, checking its sha256.

The archive's digest is fixed here and in data/library/README.md: any other file is refused. The unpack goes into
a temporary folder beside the target and is renamed into place, so a killed unpack never leaves a half library; a
finished one leaves a stamp with the digest, and unpacking the same archive again does nothing.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tarfile
import uuid
from pathlib import Path

from ingest.errors import SourceError

log = logging.getLogger(__name__)

LIBRARY_DIR = Path("data") / "library"
ARCHIVE_NAME = "lawrefbook-2f4c5c2.tar.xz"
ARCHIVE_SHA256 = "6c015d1152d6f387fd3357365ecace873316fe70b1a6bf61023b5ce00c3a7c83"
TOP_FOLDER = "lawrefbook"  # what the archive unpacks to
STAMP = ".unpacked"


def archive_path(base: Path | None = None) -> Path:
    return (base or Path()) / LIBRARY_DIR / ARCHIVE_NAME


def sha256_of(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def verify_archive(archive: Path, expected: str = ARCHIVE_SHA256) -> None:
    if not archive.is_file():
        raise SourceError(f"{archive}: the library snapshot is missing (it is vendored in git: git checkout it)")
    digest = sha256_of(archive)
    if digest != expected:
        raise SourceError(f"{archive.name}: sha256 {digest} is not the vendored snapshot's {expected}; "
                          "restore the file from git")


def unpack(archive: Path | None = None, dest: Path | None = None, expected: str = ARCHIVE_SHA256) -> Path:
    """Unpack `archive` (default data/library/<snapshot>) into `dest` (default data/library), giving
    dest/lawrefbook. Returns that folder. Does nothing when it is already unpacked from the same archive."""
    archive = archive or archive_path()
    dest = dest or archive.parent
    target = dest / TOP_FOLDER
    stamp = target / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == expected:
        log.info("the library is already unpacked at %s", target)
        return target
    verify_archive(archive, expected)
    tmp = dest / f".unpack-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(tmp, filter="data")  # no absolute paths, links out of the folder or devices
        unpacked = tmp / TOP_FOLDER
        if not unpacked.is_dir():
            raise SourceError(f"{archive.name}: expected a top folder {TOP_FOLDER}/ in the archive")
        (unpacked / STAMP).write_text(expected + "\n", encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    except (OSError, tarfile.TarError) as exc:
        raise SourceError(f"{archive.name}: cannot unpack into {dest}: {exc}") from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log.info("unpacked %s into %s", archive.name, target)
    return target
