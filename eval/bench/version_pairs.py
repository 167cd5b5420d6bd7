"""Pairing accuracy of the old beside the new: `python -m eval.bench.version_pairs --source data/library/lawrefbook`.

For each regulation named (default: twelve national laws and regulations whose last two versions renumber, rewrite,
add and remove articles), the last two versions are paired (retrieval/version_pairs.py) and counted: same, changed,
added, removed, renumbered. The rows a person judged wrong are listed in data/library/version_pairs_judged.jsonl
(see data/library/VERSIONS.md for how they were judged); accuracy = rows not judged wrong / all rows.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from eval.bench.common import REPO, table
from retrieval.version_report import VersionLibrary

JUDGED = REPO / "data" / "library" / "version_pairs_judged.jsonl"
PAIRS = ("专利法实施细则", "立法法", "会计法", "农产品质量安全法", "反垄断法", "慈善法", "监察法", "统计法",
         "对外贸易法", "行政复议法", "计量法实施细则", "文物保护法")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.version_pairs", description=__doc__)
    parser.add_argument("--source", type=Path, action="append", required=True, help="the library folder (unpacked)")
    parser.add_argument("--name", action="append", help="a regulation to pair (default: the twelve)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    library = VersionLibrary.from_sources(args.source)
    wrong = Counter()
    for line in JUDGED.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            wrong[(row["title"], row["from"], row["to"])] += 1
    rows, total = [], Counter()
    for name in args.name or PAIRS:
        versions = library.versions(name)
        old, new = versions[-2], versions[-1]
        pairs = library.pairs(old.regulation_id, new.regulation_id, diff=False)
        c = Counter(p.kind for p in pairs)
        c["rows"], c["renumbered"] = len(pairs), sum(p.renumbered for p in pairs)
        c["wrong"] = wrong[(old.title, old.date, new.date)]
        total.update(c)
        rows.append({"regulation": old.title, "from": old.date, "to": new.date, **c,
                     "accuracy": round(1 - c["wrong"] / c["rows"], 4)})
    summary = {"pairs": len(rows), **total, "accuracy": round(1 - total["wrong"] / total["rows"], 4)}
    if args.json:
        print(json.dumps({"pairs": rows, "total": summary}, ensure_ascii=False))
    else:
        cols = ["regulation", "from", "to", "rows", "same", "changed", "added", "removed", "renumbered", "wrong",
                "accuracy"]
        print(table([*rows, {"regulation": "total", **summary}], cols))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
