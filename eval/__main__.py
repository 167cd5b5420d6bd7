"""python -m eval run | calibrate | feedback

run:       [--index DIR] --questions FILE [--mode hybrid|dense|lexical|all] [-k K] [--json] [--report DIR]
           [--fail-under METRIC=VALUE ...] [--part dev|test] [--no-history]
calibrate: [--index DIR] --questions FILE (the development split) [--json] [--min-abstain X]
           [--max-false-abstain Y] [--cache FILE] [--save]
feedback:  [--dir DIR] [--out FILE] [--json]  (the feedback log as candidate question rows, for review)
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from ingest.errors import RegQAError
from ingest.paths import INDEX_HELP, index_dir
from retrieval.settings import DEFAULT_MODE, MODES

EXIT_BELOW_BAR = 1
EXIT_ERROR = 2


def _bar(text: str) -> tuple[str, float]:
    metric, sep, value = text.partition("=")
    try:
        if not sep or not metric.strip():
            raise ValueError
        return metric.strip(), float(value)
    except ValueError:
        msg = f"expected METRIC=VALUE such as recall@5=0.8, got {text!r}"
        raise argparse.ArgumentTypeError(msg) from None


def main(argv: list[str] | None = None) -> int:
    from eval.runner import DEFAULT_K

    parser = argparse.ArgumentParser(prog="python -m eval", description="Measure retrieval quality.")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a question file and report metrics")
    r.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    r.add_argument("--questions", type=Path, required=True, help="JSONL question file")
    r.add_argument("--mode", choices=(*MODES, "all"), default=DEFAULT_MODE)
    r.add_argument("-k", type=int, default=DEFAULT_K,
                   help=f"articles retrieved per question (default {DEFAULT_K})")
    r.add_argument("--json", action="store_true", help="print {MODE: {metric: value}} as JSON")
    r.add_argument("--report", type=Path, help="write report.md, per-question runs and charts into DIR")
    r.add_argument("--fail-under", type=_bar, action="append", default=[], metavar="METRIC=VALUE",
                   help="exit 1 when a metric of any mode is below VALUE (repeatable)")
    r.add_argument("--part", choices=("dev", "test"),
                   help="only the questions the dev/test split rule puts in this part (split within the file)")
    r.add_argument("--no-history", action="store_true",
                   help="search every question alone, ignoring a conversation's \"history\" (the baseline)")
    r.add_argument("--regulation", action="append", default=None, metavar="NAME",
                   help="search only this regulation (id, title or short name; repeatable), as the CLI does")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    c = sub.add_parser("calibrate",
                       help="grid-search the fusion weight and abstain thresholds on development questions")
    c.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    c.add_argument("--questions", type=Path, required=True, action="append",
                   help="the development question file (repeatable: a library's calibration takes its STARD "
                        "questions and off-topic and junk ones)")
    c.add_argument("--answerable", type=Path, action="append", default=[], metavar="FILE",
                   help="also the answerable questions of this file (repeatable): a question set written for a "
                        "smaller corpus, whose unanswerable ones a library may answer")
    c.add_argument("--min-abstain", type=float, default=0.90, help="required abstain accuracy (default 0.90)")
    c.add_argument("--max-false-abstain", type=float, default=0.03,
                   help="allowed false-abstain rate (default 0.03)")
    c.add_argument("--cache", type=Path, help="file that keeps query vectors between calibration runs")
    c.add_argument("--json", action="store_true")
    c.add_argument("--save", action="store_true",
                   help="store the fitted weight and abstain rule with the index (its manifest)")
    c.add_argument("--if-stale", action="store_true",
                   help="with --save: do nothing when the index was calibrated on these questions already")
    c.add_argument("--no-progress", action="store_true")
    f = sub.add_parser("feedback", help="turn the feedback log into candidate question rows and a gap report")
    f.add_argument("--dir", type=Path, default=None,
                   help="the feedback log directory (default: $REGQA_FEEDBACK_DIR, else data/feedback)")
    f.add_argument("--out", type=Path, default=None,
                   help="write the candidate rows (JSONL) here, for a person to review (default: do not write)")
    f.add_argument("--json", action="store_true", help="print the summary as JSON instead of the report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    progress = False if getattr(args, "no_progress", False) else None
    try:
        if args.command == "run":
            return _run(args, progress)
        if args.command == "feedback":
            return _feedback(args)
        return _calibrate(args, progress)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, progress: bool | None) -> int:
    from eval.runner import deep_recalls, evaluate_file, expand_modes

    if not 1 <= args.k <= 50:
        print("error: -k must be between 1 and 50", file=sys.stderr)
        return EXIT_ERROR
    modes = expand_modes(args.mode)
    sample_keys = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10", "abstain_accuracy",
                   "false_abstain_rate", "latency_p50_ms", "latency_p95_ms", "questions", *deep_recalls(args.k)}
    unknown = [m for m, _ in args.fail_under if m not in sample_keys]
    if unknown:
        known = ", ".join(sorted(sample_keys))
        print(f"error: unknown metric {unknown[0]!r} in --fail-under; use one of {known}", file=sys.stderr)
        return EXIT_ERROR
    results = evaluate_file(index_dir(args.index), args.questions, modes, k=args.k, progress=progress,
                            part=args.part, use_history=not args.no_history, regulations=args.regulation)
    summary = {m: results[m].summary for m in modes if m in MODES}
    if args.report:
        from eval.report import write_report

        write_report(args.report, results, args.questions, index_dir(args.index))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        _print_table(summary)
        if args.report:
            print(f"\nreport: {args.report / 'report.md'}")
    failed = []
    for metric, bar in args.fail_under:
        for mode, s in summary.items():
            value = s.get(metric)
            if value is None or value < bar:
                failed.append(f"{mode} {metric} = {'not measured' if value is None else value} < {bar}")
    for line in failed:
        print(f"below bar: {line}", file=sys.stderr)
    return EXIT_BELOW_BAR if failed else 0


def _print_table(summary: dict[str, dict]) -> None:
    modes = list(summary)
    deep = [m for m in ("recall@20", "recall@50") if any(m in s for s in summary.values())]
    metrics = ("recall@1", "recall@5", "recall@10", *deep, "mrr@10", "ndcg@10", "abstain_accuracy",
               "false_abstain_rate", "latency_p50_ms", "latency_p95_ms", "questions")
    print(f"{'metric':<20}" + "".join(f"{m:>10}" for m in modes))
    for metric in metrics:
        cells = []
        for m in modes:
            v = summary[m].get(metric)
            cells.append(f"{'–':>10}" if v is None else f"{v:>10.3f}" if isinstance(v, float) else f"{v:>10}")
        print(f"{metric:<20}" + "".join(cells))
    for m in modes:
        print(f"\n{m} by type:")
        for qtype, row in summary[m].get("by_type", {}).items():
            parts = [f"n={row['questions']}"]
            for key in ("recall@5", "mrr@10", "abstain_accuracy", "false_abstain_rate"):
                if row.get(key) is not None:
                    parts.append(f"{key}={row[key]:.3f}")
            print(f"  {qtype:<14}" + "  ".join(parts))


def _feedback(args: argparse.Namespace) -> int:
    from eval.feedback import report, summarise
    from retrieval.serving.feedback import feedback_dir, read_all

    directory = feedback_dir(args.dir)
    if not directory.is_dir():
        print(f"error: no feedback log at {directory} (set --dir or $REGQA_FEEDBACK_DIR)", file=sys.stderr)
        return EXIT_ERROR
    summary = summarise(read_all(directory))  # the votes and the abstentions
    if args.out:
        sets = (Path("data") / "questions", Path(__file__).resolve().parents[1] / "data" / "questions")
        if any(args.out.resolve().is_relative_to(d.resolve()) for d in sets):
            print("error: candidate rows are for review; write them outside data/questions", file=sys.stderr)
            return EXIT_ERROR
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in summary["candidates"]),
                            encoding="utf-8")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(report(summary))
        if args.out:
            print(f"\ncandidate rows: {args.out} (review them before adding any to a question set)")
    return 0


def _calibrate(args: argparse.Namespace, progress: bool | None) -> int:
    from eval.calibrate import calibrate, calibrate_and_save

    options = dict(min_abstain=args.min_abstain, max_false_abstain=args.max_false_abstain, cache=args.cache,
                   progress=progress, answerable=args.answerable)
    if args.save:
        result = calibrate_and_save(index_dir(args.index), args.questions, only_if_stale=args.if_stale, **options)
        if result is None:
            print(f"the index is already calibrated on {' + '.join(map(str, args.questions))}", file=sys.stderr)
            return 0
    else:
        result = calibrate(index_dir(args.index), args.questions, **options)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        best = result["best"]
        print(f"dense weight     {best['dense_weight']}")
        print(f"abstain rule     {best['abstain_rule']}")
        print(f"dev metrics      {best['metrics']}")
        print(f"feasible         {result['feasible']}")
        print("ranking per weight:")
        for row in result["grid"]:
            print(f"  w={row['dense_weight']:.2f}  mrr@10={row['mrr@10']:.4f}  recall@5={row['recall@5']:.4f}")
    if args.save:
        print("saved with the index (manifest.json, \"search\")", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
