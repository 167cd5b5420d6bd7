"""Vectors embedded by a build that has not finished yet, kept by chunk content, so that a killed build continues
from what it had embedded.

The store is a folder inside the index directory (`<index>/embedding-cache/<model digest>/`), outside the builds
(which are checked file by file). A build flushes its new vectors regularly as one pair of files:
`part-<n>.npy` (float32 rows, no pickle), then `part-<n>.keys` (one sha256 of the embedded text per row),
written under temporary names and renamed, the keys last: a part whose keys file exists is complete. Any part
that cannot be read is ignored (the texts are embedded again). A finished build's vectors are in its own
embeddings.npy, from which the next build reuses them; the cache is then cleared.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import uuid
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FOLDER = "embedding-cache"


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, root: Path, model_id: str, dim: int) -> None:
        self.folder = root / FOLDER / hashlib.sha256(model_id.encode("utf-8")).hexdigest()[:16]
        self.dim = dim
        self._pending_keys: list[str] = []
        self._pending: list[np.ndarray] = []

    def load(self) -> dict[str, np.ndarray]:
        """Every complete part's vectors by text key."""
        found: dict[str, np.ndarray] = {}
        if not self.folder.is_dir():
            return found
        for keys_file in sorted(self.folder.glob("part-*.keys")):
            try:
                keys = keys_file.read_text(encoding="ascii").split()
                vectors = np.load(keys_file.with_suffix(".npy"), allow_pickle=False)
            except (OSError, ValueError) as exc:
                log.warning("ignoring the unreadable cache part %s (%s)", keys_file.name, exc)
                continue
            if vectors.ndim != 2 or vectors.shape != (len(keys), self.dim) or vectors.dtype != np.float32:
                log.warning("ignoring the cache part %s: its shape does not match its keys", keys_file.name)
                continue
            for k, v in zip(keys, vectors, strict=True):
                found[k] = v
        if found:
            log.info("resuming: %d embedded chunks found in %s", len(found), self.folder)
        return found

    def add(self, texts: list[str], vectors: np.ndarray) -> None:
        self._pending_keys.extend(text_key(t) for t in texts)
        self._pending.append(np.asarray(vectors, dtype=np.float32))

    @property
    def pending(self) -> int:
        return len(self._pending_keys)

    def flush(self) -> None:
        """Write the vectors added since the last flush as one complete part."""
        if not self._pending_keys:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"part-{uuid.uuid4().hex}"
        vectors = np.concatenate(self._pending)
        tmp_npy = self.folder / f".{name}.npy"
        tmp_keys = self.folder / f".{name}.keys"
        with tmp_npy.open("wb") as f:
            np.save(f, vectors, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        tmp_keys.write_text("\n".join(self._pending_keys) + "\n", encoding="ascii")
        os.replace(tmp_npy, self.folder / f"{name}.npy")
        os.replace(tmp_keys, self.folder / f"{name}.keys")
        self._pending_keys, self._pending = [], []

    def clear(self) -> None:
        """After a finished build: its vectors live in the build; the parts are no longer needed."""
        shutil.rmtree(self.folder.parent, ignore_errors=True)
