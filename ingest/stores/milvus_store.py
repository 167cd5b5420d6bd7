"""The Milvus store: a collection per build holds the chunk vectors and their BM25, searched by the engine.

One row per chunk: `chunk` (its position in the build, the primary key), `vector` (L2-normalised, inner
product), `regulation` (the regulation id a filter names), `article` (the article's position), `words` (what
BM25 reads) and `sparse` (Milvus's BM25 function output). The same object is the index's vector store and
its lexical index, so an app process searches without any local index file.

Where the collection lives (the manifest's "milvus" entry records `uri` and `collection`):

- by default a Milvus Lite database per build inside the index directory (`milvus/<build>.db`, recorded
  relative to the directory). Lite serves one process per database file, so a build never writes into the
  file an app process is serving from: it writes its own, and the switch of CURRENT moves readers to it;
- with `--milvus-uri http://host:19530`, a collection `<name>__<build>` on that server or cluster, where
  any number of app processes read it at once.

BM25 tokens: with the "words" analyzer (default) Milvus indexes the project's own tokens (`ingest.words`,
jieba-based) split at spaces, so its BM25 scores the same tokens with the same formula as bm25s does for the
FAISS store (Lucene's, k1 1.5, b 0.75; Milvus keeps the (k1 + 1) factor that bm25s drops, which is divided
out here). The "chinese" analyzer is Milvus's own (jieba inside the engine) over the normalised text: a
client that does not run this code can search it, at the price of other tokens (see README "Past one
machine").
"""

from __future__ import annotations

import json
import logging
import re
import weakref
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.errors import IndexFault
from ingest.stores import milvus_client
from ingest.stores.lexical_index import K1, B
from ingest.words import normalise, words

log = logging.getLogger(__name__)

LITE_FOLDER = "milvus"  # Lite databases of the builds, inside the index directory
DEFAULT_NAME_PREFIX = "regqa"
ANALYZERS: dict[str, dict[str, Any]] = {"words": {"tokenizer": "whitespace"}, "chinese": {"type": "chinese"}}
DEFAULT_ANALYZER = "words"
EXACT_SEARCH_LIMIT = 50_000  # as for FAISS: exact search up to here, an approximate index above
INSERT_BATCH = 1_000  # larger batches are ~100x slower per row in Lite
GET_BATCH = 1_000  # stored vectors fetched per request
IVF_NPROBE = 8  # as for FAISS (a server uses it; Lite ignores it)
MAX_TOPK = 16_384  # the most hits Milvus returns for one query
MAX_VARCHAR = 65_535  # bytes
METRIC = "inner_product"
_NAME_RE = re.compile(r"[^A-Za-z0-9_]")


@dataclass(frozen=True)
class MilvusTarget:
    """Where a build's collection goes: `uri` as the manifest records it, and the collection's name."""

    uri: str
    collection: str


def name_part(text: str) -> str:
    """Letters, digits and underscores only, as Milvus requires of collection names."""
    return _NAME_RE.sub("_", text).strip("_") or "index"


def target_for(root: Path, build: str, uri: str | None = None, name: str | None = None) -> MilvusTarget:
    """The collection of build `build` of the index directory `root`: by default in a Lite file of its own
    inside the directory; with a server URI (or a Lite file you name) the collection `<name>__<build>` there,
    `name` defaulting to regqa_<directory name>."""
    base = name_part(name) if name else f"{DEFAULT_NAME_PREFIX}_{name_part(root.resolve().name)}"
    collection = f"{base}__{name_part(build)}"
    if uri is None:
        return MilvusTarget(f"{LITE_FOLDER}/{build}.db", collection)
    uri = uri.strip()
    if milvus_client.is_server(uri):
        return MilvusTarget(uri.rstrip("/"), collection)
    return MilvusTarget(str(Path(uri).expanduser().resolve()), collection)


