"""Save and load the index directory, side by side, versioned, checked, no pickle.

Layout of an index directory (default data/index):
    CURRENT                  name of the build that is serving (replaced atomically)
    builds/<name>/           manifest.json, the vector store's files (dense.faiss), embeddings.npy, bm25/,
                             chunks.jsonl, articles.jsonl, regulations.jsonl
    milvus/<name>.db         a build's Milvus Lite database, when it is stored in Milvus (the manifest says where;
                             on a server, nothing here: the vectors and BM25 live in a collection per build)
    .lock                    held while a build runs
A build is written into a fresh folder, checked by loading it, then CURRENT is switched with os.replace;
a failed or killed build leaves the previous one serving.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexFault
from ingest.schema import Article, Chunk, Regulation
from ingest.stores.lexical_index import LexicalIndex
from ingest.stores.vector_store import VectorStore, load_lexical, load_store

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CURRENT = "CURRENT"
BUILDS = "builds"
REBUILD_HINT = "rebuild it with `python -m ingest build` (or `make run`)"


@dataclass(frozen=True)
class LoadedIndex:
    path: Path  # the build folder that was loaded
    manifest: dict[str, Any]
    regulations: tuple[Regulation, ...]
    articles: tuple[Article, ...]
    chunks: tuple[Chunk, ...]
    store: VectorStore  # one vector per chunk, in chunk order
    lexical: LexicalIndex  # BM25 over the chunks' words (bm25s files, or the Milvus collection itself)

    @property
    def model_id(self) -> str:
        return self.manifest["embedder"]["model_id"]


def sha256_file(path: Path) -> str:
    with path.open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _fsync_tree(folder: Path) -> None:
    for f in folder.rglob("*"):
        if f.is_file():
            with f.open("rb") as fh:
                os.fsync(fh.fileno())
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def refuse_follower(root: Path) -> None:
    """A directory that follows an index published in Milvus holds only a cache: nothing is built into it."""
    if (root / "REMOTE").is_file():
        raise IndexFault(f"{root} follows an index published in Milvus; build (and calibrate) where that index "
                         "is built, or into another directory")


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One build at a time per index directory; a second one fails fast with a clear message."""
    refuse_follower(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        fd = os.open(root / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
    except OSError as exc:
        raise IndexFault(f"cannot write an index at {root}: {exc.strerror or exc}") from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise IndexFault(f"another build is already running on {root}; wait for it to finish") from exc
        yield
    finally:
        os.close(fd)  # closing releases the lock, also when the process is killed


def new_build_dir(root: Path) -> Path:
    """A new build folder, named so that builds sort in the order they were made, also within one second
    (prune_builds keeps the newest by name): time to the second, then its microseconds and 2 random hex digits."""
    now = time.time()
    name = f"{time.strftime('%Y%m%d-%H%M%S', time.localtime(now))}-{int(now % 1 * 1_000_000):06d}{uuid.uuid4().hex[:2]}"
    path = root / BUILDS / name
    path.mkdir(parents=True)
    return path


def write_build(
    folder: Path,
    manifest: dict[str, Any],
    regulations: list[Regulation],
    articles: list[Article],
    chunks: list[Chunk],
    vectors: np.ndarray | None,
    store: VectorStore,
    lexical: LexicalIndex,
) -> None:
    try:
        _write_jsonl(folder / "regulations.jsonl", [r.to_json() for r in regulations])
        _write_jsonl(folder / "articles.jsonl", [a.to_json() for a in articles])
        _write_jsonl(folder / "chunks.jsonl", [c.to_json() for c in chunks])
        if vectors is not None:  # None: the store keeps them (a published Milvus build), read back for reuse
            np.save(folder / "embeddings.npy", vectors.astype(np.float32), allow_pickle=False)
        store.save(folder)
        lexical.save(folder)
        files = {
            f.relative_to(folder).as_posix(): sha256_file(f)
            for f in sorted(folder.rglob("*"))
            if f.is_file() and f.name != MANIFEST
        }
        manifest = {**manifest, "format_version": FORMAT_VERSION, "files": files}
        (folder / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        _fsync_tree(folder)
    except OSError as exc:  # disk full, permissions: one clear message; the caller removes the folder
        raise IndexFault(f"cannot write the new index into {folder.parent.parent}: {exc.strerror or exc}; "
                         "the index that was serving is unchanged") from exc


def switch_current(root: Path, folder: Path) -> None:
    tmp = root / f".{CURRENT}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(folder.name + "\n", encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, root / CURRENT)
    dir_fd = os.open(root, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def current_build(root: Path) -> Path:
    if (root / "REMOTE").is_file():  # a directory that follows an index published in Milvus
        from ingest.stores.milvus_catalog import follow

        return follow(root)
    pointer = root / CURRENT
    if not pointer.is_file():
        raise IndexFault(f"no index at {root.name}/: {REBUILD_HINT}")
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:  # unreadable or not text: a damaged pointer
        raise IndexFault(f"the index pointer {root.name}/{CURRENT} is unreadable; {REBUILD_HINT}") from exc
    folder = root / BUILDS / name
    if not name or "/" in name or name.startswith(".") or not folder.is_dir():
        raise IndexFault(f"the index at {root.name}/ points to a build that is missing; {REBUILD_HINT}")
    return folder


def read_manifest(root: Path, verify: bool = True) -> dict[str, Any] | None:
    """The serving build's manifest, or None when there is no intact index (for staleness checks).

    With verify, a build whose files do not match its manifest's checksums counts as no index, so
    `python -m ingest build` rebuilds a damaged index instead of calling it up to date, and never reuses
    vectors from a damaged embeddings file.
    """
    try:
        folder = current_build(root)
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if verify:
            check_files(folder, manifest, checksums=True)
        return manifest
    except (IndexFault, OSError, ValueError):
        return None


def record_in_manifest(root: Path, key: str, value: Any) -> Path:
    """Store `value` under `key` in the serving build's manifest (e.g. the settings calibrated on the corpus's
    questions), atomically, under the build lock. The manifest is not among the checksummed files, so the
    build stays intact; a build that replaces this one starts without the value."""
    with build_lock(root):
        folder = current_build(root)
        path = folder / MANIFEST
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
            manifest[key] = value
            tmp = root / f".{MANIFEST}.{uuid.uuid4().hex[:8]}"  # beside the builds: never a stray file in one
            tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
            with tmp.open("rb") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            raise IndexFault(f"cannot update {path.name} of {folder.name}: {exc}") from exc
        if isinstance(manifest.get("milvus"), dict):  # followers of a published build get the new manifest too
            from ingest.stores.milvus_catalog import publish, switch_to

            publish(folder, manifest["milvus"])
            switch_to(folder, manifest["milvus"])
    return folder


def prune_builds(root: Path, keep: int = 2) -> set[str]:
    """Remove old builds and leftovers of killed builds; call with the build lock held. Returns the names of
    the builds kept (their stores' data elsewhere, e.g. Milvus collections, must stay too)."""
    builds = root / BUILDS
    if not builds.is_dir():
        return set()
    try:
        serving = current_build(root).name
    except IndexFault:
        serving = None
    complete = sorted((d for d in builds.iterdir() if (d / MANIFEST).is_file()), key=lambda d: d.name)
    keepers = {d.name for d in complete[-keep:]} | ({serving} if serving else set())
    for d in builds.iterdir():
        if d.name not in keepers:
            shutil.rmtree(d, ignore_errors=True)
    for stray in root.glob(f".{CURRENT}.*"):
        stray.unlink(missing_ok=True)
    return keepers


def load_index(root: Path, verify: bool = True) -> LoadedIndex:
    """Load the serving build of an index directory.

    A build that is switched out and pruned while it is being read is not an error: when the build
    vanished and CURRENT now names another one, that one is loaded instead.
    """
    for _attempt in range(5):
        folder = current_build(root)
        try:
            return load_build(folder, verify)
        except IndexFault:
            if folder.is_dir() or current_build(root) == folder:
                raise
            log.info("build %s was replaced while loading; loading the new one", folder.name)
    return load_build(current_build(root), verify)


def check_files(folder: Path, manifest: Any, checksums: bool = True) -> None:
    """The build's files are exactly those its manifest lists, with the recorded sha256 (if checksums)."""
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexFault(f"the index was written in another format version; {REBUILD_HINT}")
    files = manifest.get("files")
    embedder = manifest.get("embedder")
    if (not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values())
            or not isinstance(embedder, dict)
            or not all(isinstance(embedder.get(k), str) for k in ("model_id", "spec"))
            or not isinstance(embedder.get("dim"), int) or not isinstance(manifest.get("counts"), dict)):
        raise IndexFault(f"the index manifest is incomplete or malformed; {REBUILD_HINT}")
    try:
        present = {f.relative_to(folder).as_posix() for f in folder.rglob("*")
                   if f.is_file() and f.name != MANIFEST}
        if set(files) != present:
            missing, extra = sorted(set(files) - present), sorted(present - set(files))
            raise IndexFault(f"the index files do not match its manifest (missing {missing or 'none'}, "
                             f"unexpected {extra or 'none'}); {REBUILD_HINT}")
        if checksums:
            for name, digest in files.items():
                if sha256_file(folder / name) != digest:
                    raise IndexFault(f"the index file {name} is damaged (checksum mismatch); {REBUILD_HINT}")
    except OSError as exc:  # a file vanished or cannot be read while checking
        raise IndexFault(f"the index files cannot be read ({exc.strerror or exc}); {REBUILD_HINT}") from exc


def load_build(folder: Path, verify: bool = True) -> LoadedIndex:
    """Load one build; every file is checked against the manifest before it is used."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFault(f"the index manifest is missing or unreadable; {REBUILD_HINT}") from exc
    check_files(folder, manifest, checksums=verify)
    try:
        regulations = tuple(Regulation.from_json(r) for r in _read_jsonl(folder / "regulations.jsonl"))
        articles = tuple(Article.from_json(a) for a in _read_jsonl(folder / "articles.jsonl"))
        chunks = tuple(Chunk.from_json(c) for c in _read_jsonl(folder / "chunks.jsonl"))
    except Exception as exc:  # a damaged file that slipped past (verify=False): refuse, never guess
        raise IndexFault(f"the index cannot be read ({type(exc).__name__}); {REBUILD_HINT}") from exc
    regulation_of = {a.id: a.regulation_id for a in articles}
    if any(c.article_id not in regulation_of for c in chunks):
        raise IndexFault(f"the index files disagree with each other (a chunk of an unknown article); "
                         f"{REBUILD_HINT}")
    try:
        regulation_ids = [regulation_of[c.article_id] for c in chunks]
        store = load_store(folder, manifest, regulation_ids)
        lexical = load_lexical(folder, store, regulation_ids)
    except IndexFault:  # a store that words its own fault (a Milvus collection that is missing, …)
        raise
    except Exception as exc:  # as above
        raise IndexFault(f"the index cannot be read ({type(exc).__name__}); {REBUILD_HINT}") from exc
    counts = manifest.get("counts", {})
    dim = manifest.get("embedder", {}).get("dim")
    if (counts.get("articles"), counts.get("chunks"), counts.get("regulations")) != (
        len(articles), len(chunks), len(regulations)
    ) or store.count != len(chunks) or store.dim != dim:
        raise IndexFault(f"the index files disagree with its manifest (counts or dimension); {REBUILD_HINT}")
    return LoadedIndex(folder, manifest, regulations, articles, chunks, store, lexical)


def load_embeddings(folder: Path) -> tuple[list[Chunk], np.ndarray] | None:
    """A previous build's chunks and vectors, for reuse by content; None if unreadable. Without an
    embeddings.npy (a build published in Milvus) the vectors are read back from its store."""
    try:
        chunks = [Chunk.from_json(c) for c in _read_jsonl(folder / "chunks.jsonl")]
        if (folder / "embeddings.npy").is_file():
            vectors = np.load(folder / "embeddings.npy", allow_pickle=False)
        else:
            store = load_build(folder, verify=False).store
            vectors = store.vectors(range(store.count))
    except Exception:  # reuse is an optimisation; any doubt means embed again
        return None
    if vectors.ndim != 2 or len(vectors) != len(chunks):
        return None
    return chunks, vectors


def load_texts(root: Path, verify: bool = True) -> tuple[tuple[Regulation, ...], tuple[Article, ...]]:
    """Only the regulations and articles of the serving build: what needs the texts but not the search
    (the citation checker). Reads two JSONL files and checks just those against the manifest."""
    folder = current_build(root)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexFault(f"the index manifest is missing or unreadable; {REBUILD_HINT}") from exc
    names = ("regulations.jsonl", "articles.jsonl")
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if (not isinstance(files, dict) or manifest.get("format_version") != FORMAT_VERSION
            or not all(isinstance(files.get(n), str) for n in names)):
        raise IndexFault(f"the index manifest is incomplete or written in another format version; {REBUILD_HINT}")
    try:
        if verify and any(sha256_file(folder / n) != files[n] for n in names):
            raise IndexFault(f"the index's article files are damaged (checksum mismatch); {REBUILD_HINT}")
        regulations = tuple(Regulation.from_json(r) for r in _read_jsonl(folder / "regulations.jsonl"))
        articles = tuple(Article.from_json(a) for a in _read_jsonl(folder / "articles.jsonl"))
    except IndexFault:
        raise
    except Exception as exc:  # unreadable or malformed rows: refuse, never guess
        raise IndexFault(f"the index's article files cannot be read ({type(exc).__name__}); {REBUILD_HINT}") from exc
    counts = manifest.get("counts")
    counts = counts if isinstance(counts, dict) else {}
    if (counts.get("regulations"), counts.get("articles")) != (len(regulations), len(articles)):
        raise IndexFault(f"the index files disagree with its manifest (counts); {REBUILD_HINT}")
    return regulations, articles
