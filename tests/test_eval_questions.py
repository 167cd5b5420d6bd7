"""The question-file reader: what it accepts, and a clear file:line error for everything else."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from eval.questions import Catalogue, Gold, Question, read_questions, split_of
from ingest.errors import QuestionFileError
from ingest.schema import Article, Regulation

CIVIL = "中华人民共和国民法典"


@pytest.fixture()
def catalogue() -> Catalogue:
    regs = [Regulation("reg-civil", CIVIL, short_names=("民法典",)), Regulation("reg-labour", "劳动合同法")]
    arts = [
        Article("reg-civil", CIVIL, None, "第五十六条", 56, 0, "个体工商户的债务……"),
        Article("reg-civil", CIVIL, None, "第一千一百六十五条", 1165, 0, "行为人因过错……"),
        Article("reg-labour", "劳动合同法", None, "第三十七条", 37, 0, "劳动者提前三十日……"),
        Article("reg-labour", "劳动合同法", None, "第十条之一", 10, 1, "……"),
    ]
    return Catalogue(regs, arts)


def write(tmp_path: Path, lines: list[str | dict], name: str = "q.jsonl") -> Path:
    path = tmp_path / name
    text = "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def q(qid: str, relevant: list[dict], qtype: str = "stard", text: str = "问题？") -> dict:
    return {"id": qid, "question": text, "relevant": relevant, "type": qtype}


def test_reads_a_valid_file_and_maps_short_names_and_arabic_labels(tmp_path, catalogue):
    path = write(tmp_path, [
        q("1", [{"title": "民法典", "article": "第56条"}]),
        "",
        q("2", [{"title": "《劳动合同法》", "article": "第三十七条"},
                {"title": "劳动合同法", "article": "第10条之1"}]),
        q("3", [], "unanswerable"),
    ])
    got = read_questions(path, catalogue)
    assert [x.id for x in got] == ["1", "2", "3"]
    assert got[0].relevant == (Gold(CIVIL, "第五十六条"),)
    assert got[1].relevant == (Gold("劳动合同法", "第三十七条"), Gold("劳动合同法", "第十条之一"))
    assert got[1].line == 3
    assert not got[2].answerable and got[2].type == "unanswerable"


def test_history_is_optional_and_kept_in_order(tmp_path, catalogue):
    path = write(tmp_path, [{**q("1", [{"title": "民法典", "article": "第56条"}]), "history": ["民法典", "第五十五条"]},
                            q("2", [])])
    first, second = read_questions(path, catalogue)
    assert first.history == ("民法典", "第五十五条") and second.history == ()


def test_type_is_optional(tmp_path):
    line = '{"id": "stard-1", "question": "x?", "relevant": [{"title": "A", "article": "第一条"}]}'
    path = write(tmp_path, [line])
    assert read_questions(path)[0].type == "unspecified"


def test_bad_json_names_file_and_line(tmp_path, catalogue):
    path = write(tmp_path, [q("1", []), '{"id": "2", "question": "x?", "relevant": [}'])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:2: not valid JSON"):
        read_questions(path, catalogue)


def test_unknown_article_names_file_line_and_article(tmp_path, catalogue):
    path = write(tmp_path, [q("1", []), q("2", []), q("x", [{"title": "劳动合同法", "article": "第十九条"}])])
    with pytest.raises(QuestionFileError) as err:
        read_questions(path, catalogue)
    msg = str(err.value)
    assert "q.jsonl:3" in msg and "第十九条" in msg and "劳动合同法" in msg


def test_unknown_title_suggests_the_closest(tmp_path, catalogue):
    path = write(tmp_path, [q("1", [{"title": "劳动合同发", "article": "第三十七条"}])])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:1: .*no regulation titled .*劳动合同法"):
        read_questions(path, catalogue)


def test_label_that_is_not_an_article_label(tmp_path, catalogue):
    path = write(tmp_path, [q("1", [{"title": "民法典", "article": "56"}])])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:1: .*not a label"):
        read_questions(path, catalogue)


@pytest.mark.parametrize(("line", "expected"), [
    ('["a list"]', "expected a JSON object"),
    ('{"question": "x?", "relevant": []}', 'missing or empty "id"'),
    ('{"id": "1", "question": "  ", "relevant": []}', 'no "question" text'),
    ('{"id": "1", "question": "x?"}', '"relevant" must be a list'),
    ('{"id": "1", "question": "x?", "relevant": [{"title": "民法典"}]}', 'needs "title" and "article"'),
    ('{"id": "1", "question": "x?", "relevant": [], "type": 3}', '"type" must be a non-empty string'),
    ('{"id": "1", "question": "x?", "relevant": [{"title": "民法典", "article": "第56条"}], '
     '"type": "unanswerable"}', "typed unanswerable"),
    ('{"id": "1", "question": "x?", "relevant": [], "history": "民法典第56条"}', '"history" must be a list'),
    ('{"id": "1", "question": "x?", "relevant": [], "history": ["民法典", ""]}', '"history" must be a list'),
])
def test_malformed_lines(tmp_path, catalogue, line, expected):
    path = write(tmp_path, [line])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:1: ") as err:
        read_questions(path, catalogue)
    assert expected in str(err.value)


def test_duplicate_id(tmp_path, catalogue):
    path = write(tmp_path, [q("1", []), q("1", [])])
    with pytest.raises(QuestionFileError, match=r"q\.jsonl:2: duplicate id '1' \(first on line 1\)"):
        read_questions(path, catalogue)


def test_missing_empty_and_undecodable_files(tmp_path, catalogue):
    with pytest.raises(QuestionFileError, match="no such question file"):
        read_questions(tmp_path / "nope.jsonl", catalogue)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    with pytest.raises(QuestionFileError, match="no questions"):
        read_questions(empty, catalogue)
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(QuestionFileError, match="cannot read"):
        read_questions(binary, catalogue)


def test_split_is_two_to_one_per_type_and_deterministic():
    qs = [Question(f"s{i}", "?", (), "stard") for i in range(30)]
    qs += [Question(f"u{i}", "?", (), "unanswerable") for i in range(9)]
    split = split_of(qs)
    assert split == split_of(list(reversed(qs)))
    by_type = Counter((q.type, split[q.id]) for q in qs)
    assert by_type[("stard", "dev")] == 20 and by_type[("stard", "test")] == 10
    assert by_type[("unanswerable", "dev")] == 6 and by_type[("unanswerable", "test")] == 3


@pytest.mark.parametrize("name", ["dev.jsonl", "test.jsonl"])
def test_shipped_stard_question_sets_parse(name):
    path = Path(__file__).resolve().parent.parent / "data" / "benchmarks" / "stard" / name
    qs = read_questions(path)
    types = Counter(x.type for x in qs)
    assert types["stard"] > 0 and types["unanswerable"] > 0
    assert all(x.answerable == (x.type != "unanswerable") for x in qs)