def resolve_uri(root: Path, uri: str) -> str:
    """What to connect to: a server URI as it is, a Lite file relative to the index directory."""
    if milvus_client.is_server(uri) or Path(uri).is_absolute():
        return uri
    return str(root / uri)


def bm25_text(text: str, analyzer: str) -> str:
    """What the `words` field holds for a chunk (and what a question is searched with)."""
    return " ".join(words(text)) if analyzer == "words" else normalise(text)


class MilvusStore:
    """A build's chunk collection in Milvus: vector search with a regulation filter, stored vectors, BM25."""

    kind = "milvus"

    def __init__(self, uri: str, connect_uri: str, collection: str, dim: int, count: int, analyzer: str,
                 index_type: str) -> None:
        self._uri = uri
        self._connect_uri = connect_uri
        self._collection = collection
        self._dim = dim
        self._count = count
        self._analyzer = analyzer
        self._index_type = index_type
        self._client = milvus_client.acquire(connect_uri)
        # The shared client is let go when this store is: the last user stops a Lite child.
        self._finalizer = weakref.finalize(self, milvus_client.release, connect_uri)

    # -- build, save, open -------------------------------------------------------------------------------
    @classmethod
    def build(cls, root: Path, target: MilvusTarget, vectors: np.ndarray, regulation_ids: Sequence[str],
              article_index: Sequence[int], texts: Sequence[str], analyzer: str = DEFAULT_ANALYZER,
              index_type: str = "auto") -> MilvusStore:
        """Create the collection, insert every chunk in batches, index it and load it."""
        if analyzer not in ANALYZERS:
            raise ValueError(f"unknown Milvus analyzer {analyzer!r}; use one of {', '.join(ANALYZERS)}")
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(x) == len(regulation_ids) == len(article_index) == len(texts):
            raise ValueError("one regulation id, article and text per vector")
        if len(x) == 0:
            raise IndexFault("a Milvus index needs at least one chunk")
        index_type = choose_index(len(x), index_type)
        connect = resolve_uri(root, target.uri)
        if not milvus_client.is_server(connect):
            Path(connect).parent.mkdir(parents=True, exist_ok=True)
        client = milvus_client.acquire(connect)
        try:
            _create(client, target.collection, x.shape[1], analyzer, index_type, len(x))
            for start in range(0, len(x), INSERT_BATCH):
                rows = []
                for i in range(start, min(len(x), start + INSERT_BATCH)):
                    text = bm25_text(texts[i], analyzer)
                    if len(text.encode()) > MAX_VARCHAR:
                        raise IndexFault(f"chunk {i} is too long for a Milvus text field ({MAX_VARCHAR} bytes); "
                                         "build with a smaller chunk size")
                    rows.append({"chunk": i, "vector": x[i].tolist(), "regulation": str(regulation_ids[i]),
                                 "article": int(article_index[i]), "words": text})
                client.insert(target.collection, rows)
            client.flush(target.collection)
            client.load_collection(target.collection)
            return cls.open(root, {"uri": target.uri, "collection": target.collection})  # before letting go
        except IndexFault:
            raise
        except Exception as exc:  # the engine refused: one sentence, the caller discards the build
            raise IndexFault(f"cannot write the Milvus collection {target.collection}: "
                             f"{milvus_client.reason(exc)}") from exc
        finally:
            milvus_client.release(connect)

    def save(self, folder: Path) -> None:
        """Nothing to write: the collection is the store (the manifest names it)."""

    @classmethod
    def open(cls, root: Path, settings: dict[str, Any]) -> MilvusStore:
        """Open the collection a manifest names and check it: its schema, its size, and a probe search."""
        uri, collection = settings.get("uri"), settings.get("collection")
        if not isinstance(uri, str) or not isinstance(collection, str):
            raise IndexFault("the index manifest names no Milvus collection; rebuild it with `python -m ingest build`")
        connect = resolve_uri(root, uri)
        if not milvus_client.is_server(connect) and not Path(connect).is_file():
            raise IndexFault(f"the Milvus Lite database {uri} of this index is missing; rebuild it with "
                             "`python -m ingest build --store milvus`")
        client = milvus_client.acquire(connect)
        try:
            if not client.has_collection(collection):
                raise IndexFault(f"the Milvus collection {collection} at {uri} that this index names is missing; "
                                 "rebuild it with `python -m ingest build --store milvus`")
            client.load_collection(collection)  # a server requires it after a restart; Lite accepts it
            info = client.describe_collection(collection)
            fields = {f["name"]: f for f in info["fields"]}
            if not {"chunk", "vector", "regulation", "article", "words", "sparse"} <= set(fields):
                raise IndexFault(f"the Milvus collection {collection} is not a chunk collection of this program")
            dim = int(fields["vector"]["params"]["dim"])
            analyzer = _analyzer_of(fields["words"])
            count = int(client.query(collection, filter="", output_fields=["count(*)"],
                                     consistency_level="Strong")[0]["count(*)"])
            index_type = str(client.describe_index(collection, "vector").get("index_type", "?"))
            store = cls(uri, connect, collection, dim, count, analyzer, index_type)  # (holds the client on)
        except IndexFault:
            raise
        except Exception as exc:
            raise IndexFault(f"cannot read the Milvus collection {collection} at {uri}: "
                             f"{milvus_client.reason(exc)}") from exc
        finally:
            milvus_client.release(connect)
        store.probe()
        return store

    def probe(self) -> None:
        """A search that must find what it searches for: the first chunk's own vector, and its words."""
        if self._count == 0:
            return
        try:
            row = self._client.get(self._collection, ids=[0], output_fields=["vector", "words"])
            if not row:
                raise IndexFault(f"the Milvus collection {self._collection} lacks its first chunk")
            vec = np.asarray(row[0]["vector"], dtype=np.float32)
            scores, _ = self.search(vec[None, :], 1)
            found_text = not row[0]["words"].strip() or len(self._bm25(row[0]["words"], 1, None)[0]) == 1
        except IndexFault:
            raise
        except Exception as exc:
            raise IndexFault(f"a probe search of the Milvus collection {self._collection} failed: "
                             f"{milvus_client.reason(exc)}") from exc
        if scores.shape != (1, 1) or scores[0, 0] < 0.99 * float(vec @ vec) or not found_text:
            raise IndexFault(f"a probe search of the Milvus collection {self._collection} did not find the chunk "
                             "it searched for; rebuild the index")

    def drop(self) -> None:
        """Remove the collection (a build that failed its checks)."""
        try:
            self._client.drop_collection(self._collection)
        except Exception as exc:  # best effort: the next build's clean-up drops it too
            log.warning("could not drop the Milvus collection %s: %s", self._collection, milvus_client.reason(exc))

    def close(self) -> None:
        self._finalizer()

    # -- what it holds ------------------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        return self._dim

    @property
    def count(self) -> int:
        return self._count

    @property
    def collection(self) -> str:
        return self._collection

    @property
    def settings(self) -> dict[str, Any]:
        return {"uri": self._uri, "collection": self._collection, "metric": METRIC, "index_type": self._index_type,
                "analyzer": self._analyzer, "bm25": {"k1": K1, "b": B}}

    def limit_threads(self, n: int) -> None:
        """The engine runs in its own process (or on a server): nothing to set here."""

    # -- search, stored vectors, BM25 ---------------------------------------------------------------------
    def search(self, queries: np.ndarray, k: int,
               regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(0, min(int(k), self._count, MAX_TOPK))
        scores = np.full((len(q), k), -np.finfo(np.float32).max, np.float32)
        ids = np.full((len(q), k), -1, np.int64)
        if k == 0 or len(q) == 0 or (regulations is not None and not regulations):
            return scores, ids
        params: dict[str, Any] = {"metric_type": "IP"}
        if self._index_type == "IVF_FLAT":
            params["params"] = {"nprobe": IVF_NPROBE}
        hits = self._client.search(self._collection, data=q.tolist(), anns_field="vector", limit=k,
                                   filter=_filter(regulations), search_params=params)
        for row, found in enumerate(hits):
            for col, hit in enumerate(found[:k]):
                scores[row, col] = hit["distance"]
                ids[row, col] = hit["id"]
        return scores, ids

    def vectors(self, ids: Sequence[int]) -> np.ndarray:
        rows = [int(i) for i in ids]
        if not rows:
            return np.zeros((0, self._dim), np.float32)
        wanted = sorted(set(rows))
        by_id: dict[int, Any] = {}
        for start in range(0, len(wanted), GET_BATCH):
            got = self._client.get(self._collection, ids=wanted[start : start + GET_BATCH], output_fields=["vector"])
            by_id.update((int(r["chunk"]), r["vector"]) for r in got)
        missing = [i for i in rows if i not in by_id]
        if missing:
            raise IndexError(f"chunks {missing[:5]} are not in the Milvus collection {self._collection}")
        return np.asarray([by_id[i] for i in rows], dtype=np.float32)

    def lexical_search(self, text: str, query_words: Sequence[str], n: int,
                       regulations: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        query = " ".join(query_words) if self._analyzer == "words" else normalise(text)
        if not query.strip() or n < 1 or (regulations is not None and not regulations):
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        return self._bm25(query, n, regulations)

    def _bm25(self, query: str, n: int, regulations: Collection[str] | None) -> tuple[np.ndarray, np.ndarray]:
        hits = self._client.search(self._collection, data=[query], anns_field="sparse",
                                   limit=max(1, min(n, self._count, MAX_TOPK)), filter=_filter(regulations),
                                   search_params={"metric_type": "BM25"})[0]
        # Milvus's BM25 keeps Lucene's (k1 + 1) factor, bm25s drops it: divided out, the scores are bm25s's.
        scores = np.array([h["distance"] for h in hits], np.float32) / np.float32(K1 + 1)
        ids = np.array([h["id"] for h in hits], np.int64)
        keep = scores > 0
        return scores[keep], ids[keep]


def choose_index(n_vectors: int, requested: str = "auto") -> str:
    """FLAT (exact) up to EXACT_SEARCH_LIMIT vectors, IVF_FLAT above; or the index type asked for."""
    if requested != "auto":
        return requested
    return "FLAT" if n_vectors <= EXACT_SEARCH_LIMIT else "IVF_FLAT"


def _filter(regulations: Collection[str] | None) -> str:
    if regulations is None:
        return ""
    return f"regulation in {json.dumps(sorted(regulations), ensure_ascii=False)}"


def _analyzer_of(field: dict[str, Any]) -> str:
    raw = field.get("params", {}).get("analyzer_params")
    params = json.loads(raw) if isinstance(raw, str) else raw
    for name, expected in ANALYZERS.items():
        if params == expected:
            return name
    raise IndexFault(f"the Milvus collection's text field uses an analyzer this program does not know: {params}")


def _create(client: Any, collection: str, dim: int, analyzer: str, index_type: str, n: int) -> None:
    pm = milvus_client.pymilvus()
    schema = pm.MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("chunk", pm.DataType.INT64, is_primary=True)
    schema.add_field("vector", pm.DataType.FLOAT_VECTOR, dim=dim)
    schema.add_field("regulation", pm.DataType.VARCHAR, max_length=512)
    schema.add_field("article", pm.DataType.INT64)
    schema.add_field("words", pm.DataType.VARCHAR, max_length=MAX_VARCHAR, enable_analyzer=True,
                     analyzer_params=ANALYZERS[analyzer])
    schema.add_field("sparse", pm.DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(pm.Function(name="bm25", function_type=pm.FunctionType.BM25,
                                    input_field_names=["words"], output_field_names=["sparse"]))
    index = client.prepare_index_params()
    params = {"nlist": _nlist(n)} if index_type == "IVF_FLAT" else {}
    index.add_index("vector", index_type=index_type, metric_type="IP", params=params)
    index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                    params={"bm25_k1": K1, "bm25_b": B})
    if client.has_collection(collection):  # a leftover of a killed build of the same name: never served
        client.drop_collection(collection)
    client.create_collection(collection, schema=schema, index_params=index)


def _nlist(n: int) -> int:
    return int(2 ** round(np.log2(np.sqrt(max(n, 1)))))


# -- clean-up of builds that are no longer kept ---------------------------------------------------------------
def prune(root: Path, keep: Collection[str], settings: dict[str, Any] | None) -> None:
    """Drop what builds that are not kept left in Milvus: Lite files of this directory, and (for a build on a
    server or a named Lite file, `settings` being the serving build's) the other collections of this index
    there. Old collections serve until here: this runs after the switch."""
    folder = root / LITE_FOLDER
    if folder.is_dir():
        for db in folder.glob("*.db"):
            if db.stem not in keep:  # a process still reading it keeps reading (the file lives while open)
                db.unlink(missing_ok=True)
                (folder / f".{db.name}.lock").unlink(missing_ok=True)
    if not settings or not isinstance(settings.get("uri"), str) or not isinstance(settings.get("collection"), str):
        return
    uri = resolve_uri(root, settings["uri"])
    if not milvus_client.is_server(uri) and Path(uri).parent == folder:
        return  # a per-build Lite file: done above
    base = settings["collection"].rpartition("__")[0]
    kept = {f"{base}__{name_part(b)}" for b in keep}
    client = milvus_client.acquire(uri)
    try:
        for name in client.list_collections():
            if name.startswith(f"{base}__") and name not in kept:
                log.info("dropping the Milvus collection %s of a build that is no longer kept", name)
                client.drop_collection(name)
    except Exception as exc:  # best effort: the next build tries again
        log.warning("could not clean up old Milvus collections at %s: %s", settings["uri"], milvus_client.reason(exc))
    finally:
        milvus_client.release(uri)


def present(root: Path, settings: Any) -> bool:
    """Does the collection a manifest names exist? (A Lite file of its own: does the file exist; that file may
    be open in a serving process, which is why it is not opened here.)"""
    if not isinstance(settings, dict) or not isinstance(settings.get("uri"), str) \
            or not isinstance(settings.get("collection"), str):
        return False
    uri = resolve_uri(root, settings["uri"])
    if not milvus_client.is_server(uri) and Path(uri).parent == root / LITE_FOLDER:
        return Path(uri).is_file()
    try:
        client = milvus_client.acquire(uri)
    except IndexFault:
        return False
    try:
        return bool(client.has_collection(settings["collection"]))
    except Exception:  # unreachable or refused: build again, which says why if it cannot
        return False
    finally:
        milvus_client.release(uri)


def discard(root: Path, target: MilvusTarget) -> None:
    """Remove what a build that failed before its switch wrote: its collection (and its own Lite file)."""
    uri = resolve_uri(root, target.uri)
    if not milvus_client.is_server(uri) and Path(uri).parent == root / LITE_FOLDER:
        Path(uri).unlink(missing_ok=True)
        (Path(uri).parent / f".{Path(uri).name}.lock").unlink(missing_ok=True)
        return
    try:
        client = milvus_client.acquire(uri)
    except IndexFault:
        return
    try:
        if client.has_collection(target.collection):
            client.drop_collection(target.collection)
    except Exception as exc:  # best effort: prune drops it later
        log.warning("could not drop the Milvus collection %s: %s", target.collection, milvus_client.reason(exc))
    finally:
        milvus_client.release(uri)
