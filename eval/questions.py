"""Read an evaluation question file and check every labelled article against the index.

A question file is JSONL, one object a line:
    {"id": "q1", "question": "...", "relevant": [{"title": "...", "article": "第五十六条"}], "type": "stard"}
`relevant` empty means the corpus does not answer the question (the right behaviour is to abstain).
`type` is optional (default "unspecified"). `history` is optional: the earlier questions of a conversation, oldest
first (data/questions/conversations.jsonl); the question is then searched as understood after them. Titles and
article labels are as printed in the source; a short name (民法典) or an Arabic label (第56条) is accepted and mapped
to the index's own spelling. Every problem raises QuestionFileError naming the file and line.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import QuestionFileError
from ingest.numerals import to_int
from ingest.schema import Article, Regulation
from ingest.sources import LABEL_RE

log = logging.getLogger(__name__)

DEFAULT_TYPE = "unspecified"
UNANSWERABLE = "unanswerable"
# Types whose articles touch the subject without stating what is asked (or what the question presumes): the
# right reply shows them as related ("answer": "related"), not as the answer.
RELATED_TYPES = frozenset({"touched", "false_claim"})
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Gold:
    title: str  # the regulation title as the index prints it
    article: str  # the article label as the index prints it

    @property
    def doc_id(self) -> str:
        return doc_id(self.title, self.article)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    relevant: tuple[Gold, ...]
    type: str = DEFAULT_TYPE
    line: int = 0
    history: tuple[str, ...] = ()  # earlier questions of the conversation, oldest first

    @property
    def answerable(self) -> bool:
        return bool(self.relevant)

    @property
    def expects_related(self) -> bool:
        return self.type in RELATED_TYPES


def doc_id(title: str, article: str) -> str:
    """The one key used for an article in qrels and runs."""
    return f"{title} {article}"


class Catalogue:
    """The articles an index holds, for checking labels: title or short name + label -> canonical Gold."""

    def __init__(self, regulations: Iterable[Regulation], articles: Iterable[Article]) -> None:
        self._titles: dict[str, str] = {}
        for reg in regulations:
            self._titles[reg.title] = reg.title
        for reg in regulations:  # short names never shadow a full title
            for name in reg.short_names:
                self._titles.setdefault(name, reg.title)
        self._labels: dict[tuple[str, int, int], str] = {}
        self._by_title: dict[str, list[str]] = {}
        for a in articles:
            self._titles.setdefault(a.regulation_title, a.regulation_title)
            self._labels[(a.regulation_title, a.number, a.sub_number)] = a.label
            self._by_title.setdefault(a.regulation_title, []).append(a.label)

    @classmethod
    def from_index(cls, index) -> Catalogue:  # ingest.stores.index_io.LoadedIndex
        return cls(index.regulations, index.articles)

    def resolve(self, title: str, article: str) -> Gold:
        """The index's spelling of (title, article); ValueError with a hint when it holds no such article."""
        t = title.strip().strip("《》")
        canonical = self._titles.get(t)
        if canonical is None:
            close = difflib.get_close_matches(t, list(self._titles), n=1, cutoff=0.6)
            hint = f"; did you mean 《{close[0]}》?" if close else ""
            raise ValueError(f"the index holds no regulation titled 《{t}》{hint}")
        m = LABEL_RE.match(article.strip().replace(" ", ""))
        if not m:
            raise ValueError(f"article {article!r} is not a label like 第五十六条 or 第56条")
        try:
            key = (canonical, to_int(m.group(1)), to_int(m.group(2)) if m.group(2) else 0)
        except ValueError as exc:
            raise ValueError(f"article {article!r}: {exc}") from None
        label = self._labels.get(key)
        if label is None:
            held = self._by_title.get(canonical, [])
            shown = "、".join(held[:8]) + ("…" if len(held) > 8 else "")
            raise ValueError(f"《{canonical}》 has no article {article} in the index "
                             f"(it holds {len(held)}: {shown})")
        return Gold(canonical, label)


