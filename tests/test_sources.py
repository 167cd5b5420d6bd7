"""Reading sources: every encoding and format gives the same articles; bad files give clear errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from ingest.errors import SourceError
from ingest.sources import discover, load_source
from tests.conftest import FIXTURES, STARD_CORPUS

SAMPLE = (FIXTURES / "sample_regulation.txt").read_text(encoding="utf-8")


def _articles(path: Path) -> list[tuple[str, str, str | None]]:
    [doc] = load_source(path)
    return [(a.label, a.text, a.chapter) for a in doc.articles]


@pytest.fixture(scope="module")
def expected() -> list[tuple[str, str, str | None]]:
    return _articles(FIXTURES / "sample_regulation.txt")


@pytest.mark.parametrize("encoding, crlf", [
    ("utf-8", False), ("utf-8-sig", False), ("utf-8", True), ("gb18030", False), ("gbk", True),
    ("utf-16", False), ("utf-16-le", False), ("utf-16-be", True),
])
def test_each_text_encoding_gives_the_same_articles(tmp_path, expected, encoding, crlf):
    text = SAMPLE.replace("\n", "\r\n") if crlf else SAMPLE
    raw = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):  # with a BOM, as Windows editors write it
        raw = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "reg.txt"
    path.write_bytes(raw)
    assert _articles(path) == expected


def test_docx_gives_the_same_articles(tmp_path, expected):
    import docx

    document = docx.Document()
    for line in SAMPLE.split("\n"):
        document.add_paragraph(line)
    path = tmp_path / "reg.docx"
    document.save(str(path))
    assert _articles(path) == expected


def test_text_layer_pdf_gives_the_same_articles(expected):
    assert _articles(FIXTURES / "sample_regulation.pdf") == expected


def test_metadata_file_supplies_short_names_region_and_issuer():
    [doc] = load_source(FIXTURES / "sample_regulation.txt")
    reg = doc.regulation
    assert reg.title == "示例省质量促进条例"
    assert reg.short_names == ("示例条例", "示例省条例")
    assert reg.region == "示例省" and reg.issuer == "示例省人民代表大会常务委员会"
    assert reg.effective == "2024-03-01"  # from the text, since the metadata does not state it
    assert reg.source == "sample_regulation.txt"  # a file name, never an absolute path
    assert doc.articles[0].citation == "《示例省质量促进条例》第一条（第一章 总则）"


def test_article_jsonl_of_the_stard_benchmark_corpus():
    docs = load_source(STARD_CORPUS)
    assert len(docs) == 133
    assert sum(len(d.articles) for d in docs) == 1445
    civil = next(d for d in docs if d.regulation.title == "中华人民共和国民法典")
    assert civil.regulation.short_names == ("民法典",)
    art = next(a for a in civil.articles if a.label == "第五十六条")
    assert art.text.startswith("个体工商户的债务，个人经营的，以个人财产承担")
    assert art.citation == "《中华人民共和国民法典》第五十六条"
    assert any(a.label.endswith("之一") for d in docs for a in d.articles)


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("name, data, message", [
    ("binary.txt", bytes(range(256)) * 40, "binary"),
    ("empty.txt", b"", "empty"),
    ("blank.txt", b"  \n\n \r\n", "empty"),
    ("notes.txt", "这是一份会议纪要，没有任何条文。\n第二段。".encode(), "no articles"),
    ("dup.txt", "某某条例\n第一条　甲。\n第一条　乙。".encode(), "duplicate article number 第一条"),
    ("latin1.txt", "Qualit\xe4t \xfcber alles \xa7 1".encode("latin-1") + b"\x81\x00\xfe", "binary"),
    ("broken.docx", b"PK\x03\x04 not really a zip", "not a readable .docx"),
    ("broken.pdf", b"%PDF-1.4 garbage", "not a readable .pdf"),
])
def test_bad_files_get_a_clear_error_naming_the_file(tmp_path, name, data, message):
    path = _write(tmp_path, name, data)
    with pytest.raises(SourceError) as err:
        load_source(path)
    assert name in str(err.value)
    assert message in str(err.value)


@pytest.mark.parametrize("lines, message", [
    (['{"title": "某法", "article": "第一条", "text": "甲。"}', "{not json"], "line 2: not valid JSON"),
    (['{"title": "某法", "article": "第一条", "text": "甲。"}',
      '{"title": "某法", "article": "第一条", "text": "乙。"}'], "line 2: duplicate article 某法 第一条"),
    (['{"title": "某法", "article": "Article 1", "text": "甲。"}'], "line 1: article label"),
    (['["title", "article"]'], "line 1: expected an object"),
])
def test_bad_article_jsonl_names_file_and_line(tmp_path, lines, message):
    path = _write(tmp_path, "bad.jsonl", "\n".join(lines).encode())
    with pytest.raises(SourceError, match=message) as err:
        load_source(path)
    assert "bad.jsonl" in str(err.value)


def test_discover_takes_folders_and_skips_metadata_and_readme(tmp_path):
    shutil.copy(FIXTURES / "sample_regulation.txt", tmp_path)
    shutil.copy(FIXTURES / "sample_regulation.meta.json", tmp_path)
    (tmp_path / "README.md").write_text("# notes", encoding="utf-8")
    (tmp_path / "extra.jsonl").write_text(json.dumps({"title": "某法", "article": "第一条", "text": "甲。"},
                                                     ensure_ascii=False), encoding="utf-8")
    assert [p.name for p in discover([tmp_path])] == ["extra.jsonl", "sample_regulation.txt"]
    with pytest.raises(SourceError, match="no such file"):
        discover([tmp_path / "missing"])
