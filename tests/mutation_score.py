"""Print the share of mutants killed per module from mutmut's results in mutants/ (`make mutation` runs it).

    python tests/mutation_score.py [--survivors] [--json] [MODULE_PREFIX ...]

A mutant counts as killed when a test failed (or it hung past its time limit); survivors and mutants that no
selected test reaches count against the score. Mutants not run yet are left out and shown apart."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

MUTANTS = Path("mutants")
KILLED = {1: "killed", 3: "killed", 36: "timeout", 24: "timeout", -24: "timeout", 152: "timeout", 255: "timeout",
          37: "killed"}
STATUS = {0: "survived", 5: "no tests", 33: "no tests", 34: "skipped", None: "not run"}


def status(exit_code: int | None) -> str:
    return KILLED.get(exit_code) or STATUS.get(exit_code) or "suspicious"


def results(root: Path = MUTANTS) -> dict[str, dict[str, int | None]]:
    """{module path: {mutant name: exit code}} for every mutated file mutmut has seen."""
    out = {}
    for meta in sorted(root.rglob("*.py.meta")):
        codes = json.loads(meta.read_text(encoding="utf-8")).get("exit_code_by_key", {})
        if codes:
            out[str(meta.relative_to(root))[: -len(".meta")]] = codes
    return out


def summary(codes: dict[str, int | None]) -> dict[str, float | int]:
    counts = Counter(status(c) for c in codes.values())
    tried = sum(counts.values()) - counts["not run"] - counts["skipped"]
    killed = counts["killed"] + counts["timeout"]
    return {"mutants": len(codes), "killed": killed, "survived": counts["survived"], "no tests": counts["no tests"],
            "not run": counts["not run"], "score": round(100 * killed / tried, 1) if tried else float("nan")}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("prefixes", nargs="*", help="only modules whose path starts with one of these")
    ap.add_argument("--survivors", action="store_true", help="list the surviving mutants (see `mutmut show NAME`)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not MUTANTS.is_dir():
        print("no mutants/ here: run `make mutation` first", file=sys.stderr)
        return 2
    by_module = {m: c for m, c in results().items() if not args.prefixes or m.startswith(tuple(args.prefixes))}
    by_module = {m: c for m, c in by_module.items() if any(v is not None for v in c.values())}
    rows = {m: summary(c) for m, c in by_module.items()}
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    print(f"{'module':32} {'mutants':>7} {'killed':>7} {'survived':>8} {'no tests':>8} {'not run':>7} {'score':>6}")
    for m, r in rows.items():
        print(f"{m:32} {r['mutants']:7} {r['killed']:7} {r['survived']:8} {r['no tests']:8} {r['not run']:7} "
              f"{r['score']:5}%")
    total = summary({f"{m}:{k}": v for m, c in by_module.items() for k, v in c.items()})
    print(f"{'all of the above':32} {total['mutants']:7} {total['killed']:7} {total['survived']:8} "
          f"{total['no tests']:8} {total['not run']:7} {total['score']:5}%")
    if args.survivors:
        for codes in by_module.values():
            for name, code in sorted(codes.items()):
                if status(code) in ("survived", "no tests"):
                    print(f"{status(code):9} {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
