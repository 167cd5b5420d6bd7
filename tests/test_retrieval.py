"""The real bundled model on the real index: the right article comes first, with its citation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ingest.errors import QueryError
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("question, citation", [
    ("个体工商户的债务如何承担？", "《中华人民共和国民法典》第五十六条"),
    ("商标侵权怎么赔偿？", "《商标法》第六十三条"),
    # traditional Chinese
    ("個體工商戶的債務如何承擔？", "《中华人民共和国民法典》第五十六条"),
    ("侵犯商標專用權的賠償數額怎麼確定？", "《商标法》第六十三条"),
    # English (cross-lingual through the multilingual model)
    ("Who is liable for the debts of an individual industrial and commercial household?",
     "《中华人民共和国民法典》第五十六条"),
    # article references, with full title, short name, Arabic numerals and English
    ("民法典第五十六条", "《中华人民共和国民法典》第五十六条"),
    ("中华人民共和国民法典 第56条 讲的是什么", "《中华人民共和国民法典》第五十六条"),
    ("商标法第六十三条", "《商标法》第六十三条"),
    ("Article 63 of 商标法", "《商标法》第六十三条"),
])
def test_right_article_first(retriever, question, citation):
    response = retriever.search(question, k=5)
    assert response.results[0].citation == citation
    assert not response.abstained


def test_reference_to_an_article_with_a_sub_number(retriever):
    labels = [(a.regulation_title, a.label) for a in retriever.index.articles if a.label.endswith("之一")]
    title, label = labels[0]
    top = retriever.search(f"{title}{label}", k=3).results[0]
    assert (top.article.regulation_title, top.article.label) == (title, label)
    assert "reference" in top.found_by


def test_results_are_whole_articles_with_a_matched_sentence(retriever):
    response = retriever.search("个体工商户的债务如何承担？", k=5)
    ids = [r.article.id for r in response.results]
    assert len(ids) == len(set(ids)) == 5  # one result per article
    top = response.results[0]
    assert top.article.text.startswith("个体工商户的债务")
    assert "个体工商户的债务" in top.matched_sentence
    assert set(top.found_by) <= {"dense", "lexical", "reference"}


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_the_article(retriever, mode):
    response = retriever.search("个体工商户的债务如何承担？", k=5, mode=mode)
    assert "《中华人民共和国民法典》第五十六条" in [r.citation for r in response.results]
    assert all(mode.replace("hybrid", "dense") in r.found_by or mode == "hybrid" for r in response.results)


def test_regulation_filter_limits_results(retriever):
    response = retriever.search("赔偿", k=5, regulations=["商标法"])
    assert {r.article.regulation_title for r in response.results} == {"商标法"}


def test_out_of_scope_question_abstains_but_lists_nearest(retriever):
    response = retriever.search("怎么做红烧肉好吃？", k=3)
    assert response.abstained
    assert len(response.results) == 3


@pytest.mark.parametrize("bad", ["", "   ", "\u3000", "？！。", "x" * 5000])
def test_bad_questions_get_a_clear_message(retriever, bad):
    with pytest.raises(QueryError):
        retriever.search(bad)


def _cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "retrieval", "search", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=180)


def test_cli_json_contract(real_index):
    proc = _cli("--index", str(real_index), "-k", "3", "--json", "企业职工带薪年休假天数怎么算")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"query", "abstained", "results"} and out["query"] == "企业职工带薪年休假天数怎么算"
    assert len(out["results"]) == 3
    for r in out["results"]:
        assert {"title", "article", "number", "chapter", "text", "score", "citation"} <= set(r)
        assert r["citation"].startswith(f"《{r['title']}》{r['article']}")
        assert isinstance(r["number"], int) and isinstance(r["score"], float)


def test_cli_batch_keeps_order_and_reports_bad_lines(real_index, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join([
        json.dumps({"question": "民法典第五十六条"}, ensure_ascii=False),
        "not json",
        json.dumps({"question": "商标法第六十三条"}, ensure_ascii=False),
    ]), encoding="utf-8")
    proc = _cli("--index", str(real_index), "-k", "2", "--batch", str(batch))
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["results"][0]["citation"] == "《中华人民共和国民法典》第五十六条"
    assert "error" in lines[1] and "Traceback" not in proc.stderr
    assert lines[2]["results"][0]["citation"] == "《商标法》第六十三条"


def test_cli_errors_are_one_line_not_a_traceback(tmp_path):
    proc = _cli("--index", str(tmp_path / "missing"), "anything")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "python -m ingest build" in proc.stderr
