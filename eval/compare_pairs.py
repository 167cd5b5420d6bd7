"""How well "对照 Compare" pairs an article with its counterparts: `python -m eval.compare_pairs [--index DIR]`.

data/questions/compare_pairs.jsonl holds, per line, an article (`?compare=` id, e.g. hangzhou-12) and the articles
of the other regulation that say the same thing (written from the two texts, not from system output). For each,
the counterparts the comparison shows are read and scored: hit (one expected counterpart shown at least),
recall (expected ones shown) and precision (shown ones that were expected; a row left empty counts as no hit).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

PAIRS = Path(__file__).resolve().parents[1] / "data" / "questions" / "compare_pairs.jsonl"


def load(path: Path = PAIRS) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def measure(retriever, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean hit, recall and precision over the pairs, and each pair's shown counterparts."""
    from retrieval.conversation import compare
    from retrieval.conversation.permalinks import Permalinks

    links = Permalinks(retriever.regulations)
    rows = []
    for p in pairs:
        key = links.resolve(p["article"])
        article = retriever.article(*key) if key else None
        if article is None:
            raise ValueError(f"{p['id']}: no article {p['article']}")
        c = compare.compare_article(retriever, article.id)
        shown = [links.of(r.article) for row in c.rows for cell in row[1:] for r in cell]
        expected = set(p["expected"])
        good = len(expected & set(shown))
        rows.append({"id": p["id"], "article": p["article"], "expected": p["expected"], "shown": shown,
                     "hit": float(good > 0), "recall": good / len(expected),
                     "precision": good / len(shown) if shown else 0.0})
    n = len(rows) or 1
    return {"pairs": len(rows), **{m: round(sum(r[m] for r in rows) / n, 3) for m in ("hit", "recall", "precision")},
            "rows": rows}


def main(argv: list[str] | None = None) -> int:
    from ingest.paths import INDEX_HELP, index_dir
    from retrieval.retriever import Retriever

    ap = argparse.ArgumentParser(prog="python -m eval.compare_pairs", description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    ap.add_argument("--pairs", type=Path, default=PAIRS)
    ap.add_argument("--rows", action="store_true", help="print every pair's shown counterparts too")
    args = ap.parse_args(argv)
    result = measure(Retriever(index_dir(args.index)), load(args.pairs))
    if not args.rows:
        result.pop("rows")
    print(json.dumps(result, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
