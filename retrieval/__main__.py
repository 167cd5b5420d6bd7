"""python -m retrieval search [--index DIR] [-k K] [--mode M] [--json] [--regulation NAME] [--level L] [--region R]
                            [--as-of DATE | --all-versions] (QUESTION | --batch FILE)
                            (--regulation, --level and --region may repeat)
python -m retrieval check [--index DIR | --source PATH ...] [--json] FILE   (FILE may be - for stdin)
python -m retrieval versions [--index DIR | --source PATH ...] [--from DATE] [--to DATE] [--json] NAME"""

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
    s.add_argument("--batch", type=Path,
                   help="JSONL file of {\"question\": ..., \"history\": [earlier questions, oldest first]} objects "
                        "(history optional); one JSON result per line")
    s.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    s.add_argument("-k", type=int, default=5, help="number of articles (default 5)")
    s.add_argument("--mode", choices=MODES, default=DEFAULT_MODE)
    s.add_argument("--regulation", action="append", help="search only this regulation (title or short name)")
    s.add_argument("--level", action="append",
                   help="search only regulations of this level (法律, 行政法规, 司法解释, 部门规章, 地方性法规 …)")
    s.add_argument("--region", action="append",
                   help="search only regulations of this region (浙江省 or 浙江, 杭州市; 全国 for national ones)")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    s.add_argument("--as-of", dest="as_of", help="search the versions in force on this day (YYYY-MM-DD; "
                                                 "default: today)")
    s.add_argument("--all-versions", action="store_true", help="search every version, in force or not")
    c = sub.add_parser("check", help="verify the article citations in a draft against the verbatim texts",
                       description="Exit status: 0 every citation checks out, 1 some citation failed, 2 error.")
    c.add_argument("file", help="the draft (UTF-8 text); - reads standard input")
    c.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    c.add_argument("--source", type=Path, action="append",
                   help="check against these regulation files or folders instead of an index")
    c.add_argument("--json", action="store_true", help="print the result as JSON")
    v = sub.add_parser("versions", help="a regulation's versions, their status, and the old text beside the new")
    v.add_argument("name", help="the regulation's title or short name (会计法, 中华人民共和国会计法)")
    v.add_argument("--from", dest="date_from", help="the older version: its date, or a day it was in force")
    v.add_argument("--to", dest="date_to", help="the newer version (default: the one in force today)")
    v.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    v.add_argument("--source", type=Path, action="append", help="read these files or folders instead of an index")
    v.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.command == "check":
        return _check(args)
    if args.command == "versions":
        return _versions(args)
    if (args.question is None) == (args.batch is None):
        parser.error("give either a QUESTION or --batch FILE")
    try:
        from retrieval.in_force import annotate, as_of_date, regulation_filter
        from retrieval.retriever import Retriever

        as_of_date(args.as_of)  # a bad date is refused before the model loads
        retriever = Retriever(index_dir(args.index))
        if args.level or args.region:  # an unknown level or region: said once, before any question
            retriever.regulation_ids(args.regulation, args.level, args.region)
        if args.batch:
            return _batch(retriever, args)
        wanted = regulation_filter(retriever.index, args.regulation, args.as_of, args.all_versions, args.question)
        response = retriever.search(args.question, k=args.k, mode=args.mode, regulations=wanted,
                                    levels=args.level, regions=args.region)
        payload = annotate(response.to_json(), retriever.index, args.as_of)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(payload, ensure_ascii=False))
    else:
        _print_human(response, payload)
    return 0


