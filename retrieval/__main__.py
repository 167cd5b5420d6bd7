"""python -m retrieval search [--index DIR] [-k K] [--mode M] [--json] (QUESTION | --batch FILE)"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingest.errors import RegQAError
from ingest.paths import INDEX_HELP, index_dir
from retrieval.settings import DEFAULT_MODE, MODES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m retrieval", description="Search the regulation index.")
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("search", help="find the articles that answer a question")
    s.add_argument("question", nargs="?", help="the question, in plain words")
    s.add_argument("--batch", type=Path, help="JSONL file of {\"question\": ...} objects; one JSON result per line")
    s.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    s.add_argument("-k", type=int, default=5, help="number of articles (default 5)")
    s.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)
    s.add_argument("--regulation", action="append", help="search only this regulation (title or short name)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if (args.question is None) == (args.batch is None):
        parser.error("give either a QUESTION or --batch FILE")
    try:
        from retrieval.retriever import Retriever

        retriever = Retriever(index_dir(args.index))
        if args.batch:
            return _batch(retriever, args)
        response = retriever.search(args.question, k=args.k, mode=args.mode, regulations=args.regulation)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(response.to_json(), ensure_ascii=False))
    else:
        _print_human(response)
    return 0


def _batch(retriever, args: argparse.Namespace) -> int:
    """One JSON object per input line, in order; a bad line gets an error object, not a crash."""
    try:
        lines = args.batch.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.batch.name}: {exc}", file=sys.stderr)
        return 2
    status = 0
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            question = row["question"] if isinstance(row, dict) else None
            response = retriever.search(question, k=args.k, mode=args.mode, regulations=args.regulation)
            print(json.dumps(response.to_json(), ensure_ascii=False), flush=True)
        except (ValueError, KeyError, RegQAError) as exc:
            msg = str(exc) if isinstance(exc, RegQAError) else f"line {n}: expected {{\"question\": ...}}"
            print(json.dumps({"query": None, "abstained": True, "results": [], "error": msg}, ensure_ascii=False),
                  flush=True)
            status = 1
    return status


def _print_human(response) -> None:
    if response.abstained:
        print("未找到直接相关的条文 (no article answers this directly); nearest articles:\n")
    for i, r in enumerate(response.results, 1):
        print(f"{i}. {r.citation}  [{r.score:.3f} {'+'.join(r.found_by)}]")
        print(f"   {r.article.text}\n")


if __name__ == "__main__":
    sys.exit(main())
