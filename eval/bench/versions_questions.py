"""The version question set (data/questions/versions.jsonl) on the national library, lexical search:
`python -m eval.bench.versions_questions --source data/library/lawrefbook [--index DIR] [--baseline]`.

Each question carries the day it is asked (`as_of`) and, for "what changed" and "is it still in force" questions,
`all_versions`; each gold article names its version and the status it has that day (checked by hand, not by
the code). Printed per type: recall@5 counting only the gold version (same title, article and version); how
often the first result showing a gold article shows it in the gold version; and status accuracy (a gold article
found whose `status` is the hand-checked one). `--baseline` searches every version, as before versions were
known. The index is built from the library's national folders (every version of every regulation in them) with
a hashing embedder: the search is lexical (BM25), so no model is needed and the figures do not depend on one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

from eval.bench.common import REPO, table
from ingest.build import build_index
from retrieval.in_force import annotate, regulation_filter
from retrieval.retriever import Retriever

QUESTIONS = REPO / "data" / "questions" / "versions.jsonl"
NATIONAL = ("行政法规", "司法解释", "部门规章", "宪法", "民法典", "宪法相关法", "行政法", "经济法", "民法商法",
            "社会法", "刑法", "诉讼与非诉讼程序法")
K = 5


class HashEmbedder:
    """Character pairs hashed into 64 dimensions: enough for a build, never used by a lexical search."""

    model_id = "hash-bigrams@eval"
    dim = 64
    engine = "hash"
    max_tokens = 512

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        for i in range(max(len(text) - 1, 1)):
            v[zlib.crc32(text[i:i + 2].encode("utf-8")) % self.dim] += 1.0
        v[hashlib.sha256(text.encode()).digest()[0] % self.dim] += 0.01
        return v / np.linalg.norm(v)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


def run(retriever: Retriever, rows: list[dict], versions: bool = True) -> tuple[list[dict], dict]:
    """`versions=False` is the baseline: every version searched, as before this work."""
    per: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    details = []
    for row in rows:
        wanted = (regulation_filter(retriever.index, None, row.get("as_of"), bool(row.get("all_versions")),
                                    row["question"]) if versions else None)
        found = retriever.search(row["question"], k=K, mode="lexical", regulations=wanted)
        out = annotate(found.to_json(), retriever.index, row.get("as_of"))["results"]
        got = {(r["title"], r["article"], r.get("version")): r for r in out}
        hits = [g for g in row["relevant"] if (g["title"], g["article"], g["version"]) in got]
        right = [g for g in hits if got[(g["title"], g["article"], g["version"])]["status"] == g["status"]]
        # the first result showing the gold article (any version) shows the gold version
        first = [next((r.get("version") for r in out if (r["title"], r["article"]) == (g["title"], g["article"])),
                      None) == g["version"] for g in row["relevant"]]
        for t in (row["type"], "all"):
            per[t]["questions"] += 1
            per[t]["recall@5"] += len(hits) / len(row["relevant"])
            per[t]["gold found"] += len(hits)
            per[t]["status right"] += len(right)
            per[t]["version first"] += sum(first) / len(row["relevant"])
        details.append({"id": row["id"], "found": len(hits), "gold": len(row["relevant"]), "status_right": len(right),
                        "top": [f"{r['article']}@{r.get('version')}:{r.get('status')}" for r in out[:3]]})
    summary = {}
    for t, m in per.items():
        summary[t] = {"questions": int(m["questions"]), "recall@5": round(m["recall@5"] / m["questions"], 3),
                      "right_version_first": round(m["version first"] / m["questions"], 3),
                      "status_accuracy": round(m["status right"] / m["gold found"], 3) if m["gold found"] else None}
    return details, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.versions_questions", description=__doc__)
    parser.add_argument("--source", type=Path, required=True, help="the unpacked library (data/library/lawrefbook)")
    parser.add_argument("--index", type=Path, help="build into / reuse this folder (default: a temporary one)")
    parser.add_argument("--baseline", action="store_true", help="search every version, as before versions existed")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        out = args.index or Path(tmp) / "index"
        build_index([args.source / f for f in NATIONAL if (args.source / f).is_dir()], out, HashEmbedder(),
                    progress=False)
        details, summary = run(Retriever(out, embedder=HashEmbedder()), rows, versions=not args.baseline)
    if args.json:
        print(json.dumps({"summary": summary, "questions": details}, ensure_ascii=False))
    else:
        print(table([{"type": t, **m} for t, m in sorted(summary.items())],
                    ["type", "questions", "recall@5", "right_version_first", "status_accuracy"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
