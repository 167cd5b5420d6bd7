"""`python -m eval run` on the one-regulation sample index: the JSON contract, reports, bars, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.__main__ import main

TITLE = "示例省质量促进条例"
KEYS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "abstain_accuracy", "latency_p50_ms",
        "latency_p95_ms", "questions"}


@pytest.fixture()
def questions(tmp_path: Path) -> Path:
    rows = [
        {"id": "a1", "question": "企业要不要配备专职质量管理人员？", "type": "colloquial",
         "relevant": [{"title": TITLE, "article": "第三条"}]},
        {"id": "a2", "question": "第三条之一", "type": "reference",
         "relevant": [{"title": TITLE, "article": "第三条之一"}]},
        {"id": "a3", "question": "这个条例什么时候开始施行？", "type": "stard",
         "relevant": [{"title": TITLE, "article": "第5条"}]},
        {"id": "u1", "question": "红烧肉怎么做才好吃？", "type": "unanswerable", "relevant": []},
    ]
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["run", "--no-progress", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_has_every_metric_for_every_mode(sample_index, questions, capsys):
    code, out, _ = run(capsys, "--index", str(sample_index), "--questions", str(questions), "--mode", "all",
                       "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"hybrid", "dense", "lexical"}
    for mode, metrics in data.items():
        assert KEYS <= set(metrics), mode
        assert metrics["questions"] == 4 and metrics["answerable"] == 3
        for k in ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "abstain_accuracy"):
            assert 0.0 <= metrics[k] <= 1.0
        assert metrics["latency_p95_ms"] >= metrics["latency_p50_ms"] > 0
        assert set(metrics["by_type"]) == {"colloquial", "reference", "stard", "unanswerable"}
        assert metrics["by_type"]["reference"]["recall@1"] == 1.0  # an article reference is pinned first
    assert data["hybrid"]["recall@5"] == 1.0  # a five-article regulation: everything is in the top 5


def test_single_mode_prints_only_that_mode(sample_index, questions, capsys):
    code, out, _ = run(capsys, "--index", str(sample_index), "--questions", str(questions),
                       "--mode", "lexical", "--json")
    assert code == 0 and list(json.loads(out)) == ["lexical"]


def test_report_writes_markdown_runs_and_charts(sample_index, questions, tmp_path, capsys):
    out_dir = tmp_path / "report"
    code, _, _ = run(capsys, "--index", str(sample_index), "--questions", str(questions), "--mode", "all",
                     "--report", str(out_dir))
    assert code == 0
    assert "| recall@5 |" in (out_dir / "report.md").read_text(encoding="utf-8")
    for png in ("metrics.png", "recall_at_k.png"):
        assert (out_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(x) for x in (out_dir / "run-hybrid.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["a1", "a2", "a3", "u1"]
    ref = rows[1]
    assert ref["gold_ranks"] == {f"{TITLE} 第三条之一": 1} and ref["returned"][0]["article"] == "第三条之一"
    assert rows[3]["relevant"] == [] and "abstained" in rows[3]


def test_fail_under_exits_non_zero_below_the_bar(sample_index, questions, capsys):
    args = ["--index", str(sample_index), "--questions", str(questions), "--json"]
    assert run(capsys, *args, "--fail-under", "recall@10=0.5")[0] == 0
    code, _, err = run(capsys, *args, "--fail-under", "recall@10=0.5", "--fail-under", "mrr@10=1.01")
    assert code == 1 and "mrr@10" in err


def test_fail_under_rejects_an_unknown_metric(sample_index, questions, capsys):
    code, _, err = run(capsys, "--index", str(sample_index), "--questions", str(questions), "--fail-under",
                       "recall@7=0.5")
    assert code == 2 and "unknown metric" in err


def test_question_file_errors_are_one_line_naming_file_and_line(sample_index, tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    row = {"id": "1", "question": "x?", "relevant": [{"title": TITLE, "article": "第九条"}]}
    bad.write_text(json.dumps(row, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "--index", str(sample_index), "--questions", str(bad), "--json")
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "bad.jsonl:1" in err and "第九条" in err and "Traceback" not in err


def test_missing_index_is_a_clear_error(tmp_path, questions, capsys):
    code, _, err = run(capsys, "--index", str(tmp_path / "none"), "--questions", str(questions))
    assert code == 2 and err.startswith("error: ")


def test_calibrate_prints_a_rule_and_a_weight(sample_index, questions, capsys):
    code = main(["calibrate", "--index", str(sample_index), "--questions", str(questions), "--json",
                 "--no-progress"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["questions"] == 4
    assert 0.0 <= out["best"]["dense_weight"] <= 1.0 and len(out["grid"]) == 21
    fields = {"dense_floor", "dense_sure", "min_coverage", "cross_lingual_floor", "background_floor",
              "cross_background_floor"}
    assert set(out["best"]["abstain_rule"]) == fields


def test_calibrate_save_stores_the_settings_with_the_index(sample_index, questions, tmp_path, capsys):
    import shutil

    from retrieval.retriever import Retriever

    index = tmp_path / "index"
    shutil.copytree(sample_index, index)
    assert main(["calibrate", "--index", str(index), "--questions", str(questions), "--json", "--no-progress",
                 "--save"]) == 0
    best = json.loads(capsys.readouterr().out)["best"]
    settings = Retriever(index).settings  # a fresh load finds what was fitted
    assert settings.dense_weight == best["dense_weight"]
    assert settings.abstain_rule.dense_floor == best["abstain_rule"]["dense_floor"]
    # --if-stale: calibrated on these very questions already, so nothing is done
    assert main(["calibrate", "--index", str(index), "--questions", str(questions), "--save", "--if-stale",
                 "--no-progress"]) == 0
    assert "already calibrated" in capsys.readouterr().err


def test_abstain_grid_finds_a_separating_rule():
    import numpy as np

    from eval.calibrate import WeightRun, abstain_grid

    nan = float("nan")
    # Answerable questions score high, unanswerable low; English ones (coverage NaN) likewise, but lower.
    from retrieval.abstain import Evidence

    # Answerable questions score high, unanswerable low; English ones (coverage NaN) likewise, but lower. The
    # fourth English question is junk: its dense score is as high as a real one's, only its background
    # margin gives it away.
    top = np.array([0.91, 0.92, 0.93, 0.85, 0.84, 0.80, 0.79, 0.75, 0.81, 0.9])
    cov = np.array([0.5, 0.6, 0.4, 0.0, 0.1, nan, nan, nan, nan, 0.0])
    bg = np.array([0.05, 0.06, 0.04, 0.0, 0.01, 0.02, 0.01, -0.05, -0.08, 0.0])
    ans = np.array([True, True, True, False, False, True, True, False, False, True])
    fixed = np.array([-1, -1, -1, -1, -1, -1, -1, -1, -1, 0])  # the last one was a reference hit
    choice = abstain_grid(WeightRun(0.6, {}, ans, fixed, top, cov, bg), 0.9, 0.03)
    rule = choice["rule"]
    assert choice["feasible"] and choice["abstain_accuracy"] == 1.0 and choice["false_abstain_rate"] == 0.0
    assert all(rule.abstain(Evidence(t, c, b)) != a
               for t, c, b, a, f in zip(top, cov, bg, ans, fixed, strict=True) if f < 0)
    assert rule.cross_background_floor > -0.08  # the junk question needed the background floor


def _junk_and_index(sample_index: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A second question file (one off-topic question) and a copy of the sample index to calibrate."""
    import shutil

    junk = tmp_path / "junk.jsonl"
    junk.write_text(json.dumps({"id": "u2", "question": "明天会下雨吗？", "relevant": []}, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    index = tmp_path / "index"
    shutil.copytree(sample_index, index)
    return junk, index


def test_calibrate_takes_several_question_files_and_records_them(sample_index, questions, tmp_path, capsys):
    """A library is calibrated on its STARD questions and on off-topic and junk ones: both files count, the
    manifest names both, and an id in both is refused."""
    from ingest.stores.index_io import read_manifest

    junk, index = _junk_and_index(sample_index, tmp_path)
    assert main(["calibrate", "--index", str(index), "--questions", str(questions), "--questions", str(junk),
                 "--json", "--no-progress", "--save"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 5
    done = read_manifest(index, verify=False)["search"]["calibrated_on"]
    assert done["questions"] == "questions.jsonl + junk.jsonl" and done["count"] == 5
    assert main(["calibrate", "--index", str(index), "--questions", str(questions), "--questions", str(junk),
                 "--save", "--if-stale", "--no-progress"]) == 0
    assert "already calibrated" in capsys.readouterr().err
    code = main(["calibrate", "--index", str(index), "--questions", str(questions), "--questions", str(questions),
                 "--no-progress"])
    assert code == 2 and "'a1' is also in" in capsys.readouterr().err


def test_calibrate_takes_only_the_answerable_questions_of_an_answerable_file(sample_index, questions, tmp_path,
                                                                              capsys):
    """`--answerable dev.jsonl`: a set written for the two regulations joins a library's calibration with what it
    answers; its unanswerable questions (which a library may answer) are left out, and the manifest says so."""
    from ingest.stores.index_io import read_manifest

    junk, index = _junk_and_index(sample_index, tmp_path)
    assert main(["calibrate", "--index", str(index), "--questions", str(junk), "--answerable", str(questions),
                 "--json", "--no-progress", "--save"]) == 0
    assert json.loads(capsys.readouterr().out)["questions"] == 4  # u2 and the 3 answerable; not u1
    done = read_manifest(index, verify=False)["search"]["calibrated_on"]
    assert done["questions"] == "junk.jsonl + questions.jsonl (answerable)" and done["count"] == 4
