"""An index's pointer and small files in Milvus itself, so app processes need no index directory of their own.

A build stored on a shared Milvus (a server, or a Lite file named with --milvus-uri) is published into the
collection `<name>_catalog` beside its chunk collection: its manifest and the files a searcher reads
(regulations, articles, chunks, the chunks' token counts; split into rows of at most 60 kB), then the row
CURRENT, which names the build and the sha256 of its manifest. Upserting that one row is the switch for every
app process at once.

An app process follows such an index from a directory holding only REMOTE (`python -m ingest attach`): on
each look at the current build it reads CURRENT from Milvus and, when it names a build or a manifest it has
not seen, downloads that build's files into `builds/<build>-<manifest sha>/` there (a cache: delete it any
time), checked against the manifest's sha256 like any build. Nothing in that directory needs to survive a
restart, so the processes stay stateless; the builder keeps its own index directory as before.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from ingest.errors import IndexFault
from ingest.stores import milvus_client

log = logging.getLogger(__name__)

REMOTE = "REMOTE"  # the file that makes an index directory follow a Milvus catalog
SERVED_FILES = ("regulations.jsonl", "articles.jsonl", "chunks.jsonl", "tokens.json")
MANIFEST = "manifest.json"
POINTER = "CURRENT"
PART_BYTES = 60_000  # a VARCHAR holds 65,535 bytes
PAGE = 1_000
ROWS_PER_WRITE = 100  # rows of up to 60 kB in one request
KEEP_CACHED = 2


def catalog_name(collection: str) -> str:
    """The catalog of the index whose build collections are `<name>__<build>`."""
    return f"{collection.rpartition('__')[0]}_catalog"


# -- the builder's side ----------------------------------------------------------------------------------------
def published(settings: Any) -> tuple[str, str] | None:
    """(URI to connect to, chunk collection) of a build whose manifest entry is `settings`, when that build is
    published (it is on a shared Milvus); None for a build in a Lite file of its own, which nobody follows."""
    from ingest.stores.milvus_store import LITE_FOLDER

    if not isinstance(settings, dict):
        return None
    uri, collection = settings.get("uri"), settings.get("collection")
    if not isinstance(uri, str) or not isinstance(collection, str) or uri.startswith(f"{LITE_FOLDER}/"):
        return None
    return uri, collection


def publish(folder: Path, settings: Any) -> None:
    """Write the files of a build folder whose store is the Milvus build `settings` into its catalog."""
    where = published(settings)
    if where is not None:
        publish_files(*where, folder)


def switch_to(folder: Path, settings: Any) -> None:
    """Make a published build (or its rewritten manifest) current for every follower."""
    where = published(settings)
    if where is not None:
        publish_current(*where, folder)


def publish_files(uri: str, collection: str, folder: Path) -> None:
    """Write a build's manifest and served files into the catalog (not yet current)."""
    catalog = catalog_name(collection)
    client = milvus_client.acquire(uri)
    try:
        _ensure(client, catalog)
        build = folder.name
        for name in (MANIFEST, *SERVED_FILES):
            parts = _split((folder / name).read_bytes())
            for start in range(0, len(parts), ROWS_PER_WRITE):  # upserts: publishing again (a calibrated
                client.upsert(catalog, [  # manifest) never leaves a moment without the file
                    {"key": f"{build}/{name}#{i:06d}", "build": build, "file": name, "part": i, "content": parts[i],
                     "dummy": [0.0, 0.0]} for i in range(start, min(len(parts), start + ROWS_PER_WRITE))])
            client.delete(catalog, filter=f"build == {json.dumps(build)} and file == {json.dumps(name)} "
                                          f"and part >= {len(parts)}")
        client.flush(catalog)
    except IndexFault:
        raise
    except Exception as exc:
        raise IndexFault(f"cannot publish the build into the Milvus catalog {catalog}: "
                         f"{milvus_client.reason(exc)}") from exc
    finally:
        milvus_client.release(uri)


def publish_current(uri: str, collection: str, folder: Path) -> None:
    """Point every follower at this build (the files must be published): one row, upserted."""
    catalog = catalog_name(collection)
    pointer = {"build": folder.name, "manifest_sha256": _sha256((folder / MANIFEST).read_bytes())}
    client = milvus_client.acquire(uri)
    try:
        _ensure(client, catalog)
        client.upsert(catalog, [{"key": POINTER, "build": "", "file": POINTER, "part": 0,
                                 "content": json.dumps(pointer), "dummy": [0.0, 0.0]}])
        client.flush(catalog)
    except Exception as exc:
        raise IndexFault(f"cannot switch the Milvus catalog {catalog}: {milvus_client.reason(exc)}") from exc
    finally:
        milvus_client.release(uri)


def prune_catalog(uri: str, collection: str, keep: set[str]) -> None:
    catalog = catalog_name(collection)
    client = milvus_client.acquire(uri)
    try:
        if client.has_collection(catalog):
            client.delete(catalog, filter=f"build != \"\" and build not in {json.dumps(sorted(keep))}")
    except Exception as exc:  # best effort: the next build tries again
        log.warning("could not clean up the Milvus catalog %s: %s", catalog, milvus_client.reason(exc))
    finally:
        milvus_client.release(uri)


