"""The feedback log, its report and the Markdown export: pure parts, no model, no browser."""

from __future__ import annotations

import html
import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from eval.__main__ import main as eval_main
from eval.feedback import report, summarise
from ingest.schema import Article
from retrieval.results import Result, SearchResponse
from retrieval.serving.feedback import FeedbackLog, event, feedback_dir
from retrieval.web import cards, export

LONG = "质量" * 2000  # 12,000 bytes a line: well past PIPE_BUF, so only the lock keeps lines whole


def _result(text: str = "第一款。\n第二款。", label: str = "第三条", number: int = 3) -> Result:
    article = Article("reg", "示例条例", "第一章 总则", label, number, 0, text)
    return Result(article, 0.5, ("dense",), 0, 4)


def _write(directory: str, writer: int, n: int, max_bytes: int, keep: int) -> None:
    log = FeedbackLog(Path(directory), max_bytes=max_bytes, keep=keep)
    for i in range(n):
        log.append(event("answer", f"{writer}:{i}", "build-1", vote="up", article_id="reg#3-0", article=LONG))


def _check_whole(rows: list[dict], writers: int, n: int) -> None:
    seen = sorted(tuple(map(int, r["question"].split(":")[:2])) for r in rows)
    assert seen == [(w, i) for w in range(writers) for i in range(n)]  # none lost, none doubled
    assert all(r["article"] == LONG for r in rows)


def test_an_event_holds_the_vote_and_nothing_about_the_person(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path)
    log.append(event("answer", "企业要配质量专员吗", "b1", vote="down", article_id="reg#3-0",
                     article="《示例条例》第三条"))
    log.record("abstained", "今天天气", "b1")
    rows = list(log.read())
    assert [r["kind"] for r in rows] == ["answer", "abstained"]
    assert set(rows[0]) == {"time", "kind", "vote", "question", "article", "article_id", "build"}
    assert rows[0]["vote"] == "down" and rows[1]["vote"] is None and rows[1]["article_id"] is None
    assert rows[0]["time"].endswith("+00:00")


@pytest.mark.parametrize("kind, vote", [("answer", None), ("abstained", "up"), ("answer", "meh"), ("like", "up")])
def test_an_event_outside_the_format_is_refused(kind: str, vote: str | None) -> None:
    with pytest.raises(ValueError):
        event(kind, "问题", "b1", vote=vote)


def test_a_question_is_cut_to_1000_characters() -> None:
    assert len(event("abstained", "问" * 5000, "b1")["question"]) == 1000