def read_questions(path: Path | str, catalogue: Catalogue | None = None) -> list[Question]:
    """Parse and check a question file. With a catalogue, every relevant article must exist in the index."""
    path = Path(path)
    name = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise QuestionFileError(f"{name}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise QuestionFileError(f"{name}: no such question file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionFileError(f"{name}: cannot read it ({exc})") from None
    questions: list[Question] = []
    seen: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        q = _parse_line(line, f"{name}:{n}", n, catalogue)
        if q.id in seen:
            raise QuestionFileError(f"{name}:{n}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = n
        questions.append(q)
    if not questions:
        raise QuestionFileError(f"{name}: no questions in the file")
    log.debug("read %d questions from %s", len(questions), name)
    return questions


def _parse_line(line: str, where: str, n: int, catalogue: Catalogue | None) -> Question:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise QuestionFileError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(row, dict):
        raise QuestionFileError(f"{where}: expected a JSON object, got {type(row).__name__}")
    qid, question = row.get("id"), row.get("question")
    if isinstance(qid, int) and not isinstance(qid, bool):
        qid = str(qid)
    if not isinstance(qid, str) or not qid.strip():
        raise QuestionFileError(f"{where}: missing or empty \"id\"")
    if not isinstance(question, str) or not question.strip():
        raise QuestionFileError(f"{where}: question {qid!r} has no \"question\" text")
    relevant = row.get("relevant")
    if not isinstance(relevant, list):
        raise QuestionFileError(f"{where}: question {qid!r}: \"relevant\" must be a list "
                                "([] if unanswerable)")
    qtype = row.get("type", DEFAULT_TYPE)
    if not isinstance(qtype, str) or not qtype.strip():
        raise QuestionFileError(f"{where}: question {qid!r}: \"type\" must be a non-empty string")
    golds: list[Gold] = []
    for item in relevant:
        if not (isinstance(item, dict) and isinstance(item.get("title"), str)
                and isinstance(item.get("article"), str)):
            shown = json.dumps(item, ensure_ascii=False)
            raise QuestionFileError(f"{where}: question {qid!r}: each relevant item needs "
                                    f"\"title\" and \"article\" strings, got {shown}")
        if catalogue is None:
            gold = Gold(item["title"].strip().strip("《》"), item["article"].strip())
        else:
            try:
                gold = catalogue.resolve(item["title"], item["article"])
            except ValueError as exc:
                raise QuestionFileError(f"{where}: question {qid!r}: {exc}") from None
        if gold not in golds:
            golds.append(gold)
    history = row.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, str) and h.strip() for h in history):
        raise QuestionFileError(f"{where}: question {qid!r}: \"history\" must be a list of the earlier "
                                "questions (non-empty strings), oldest first")
    if qtype == UNANSWERABLE and golds:
        raise QuestionFileError(f"{where}: question {qid!r} is typed unanswerable "
                                "but lists relevant articles")
    return Question(qid.strip(), question, tuple(golds), qtype.strip(), n, tuple(history))


def split_of(questions: list[Question], ratio: int = 3) -> dict[str, str]:
    """Deterministic 2:1 dev/test split, stratified by type: within each type, questions are ordered by a
    hash of their id and every third one goes to test."""
    out: dict[str, str] = {}
    by_type: dict[str, list[Question]] = {}
    for q in questions:
        by_type.setdefault(q.type, []).append(q)
    for group in by_type.values():
        ordered = sorted(group, key=lambda q: hashlib.sha1(q.id.encode("utf-8")).hexdigest())
        for i, q in enumerate(ordered):
            out[q.id] = "test" if i % ratio == ratio - 1 else "dev"
    return out


def question_to_json(q: Question) -> dict:
    d = {"id": q.id, "question": q.question,
         "relevant": [{"title": g.title, "article": g.article} for g in q.relevant], "type": q.type}
    if q.history:
        d["history"] = list(q.history)
    return d