def _batch(retriever, args: argparse.Namespace) -> int:
    """One JSON object per input line, in order; a bad line gets an error object, not a crash. A line with a
    "history" is searched as understood after it, and its result says how ("understood")."""
    from retrieval.conversation.followup import response_json, search_conversation
    from retrieval.filters import filtered
    from retrieval.in_force import annotate, regulation_filter

    within = filtered(retriever, tuple(args.level or ()), tuple(args.region or ()))

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
            wanted = regulation_filter(retriever.index, args.regulation, args.as_of, args.all_versions,
                                       question if isinstance(question, str) else None)
            if isinstance(row, dict) and "history" in row:
                response, understood = search_conversation(within, question, row["history"], k=args.k,
                                                           mode=args.mode, regulations=wanted)
                print(json.dumps(annotate(response_json(response, understood), retriever.index, args.as_of),
                                 ensure_ascii=False), flush=True)
                continue
            response = within.search(question, k=args.k, mode=args.mode, regulations=wanted)
            print(json.dumps(annotate(response.to_json(), retriever.index, args.as_of), ensure_ascii=False),
                  flush=True)
        except (ValueError, KeyError, RegQAError) as exc:
            msg = str(exc) if isinstance(exc, RegQAError) else f"line {n}: expected {{\"question\": ...}}"
            print(json.dumps({"query": None, "abstained": True, "results": [], "error": msg}, ensure_ascii=False),
                  flush=True)
            status = 1
    return status


def _check(args: argparse.Namespace) -> int:
    from retrieval.checker.catalogue import Catalogue
    from retrieval.checker.check import check_citations

    try:
        draft = _read_draft(args.file)
        if args.source:
            catalogue = Catalogue.from_sources(args.source)
        else:
            catalogue = Catalogue.from_index(index_dir(args.index))
        report = check_citations(draft, catalogue)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
    else:
        _print_check(report)
    return 0 if report.ok else 1


def _versions(args: argparse.Namespace) -> int:
    from retrieval.version_report import VersionLibrary, compare, render_text

    try:
        library = (VersionLibrary.from_sources(args.source) if args.source
                   else VersionLibrary.from_index(index_dir(args.index)))
        result = compare(library, args.name, args.date_from, args.date_to)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_json(), ensure_ascii=False) if args.json else render_text(result))
    return 0


def _read_draft(name: str) -> str:
    from ingest.errors import QueryError

    try:
        raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
    except OSError as exc:
        raise QueryError(f"cannot read {name}: {exc.strerror or exc}") from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QueryError(f"{'standard input' if name == '-' else name} is not UTF-8 text "
                         f"(invalid byte at {exc.start})") from exc


MARKS = {"found": "✓", "unknown_regulation": "✗", "no_such_article": "✗", "quote_differs": "≠", "superseded": "⟲"}


def _print_check(report) -> None:
    for r in report.citations:
        c = r.citation
        print(f"{MARKS[r.verdict]} {c.cited}  [{r.verdict}]  {r.message}")
        if r.closest is not None:
            print(f"    最接近 closest: {r.closest.text}")
            print(f"    差异 diff: {r.closest.diff_text}")
    for c in report.unattributed:
        print(f"? {c.cited}  未指明法规 (no regulation named before it; not checked)")
    counts = ", ".join(f"{v} {n}" for v, n in report.counts().items() if n)
    print(f"\n{len(report.citations)} citations checked" + (f": {counts}" if counts else ""))


def _print_human(response, payload: dict | None = None) -> None:
    if response.abstained:
        print("未找到直接相关的条文 (no article answers this directly); nearest articles:\n")
    rows = (payload or {}).get("results") or [{}] * len(response.results)
    for i, (r, row) in enumerate(zip(response.results, rows, strict=True), 1):
        print(f"{i}. {r.citation}  [{r.score:.3f} {'+'.join(r.found_by)}]{_version_note(row)}")
        print(f"   {r.article.text}\n")


def _version_note(row: dict) -> str:
    """A version that is not simply the one in force says so: 已被修订 (2018-03-19), and where it went."""
    if row.get("status") in (None, "in_force"):
        return ""
    note = f"  {row['status_label']} ({row.get('version') or '?'})"
    current = row.get("current")
    if current:
        note += " → 已删除 (removed)" if current.get("removed") else f" → 现行 {current.get('citation', '')}"
    return note


if __name__ == "__main__":
    sys.exit(main())