def test_the_directory_comes_from_the_environment_else_the_repository(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("REGQA_FEEDBACK_DIR", raising=False)
    assert feedback_dir(base=tmp_path) == tmp_path / "data" / "feedback"
    monkeypatch.setenv("REGQA_FEEDBACK_DIR", str(tmp_path / "fb"))
    assert feedback_dir(base=tmp_path) == tmp_path / "fb"
    assert feedback_dir(tmp_path / "given") == tmp_path / "given"


def test_writers_in_several_processes_never_interleave_or_lose_lines(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write, args=(str(tmp_path), w, 40, 2**30, 5)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    lines = (tmp_path / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    _check_whole([json.loads(line) for line in lines], 4, 40)  # json.loads fails on a torn line


def test_threads_and_processes_writing_while_the_file_rolls_lose_nothing(tmp_path: Path) -> None:
    # 200 lines of ~12 kB roll about every 8 lines; 40 files keep them all, so every line must be found.
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write, args=(str(tmp_path), w, 25, 100_000, 40)) for w in range(4)]
    threads = [threading.Thread(target=_write, args=(str(tmp_path), w, 25, 100_000, 40)) for w in range(4, 8)]
    for t in (*procs, *threads):
        t.start()
    for t in threads:
        t.join(60)
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = FeedbackLog(tmp_path, max_bytes=100_000, keep=40)
    assert len(log.files()) > 10
    assert all(p.stat().st_size <= 100_000 for p in log.files())
    _check_whole(list(log.read()), 8, 25)


def test_the_log_is_bounded_and_keeps_the_newest(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path, max_bytes=2000, keep=3)
    for i in range(200):
        log.record("abstained", f"问题 {i:03d}", "b1")
    files = log.files()
    assert [p.name for p in files] == ["feedback-2.jsonl", "feedback-1.jsonl", "feedback.jsonl"]
    assert sum(p.stat().st_size for p in files) <= 3 * 2000
    questions = [r["question"] for r in log.read()]
    assert questions[-1] == "问题 199" and questions == sorted(questions)  # oldest first, newest kept
    assert len(questions) < 200


def test_a_damaged_line_is_skipped(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path)
    log.record("abstained", "一", "b1")
    with log.path.open("a", encoding="utf-8") as f:
        f.write('{"question": "torn\n')
    log.record("abstained", "二", "b1")
    assert [r["question"] for r in log.read()] == ["一", "二"]


def _events() -> list[dict]:
    e = []
    for _ in range(3):
        e.append(event("abstained", "今天天气怎么样", "b1"))
    e.append(event("no_answer", "今天天气怎么样", "b1", vote="down"))
    e.append(event("no_answer", "食品安全怎么管", "b1", vote="up"))
    e.append(event("answer", "质量专员", "b1", vote="up", article_id="reg#23-0", article="《湖北》第二十三条"))
    e.append(event("answer", "质量 专员", "b1", vote="up", article_id="reg#23-0", article="《湖北》第二十三条"))
    e.append(event("answer", "质量专员", "b1", vote="down", article_id="reg#5-0", article="《湖北》第五条"))
    return e


def test_the_summary_proposes_rows_from_votes_and_lists_the_gaps() -> None:
    s = summarise(_events())
    rows = {r["question"]: r for r in s["candidates"]}
    assert set(rows) == {"质量专员", "食品安全怎么管"}
    assert rows["质量专员"]["relevant"] == ["reg#23-0"] and rows["质量专员"]["votes"] == 2  # spacing folded
    assert rows["食品安全怎么管"]["relevant"] == [] and rows["食品安全怎么管"]["type"] == "feedback"
    assert all(r["id"].startswith("fb-") for r in rows.values())
    assert s["unanswered"][0] == {"question": "今天天气怎么样", "abstained": 3, "should_have_answer": 1,
                                  "down_votes": 0, "count": 4}
    assert s["down_voted_articles"] == [{"article_id": "reg#5-0", "article": "《湖北》第五条", "down_votes": 1}]
    text = report(s)
    assert "今天天气怎么样" in text and "《湖北》第五条" in text


def test_the_eval_command_writes_rows_for_review(tmp_path: Path, capsys) -> None:
    log = FeedbackLog(tmp_path / "fb")
    for e in _events():
        log.append(e)
    out = tmp_path / "review" / "candidates.jsonl"
    assert eval_main(["feedback", "--dir", str(tmp_path / "fb"), "--out", str(out)]) == 0
    assert "Most-asked" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {r["question"] for r in rows} == {"质量专员", "食品安全怎么管"}
    assert eval_main(["feedback", "--dir", str(tmp_path / "fb"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == 8


def test_the_eval_command_names_a_missing_log_and_refuses_to_write_into_the_question_sets(tmp_path, capsys):
    assert eval_main(["feedback", "--dir", str(tmp_path / "none")]) == 2
    assert "no feedback log" in capsys.readouterr().err
    (tmp_path / "fb").mkdir()
    assert eval_main(["feedback", "--dir", str(tmp_path / "fb"), "--out", "data/questions/fb.jsonl"]) == 2
    assert "outside data/questions" in capsys.readouterr().err
    assert not Path("data/questions/fb.jsonl").exists()


def test_the_markdown_export_has_the_question_date_build_and_verbatim_articles() -> None:
    r1, r2 = _result(), _result("只一款。", "第五条", 5)
    md = export.markdown(SearchResponse("# 企业\n要配人吗", False, (r1, r2)), "build-7", "2026-11-30 05:00 UTC")
    assert "- 问题 Question: # 企业 要配人吗" in md  # one line; cannot become a heading
    assert "- 日期 Date: 2026-11-30 05:00 UTC" in md and "- 索引版本 Index build: build-7" in md
    assert "## 1. 《示例条例》第三条（第一章 总则）\n\n> 第一款。\n> 第二款。\n" in md
    assert "## 2. 《示例条例》第五条（第一章 总则）\n\n> 只一款。\n" in md
    assert export.citations([r1, r2]) == "《示例条例》第三条（第一章 总则）\n《示例条例》第五条（第一章 总则）"
    none = export.markdown(SearchResponse("天气", True, (r1,)), "b", "d")
    assert "未找到直接相关的条文" in none and "nearest" in none


def test_the_reply_carries_its_texts_escaped_and_without_a_blank_line() -> None:
    q = "<script>alert(1)</script>\n\n问题"
    response = SearchResponse(q, False, (_result(),))
    reply = cards.answer(response, [cards.card(1, _result())], cards.reply_tools(response, "b1", "d"))
    assert "<script>" not in reply and "\n\n" not in reply and "\n" not in reply
    question = reply.split('regqa-question" hidden>', 1)[1].split("</pre>", 1)[0]
    assert html.unescape(question) == q
    md = reply.split('regqa-md" hidden>', 1)[1].split("</pre>", 1)[0]
    assert html.unescape(md) == export.markdown(response, "b1", "d")
    assert "regqa-download" in reply and "regqa-copy-all" in reply and reply.count('class="regqa-vote ') == 2
    assert '<pre class="regqa-data regqa-aid" hidden>reg#3-0</pre>' in reply
    abstained = SearchResponse("天气", True, ())
    none = cards.answer(abstained, [], cards.reply_tools(abstained, "b1", "d"))
    assert "这个问题应该有答案" in none and "确实没有" in none and "regqa-download" not in none