# -- the follower's side ---------------------------------------------------------------------------------------
def attach(root: Path, uri: str, name: str) -> Path:
    """Make `root` follow the index published as `name` on `uri`; returns the build it serves now."""
    root.mkdir(parents=True, exist_ok=True)
    if not milvus_client.is_server(uri):
        uri = str(Path(uri).expanduser().resolve())
    if (root / "CURRENT").exists():
        raise IndexFault(f"{root} holds a built index; attach a new or empty directory")
    remote = {"store": "milvus", "uri": uri, "catalog": f"{name}_catalog"}
    tmp = root / f".{REMOTE}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(json.dumps(remote) + "\n", encoding="utf-8")
    os.replace(tmp, root / REMOTE)
    try:
        return follow(root)
    except IndexFault:
        (root / REMOTE).unlink(missing_ok=True)
        raise


def is_follower(root: Path) -> bool:
    return (root / REMOTE).is_file()


def follow(root: Path) -> Path:
    """The folder of the build the catalog names as current, downloaded into `root` if it is not there yet."""
    try:
        remote = json.loads((root / REMOTE).read_text(encoding="utf-8"))
        uri, catalog = str(remote["uri"]), str(remote["catalog"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IndexFault(f"{root}/{REMOTE} is unreadable; attach again with `python -m ingest attach`") from exc
    client = milvus_client.acquire(uri)
    try:
        if not client.has_collection(catalog):
            raise IndexFault(f"no index is published as {catalog} at {uri}; build one there with "
                             "`python -m ingest build --store milvus --milvus-uri ...`")
        rows = client.get(catalog, ids=[POINTER], output_fields=["content"])
        if not rows:
            raise IndexFault(f"no build of {catalog} at {uri} is current yet")
        pointer = json.loads(rows[0]["content"])
        build, sha = str(pointer["build"]), str(pointer["manifest_sha256"])
        folder = root / "builds" / f"{build}-{sha[:12]}"
        if (folder / MANIFEST).is_file():
            return folder
        _download(client, catalog, build, sha, folder)
    except IndexFault:
        raise
    except Exception as exc:
        raise IndexFault(f"cannot read the Milvus catalog {catalog} at {uri}: {milvus_client.reason(exc)}") from exc
    finally:
        milvus_client.release(uri)
    _prune_cache(root, folder)
    return folder


def _download(client: Any, catalog: str, build: str, sha: str, folder: Path) -> None:
    parts: dict[str, dict[int, str]] = {}
    offset = 0
    while True:  # Strong: the rows were written before the pointer, and this may be another replica
        rows = client.query(catalog, filter=f"build == {json.dumps(build)}", output_fields=["file", "part", "content"],
                            limit=PAGE, offset=offset, consistency_level="Strong")
        for r in rows:
            parts.setdefault(r["file"], {})[int(r["part"])] = r["content"]
        if len(rows) < PAGE:
            break
        offset += PAGE
    files = {}
    for name in (MANIFEST, *SERVED_FILES):
        got = parts.get(name, {})
        if sorted(got) != list(range(len(got))) or not got:
            raise IndexFault(f"the published build {build} in {catalog} is incomplete ({name}); rebuild it")
        files[name] = "".join(got[i] for i in range(len(got))).encode("utf-8")
    if _sha256(files[MANIFEST]) != sha:
        raise IndexFault(f"the published manifest of {build} in {catalog} does not match its pointer; rebuild it")
    tmp = folder.parent / f".{folder.name}.{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    try:
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        os.replace(tmp, folder)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (folder / MANIFEST).is_file():  # another process of this directory got there first: fine
            raise
    log.info("downloaded build %s from the Milvus catalog %s", build, catalog)


def _prune_cache(root: Path, current: Path) -> None:
    """Keep the newest downloaded builds (a process may still be loading one) and the current one."""
    cached = sorted((d for d in (root / "builds").iterdir() if d.is_dir() and not d.name.startswith(".")),
                    key=lambda d: d.stat().st_mtime)
    for d in cached[:-KEEP_CACHED]:
        if d != current:
            shutil.rmtree(d, ignore_errors=True)


# -- shared -----------------------------------------------------------------------------------------------------
def _ensure(client: Any, catalog: str) -> None:
    if client.has_collection(catalog):
        return
    pm = milvus_client.pymilvus()
    schema = pm.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", pm.DataType.VARCHAR, is_primary=True, max_length=512)
    schema.add_field("build", pm.DataType.VARCHAR, max_length=256)
    schema.add_field("file", pm.DataType.VARCHAR, max_length=256)
    schema.add_field("part", pm.DataType.INT64)
    schema.add_field("content", pm.DataType.VARCHAR, max_length=65_535)
    schema.add_field("dummy", pm.DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field in every collection
    index = client.prepare_index_params()
    index.add_index("dummy", index_type="FLAT", metric_type="L2")
    client.create_collection(catalog, schema=schema, index_params=index)
    client.load_collection(catalog)


def _split(data: bytes) -> list[str]:
    """UTF-8 text in pieces of at most PART_BYTES bytes, never inside a character."""
    parts, start = [], 0
    while start < len(data):
        end = min(len(data), start + PART_BYTES)
        while end < len(data) and data[end] & 0xC0 == 0x80:  # a continuation byte: step back to the character
            end -= 1
        parts.append(data[start:end].decode("utf-8"))
        start = end
    return parts or [""]


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
