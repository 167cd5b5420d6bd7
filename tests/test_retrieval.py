"""The real bundled model on the real index: the right article comes first, with its citation."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ingest.errors import QueryError
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


HUBEI, HANGZHOU = "湖北省质量促进条例", "杭州市质量促进办法"
HUBEI_23 = "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"
HANGZHOU_12 = "《杭州市质量促进办法》第十二条"


@pytest.mark.parametrize("question, citation", [
    ("企业要不要配专门管质量的人？", HUBEI_23),
    ("杭州对首席质量官有什么规定", HANGZHOU_12),
    # traditional Chinese
    ("企業要不要配專門管質量的人？", HUBEI_23),
    # English (cross-lingual through the multilingual model), and the regulations' English names
    ("When does the Hangzhou measure take effect?", "《杭州市质量促进办法》第二十七条"),
    ("When did the Hubei regulation come into force?", "《湖北省质量促进条例》第四十九条（第七章 附则）"),
    # article references: short name, full title, Arabic numerals, English
    ("湖北条例第二十三条", HUBEI_23),
    ("《湖北省质量促进条例》第二十三条讲的是什么", HUBEI_23),
    ("杭州办法第12条", HANGZHOU_12),
    ("Article 12 of the Hangzhou measures", HANGZHOU_12),
    ("Art. 23 Hubei regulation", HUBEI_23),
])
def test_right_article_first(retriever, question, citation):
    response = retriever.search(question, k=5)
    assert response.results[0].citation == citation
    assert not response.abstained


def test_bare_article_number_gives_that_article_of_each_regulation(retriever):
    top = retriever.search("第十二条", k=5).results[:2]
    assert {r.citation.split("（")[0] for r in top} == {"《湖北省质量促进条例》第十二条", HANGZHOU_12}
    assert all("reference" in r.found_by for r in top)


def test_english_words_in_the_text_are_found_by_plain_chinese(retriever):
    # 第四十一条 reads "为企业 provide 法律法规": the question in plain Chinese must still find it.
    response = retriever.search("政府会给企业提供法律法规信息服务吗", k=3)
    assert response.results[0].citation.startswith("《湖北省质量促进条例》第四十一条")
    assert "provide 法律法规" in response.results[0].article.text


def test_results_are_whole_articles_with_a_matched_sentence(retriever):
    response = retriever.search("企业要不要配专门管质量的人？", k=5)
    ids = [r.article.id for r in response.results]
    assert len(ids) == len(set(ids)) == 5  # one result per article
    top = response.results[0]
    assert top.article.text.startswith("企业应当保障创新有效投入")
    # the matched sentence is the second 款, where 质量管理专业人员 stands, not the article's first sentence
    assert "质量管理专业人员" in top.matched_sentence
    assert set(top.found_by) <= {"dense", "lexical", "reference"}


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_mode_finds_the_article(retriever, mode):
    response = retriever.search("首席质量官制度", k=5, mode=mode)
    assert HANGZHOU_12 in [r.citation for r in response.results]
    assert all(mode.replace("hybrid", "dense") in r.found_by or mode == "hybrid" for r in response.results)


@pytest.mark.parametrize("name", ["杭州办法", "杭州市质量促进办法", "hangzhou-quality-promotion-2021"])
def test_regulation_filter_limits_results(retriever, name):
    response = retriever.search("首席质量官", k=5, regulations=[name])
    assert {r.article.regulation_title for r in response.results} == {HANGZHOU}


def test_a_named_regulation_ranks_its_articles_first(retriever):
    for name, title in (("湖北", HUBEI), ("Hangzhou", HANGZHOU), ("杭州办法", HANGZHOU)):
        top = retriever.search(f"{name} 首席质量官", k=3).results[0]
        assert top.article.regulation_title == title, name


@pytest.mark.parametrize("question", ["怎么做红烧肉好吃？", "今天杭州天气怎么样"])
def test_out_of_scope_question_abstains_but_lists_nearest(retriever, question):
    response = retriever.search(question, k=3)
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
    proc = _cli("--index", str(real_index), "-k", "3", "--json", "质量奖励有哪些")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert set(out) >= {"query", "abstained", "results"} and out["query"] == "质量奖励有哪些"
    assert len(out["results"]) == 3
    for r in out["results"]:
        assert {"title", "article", "number", "chapter", "text", "score", "citation"} <= set(r)
        assert r["citation"].startswith(f"《{r['title']}》{r['article']}")
        assert isinstance(r["number"], int) and isinstance(r["score"], float)


def test_cli_batch_keeps_order_and_reports_bad_lines(real_index, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join([
        json.dumps({"question": "湖北条例第二十三条"}, ensure_ascii=False),
        "not json",
        json.dumps({"question": "杭州办法第十二条"}, ensure_ascii=False),
    ]), encoding="utf-8")
    proc = _cli("--index", str(real_index), "-k", "2", "--batch", str(batch))
    lines = [json.loads(x) for x in proc.stdout.splitlines()]
    assert len(lines) == 3
    assert lines[0]["results"][0]["citation"] == HUBEI_23
    assert "error" in lines[1] and "Traceback" not in proc.stderr
    assert lines[2]["results"][0]["citation"] == HANGZHOU_12


def test_cli_errors_are_one_line_not_a_traceback(tmp_path):
    proc = _cli("--index", str(tmp_path / "missing"), "anything")
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "Traceback" not in proc.stderr
    assert "python -m ingest build" in proc.stderr


def test_reference_to_an_article_with_a_sub_number(stard_index):
    # The served regulations have no 之一 articles; the STARD statutes do (刑法第二百五十三条之一 …).
    from retrieval.retriever import Retriever

    stard = Retriever(stard_index)
    labels = [(a.regulation_title, a.label) for a in stard.index.articles if a.label.endswith("之一")]
    title, label = labels[0]
    top = stard.search(f"{title}{label}", k=3).results[0]
    assert (top.article.regulation_title, top.article.label) == (title, label)
    assert "reference" in top.found_by


def test_eval_run_searches_within_the_regulations_given(retriever, tmp_path):
    """`python -m eval run --regulation` measures the search a user limited to a regulation: every answer comes
    from it, so an article of the other regulation can no longer be found."""
    from eval.runner import evaluate_file

    rows = [{"id": "cqo", "question": "首席质量官制度",
             "relevant": [{"title": "杭州市质量促进办法", "article": "第十二条"}]}]
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(rows[0], ensure_ascii=False) + "\n", encoding="utf-8")
    hangzhou = evaluate_file(None, path, retriever=retriever, regulations=["杭州办法"])["hybrid"]
    assert {r["title"] for r in hangzhou.runs[0].results} == {"杭州市质量促进办法"}
    assert hangzhou.summary["recall@1"] == 1.0
    hubei = evaluate_file(None, path, retriever=retriever, regulations=["湖北条例"])["hybrid"]
    assert hubei.runs[0].results and {r["title"] for r in hubei.runs[0].results} == {"湖北省质量促进条例"}
    assert hubei.summary["recall@10"] == 0.0
