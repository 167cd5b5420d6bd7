"""The shipped question sets over the two regulations, checked against the real parser on the real files.

Fast (no model, no index): every label must name an article the parser finds, every article must be gold
often enough to be measured, the types must be there in the numbers the evaluation relies on, and the
dev/test split must be the one `split_of` gives (so nobody moves a question by hand).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from eval.questions import Catalogue, Gold, Question, read_questions, split_of
from ingest.schema import Article
from ingest.sources import discover, load_source
from tests.conftest import REGULATIONS, ROOT

QUESTIONS = ROOT / "data" / "questions"
ABSTAIN_TYPES = {"unanswerable", "junk"}
# Floors the issue asks for (english, traditional, typo, unanswerable, junk, followup, fresh); the other
# floors keep every type large enough to report on its own.
MINIMUMS = {
    "everyday": 30, "keyword": 20, "legal": 20, "reference": 20, "both": 10, "compare": 10,
    "english": 25, "traditional": 15, "typo": 10, "english_words": 5, "dates": 5,
    "unanswerable": 50, "junk": 20,
}
CONVERSATION_MINIMUMS = {"followup": 45, "fresh": 15, "english_followup": 6, "topic_change": 5, "followup_new": 1}
# hard.jsonl (issue 21): English written afresh, questions the articles touch but do not answer, false claims.
HARD_MINIMUMS = {"english_new": 15, "touched": 10, "false_claim": 8}
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def articles() -> list[Article]:
    return [a for path in discover([REGULATIONS]) for doc in load_source(path) for a in doc.articles]


@pytest.fixture(scope="module")
def catalogue(articles: list[Article]) -> Catalogue:
    regs = [doc.regulation for path in discover([REGULATIONS]) for doc in load_source(path)]
    return Catalogue(regs, articles)


@pytest.fixture(scope="module")
def dev(catalogue: Catalogue) -> list[Question]:
    return read_questions(QUESTIONS / "dev.jsonl", catalogue)


@pytest.fixture(scope="module")
def test_set(catalogue: Catalogue) -> list[Question]:
    return read_questions(QUESTIONS / "test.jsonl", catalogue)


@pytest.fixture(scope="module")
def hard(catalogue: Catalogue) -> list[Question]:
    return read_questions(QUESTIONS / "hard.jsonl", catalogue)


@pytest.fixture(scope="module")
def conversations(catalogue: Catalogue) -> tuple[list[Question], list[dict]]:
    path = QUESTIONS / "conversations.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return read_questions(path, catalogue), rows


def test_the_corpus_is_the_two_regulations(articles: list[Article]) -> None:
    per_title = Counter(a.regulation_title for a in articles)
    assert per_title == {"湖北省质量促进条例": 49, "杭州市质量促进办法": 27}


def test_labels_are_spelled_as_the_parser_prints_them(dev, test_set, conversations) -> None:
    # read_questions with a catalogue already rejects unknown articles; the files must also use the
    # canonical spelling, not a short name or an Arabic label that happens to resolve.
    for path in ("dev.jsonl", "test.jsonl", "conversations.jsonl", "hard.jsonl"):
        for line in (QUESTIONS / path).read_text(encoding="utf-8").splitlines():
            for item in json.loads(line)["relevant"]:
                assert item["title"] in {"湖北省质量促进条例", "杭州市质量促进办法"}, (path, item)
                assert re.fullmatch(r"第[一二三四五六七八九十]+条", item["article"]), (path, item)


def test_every_article_is_gold_for_at_least_two_questions(articles, dev, test_set) -> None:
    gold = Counter(g for q in dev + test_set for g in q.relevant)
    thin = [f"{a.regulation_title}{a.label}: {gold[Gold(a.regulation_title, a.label)]}"
            for a in articles if gold[Gold(a.regulation_title, a.label)] < 2]
    assert not thin, thin


def test_counts_per_type_meet_the_minimums(dev, test_set) -> None:
    questions = dev + test_set
    assert len(questions) >= 230
    counts = Counter(q.type for q in questions)
    short = {t: counts[t] for t, need in MINIMUMS.items() if counts[t] < need}
    assert not short, short
    assert set(counts) == set(MINIMUMS), set(counts) ^ set(MINIMUMS)


def test_abstain_types_have_no_gold_and_the_others_do(dev, test_set) -> None:
    for q in dev + test_set:
        assert q.answerable == (q.type not in ABSTAIN_TYPES), (q.id, q.type, q.relevant)


def test_english_words_questions_reach_every_article_with_latin_letters(articles, dev, test_set) -> None:
    with_latin = {Gold(a.regulation_title, a.label) for a in articles if LATIN.search(a.text)}
    assert with_latin  # the received Hubei text has `Service 质量`, `market 发展`, `provide 法律法规`
    asked = [q for q in dev + test_set if q.type == "english_words"]
    for q in asked:
        assert not LATIN.search(q.question), q.id  # plain Chinese, so only the meaning can match
        assert with_latin & set(q.relevant), q.id
    assert with_latin <= {g for q in asked for g in q.relevant}


def test_dev_and_test_are_the_split_of_their_union(dev, test_set) -> None:
    split = split_of(dev + test_set)
    assert {q.id for q in dev} == {i for i, s in split.items() if s == "dev"}
    assert {q.id for q in test_set} == {i for i, s in split.items() if s == "test"}


def test_no_duplicate_ids_or_question_texts(dev, test_set, conversations, hard) -> None:
    convs, _ = conversations
    ids = Counter(q.id for q in dev + test_set + convs + hard)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(q.question.strip() for q in dev + test_set + hard)
    assert [t for t, n in texts.items() if n > 1] == []
    turns = Counter((tuple(r["history"]), r["question"]) for r in conversations[1])
    assert [t for t, n in turns.items() if n > 1] == []


def test_conversations_are_two_or_three_turns_of_the_expected_types(conversations) -> None:
    convs, rows = conversations
    counts = Counter(q.type for q in convs)
    assert counts == {t: counts[t] for t in CONVERSATION_MINIMUMS}, counts
    assert all(counts[t] >= need for t, need in CONVERSATION_MINIMUMS.items()), counts
    for row in rows:
        history = row["history"]
        assert isinstance(history, list) and 1 <= len(history) <= 2, row["id"]
        assert all(isinstance(h, str) and h.strip() for h in history), row["id"]
    assert any(len(r["history"]) == 2 for r in rows if r["type"] == "followup")
    # A topic change: two complete questions, then a follow-up that must lean on the second.
    assert all(len(r["history"]) == 2 for r in rows if r["type"] == "topic_change")
    english = [r for r in rows if r["type"] == "english_followup"]
    assert all(LATIN.search(r["question"]) and not re.search(r"[\u4e00-\u9fff]", r["question"]) for r in english)


def test_the_hard_set_has_its_kinds_all_answerable_and_splits_within_the_file(hard) -> None:
    counts = Counter(q.type for q in hard)
    assert set(counts) == set(HARD_MINIMUMS), counts
    assert all(counts[t] >= need for t, need in HARD_MINIMUMS.items()), counts
    assert len(hard) >= 40
    # Every question has the articles that touch it (or that the claim is about) as gold: they stay visible.
    assert all(q.answerable for q in hard)
    assert all(q.expects_related == (q.type in {"touched", "false_claim"}) for q in hard)
    english = [q for q in hard if q.type == "english_new"]
    assert all(not re.search(r"[\u4e00-\u9fff]", q.question) for q in english)
    split = split_of(hard)
    per_part = Counter((q.type, split[q.id]) for q in hard)
    assert per_part[("english_new", "test")] >= 5 and per_part[("touched", "test")] >= 3, per_part


def test_the_library_abstain_sets_are_distinct_unanswerable_questions() -> None:
    """library-dev.jsonl calibrates the library's abstain rule, library-test.jsonl measures it: off-topic and junk
    questions only (the two regulations' own "unanswerable" ones are not: the library answers many of them), none
    asked twice, none shared between the two files."""
    seen: dict[str, str] = {}
    for name in ("library-dev.jsonl", "library-test.jsonl"):
        questions = read_questions(QUESTIONS / name)
        assert len(questions) >= 40, name
        assert {q.type for q in questions} == {"unanswerable", "junk"}, name
        for q in questions:
            assert not q.relevant, (name, q.id)
            assert q.question not in seen, (name, q.question, seen.get(q.question))
            seen[q.question] = name
