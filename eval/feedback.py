"""`python -m eval feedback`: the feedback log turned into candidate question-set rows and a short report.

The rows are for a person to review before any goes into data/questions; this never writes there.
A question's rows: "relevant" is the articles voted 👍 for it (empty when people confirmed that no article
answers it), "votes" how many events back the row. Questions with only 👎 or abstentions are listed in the
report as gaps, not as rows (nobody has said yet what answers them).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

TOP = 10


def _key(question: str) -> str:
    """Questions counted together when they differ only in spacing or letter case."""
    return "".join(question.split()).casefold()


@dataclass
class _Question:
    text: str
    asked: int = 0  # abstained events: times the search found nothing
    up: Counter = field(default_factory=Counter)  # article id -> 👍
    down: Counter = field(default_factory=Counter)  # article id -> 👎
    no_answer_up: int = 0  # "indeed none"
    no_answer_down: int = 0  # "this should have an answer"


def summarise(events: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """{"events", "candidates": [row...], "unanswered": [...], "down_voted_articles": [...]}."""
    questions: dict[str, _Question] = {}
    citations: dict[str, str] = {}
    total = 0
    for e in events:
        q = e.get("question")
        if not isinstance(q, str) or not q.strip():
            continue
        total += 1
        item = questions.setdefault(_key(q), _Question(q.strip()))
        kind, vote, aid = e.get("kind"), e.get("vote"), e.get("article_id")
        if isinstance(aid, str) and isinstance(e.get("article"), str):
            citations[aid] = e["article"]
        if kind == "abstained":
            item.asked += 1
        elif kind == "answer" and isinstance(aid, str) and vote in ("up", "down"):
            (item.up if vote == "up" else item.down)[aid] += 1
        elif kind == "no_answer" and vote == "up":
            item.no_answer_up += 1
        elif kind == "no_answer" and vote == "down":
            item.no_answer_down += 1
    candidates = []
    for key, item in questions.items():
        relevant = sorted(a for a, n in item.up.items() if n > item.down[a])
        if relevant:
            votes = sum(item.up[a] for a in relevant)
        elif item.no_answer_up > item.no_answer_down and not item.up:
            votes = item.no_answer_up
        else:
            continue
        rid = "fb-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:10]
        candidates.append({"id": rid, "question": item.text, "relevant": relevant, "type": "feedback",
                           "votes": votes})
    candidates.sort(key=lambda r: (-r["votes"], r["question"]))
    unanswered = [{"question": i.text, "abstained": i.asked, "should_have_answer": i.no_answer_down,
                   "down_votes": sum(i.down.values()), "count": i.asked + i.no_answer_down + sum(i.down.values())}
                  for i in questions.values() if not any(n > i.down[a] for a, n in i.up.items())]
    unanswered = sorted((u for u in unanswered if u["count"]), key=lambda u: (-u["count"], u["question"]))
    down = Counter[str]()
    for i in questions.values():
        down.update(i.down)
    articles = [{"article_id": a, "article": citations.get(a, a), "down_votes": n}
                for a, n in sorted(down.items(), key=lambda kv: (-kv[1], kv[0]))]
    return {"events": total, "candidates": candidates, "unanswered": unanswered[:TOP],
            "down_voted_articles": articles[:TOP]}


def report(summary: dict[str, Any]) -> str:
    """The short text report."""
    lines = [f"{summary['events']} feedback events, {len(summary['candidates'])} candidate rows", "",
             "Most-asked questions without a good answer (abstained / 'should have one' / 👎):"]
    lines += [f"  {u['count']:>4}  {u['question']}  ({u['abstained']} / {u['should_have_answer']} / "
              f"{u['down_votes']})" for u in summary["unanswered"]] or ["  (none)"]
    lines += ["", "Articles most often voted 👎:"]
    lines += [f"  {a['down_votes']:>4}  {a['article']}" for a in summary["down_voted_articles"]] or ["  (none)"]
    return "\n".join(lines)
