"""Record the JSON the product's contracts print, so a refactoring can prove it changed no byte.

    python -m eval.snapshot --out DIR [--index DIR] [--stard-index DIR]

Writes one file per output: `retrieval search --batch` on every question set in data/ in every mode (the
conversations with their history and without it), `retrieval check --json` on a draft with every verdict, and the
JSON API's routes on the served index. Compare two runs with `diff -r` (or `sha256sum`). Answers are fixed for a
fixed index, so two runs on one build print the same bytes; fields that change per process (the build's load time,
in-flight counts) are taken out of /api/health before it is written.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

from ingest.paths import index_dir

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = ROOT / "data" / "questions"
STARD = ROOT / "data" / "benchmarks" / "stard"
MODES = ("hybrid", "dense", "lexical")

# Every verdict the checker gives, in one draft (found, unknown_regulation, no_such_article, quote_differs).
DRAFT = """\
《杭州市质量促进办法》第十二条第二款规定：“市、区、县（市）人民政府应当引导和鼓励企业推行首席质量官制度”。
湖北条例第二十三条、第二十四条和杭州办法第１２条；《湖北省质量促进条例》第十条至第十二条，质量促进条例第3条。
《中华人民共和国产品质量法》第十条。杭州办法第三十条；湖北条例第十条之一；杭州办法第十二条第三款。
《杭州市质量促进办法》第十二条规定：“鼓励企业实行首席质量官制度”。
According to Article 12 of the Hangzhou measures, "鼓励企业实施首席质量官制度". See also Art. 23 Hubei regulation.
"""

API_QUESTIONS = ("企业要不要配专门管质量的人？", "When does the Hangzhou measure take effect?", "湖北条例第二十一条",
                 "今天天气怎么样", "")
VOLATILE_HEALTH = {"pool", "cache"}  # change with every request


def _run(args: list[str], out: Path) -> None:
    proc = subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, timeout=1800)
    out.write_bytes(proc.stdout + f"\n# exit {proc.returncode}\n".encode())


def _without_history(src: Path, dst: Path) -> Path:
    rows = [json.loads(line) for line in src.read_text(encoding="utf-8").splitlines() if line.strip()]
    dst.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "history"}, ensure_ascii=False) + "\n"
                           for r in rows), encoding="utf-8")
    return dst


def record_cli(out: Path, index: Path, stard_index: Path | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sets = {name: (QUESTIONS / f"{name}.jsonl", index) for name in ("dev", "test", "conversations")}
        sets["conversations-no-history"] = (_without_history(QUESTIONS / "conversations.jsonl",
                                                             Path(tmp) / "c.jsonl"), index)
        if stard_index is not None:
            sets.update({f"stard-{n}": (STARD / f"{n}.jsonl", stard_index) for n in ("dev", "test")})
        for name, (questions, idx) in sets.items():
            for mode in MODES:
                _run(["-m", "retrieval", "search", "--index", str(idx), "--mode", mode, "--json", "--batch",
                      str(questions)], out / f"search-{name}-{mode}.jsonl")
                print(f"recorded {name} {mode}", file=sys.stderr)
        draft = Path(tmp) / "draft.txt"
        draft.write_text(DRAFT, encoding="utf-8")
        _run(["-m", "retrieval", "check", "--index", str(index), "--json", str(draft)], out / "check.json")
        _run(["-m", "retrieval", "check", "--index", str(index), str(draft)], out / "check.txt")


def _fetch(url: str, body: dict | None = None) -> bytes:
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return f"{r.status}\n".encode() + r.read()
    except urllib.error.HTTPError as exc:
        return f"{exc.code}\n".encode() + exc.read()


def record_api(out: Path, index: Path) -> None:
    from eval.app_server import running_app

    with tempfile.TemporaryDirectory() as fb, running_app(index, env={"REGQA_FEEDBACK_DIR": fb}) as url:
        parts: list[bytes] = []
        for q in API_QUESTIONS:
            for mode in MODES:
                parts.append(_fetch(f"{url}api/search?" + urllib.parse.urlencode({"q": q, "mode": mode, "k": 5})))
            parts.append(_fetch(f"{url}api/search", {"q": q, "history": ["首席质量官制度是怎么规定的"]}))
            parts.append(_fetch(f"{url}api/search", {"q": q, "regulation": "杭州市质量促进办法"}))
        parts.append(_fetch(f"{url}api/search?k=0&q=x"))
        parts.append(_fetch(f"{url}api/regulations"))
        parts.append(_fetch(f"{url}api/check", {"text": DRAFT}))
        parts.append(_fetch(f"{url}api/nowhere"))
        status, _, body = _fetch(f"{url}api/health").partition(b"\n")
        health = {k: v for k, v in json.loads(body).items() if k not in VOLATILE_HEALTH}
        parts.append(status + b"\n" + json.dumps(health, ensure_ascii=False, sort_keys=True).encode())
        (out / "api.txt").write_bytes(b"\n".join(parts) + b"\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.snapshot", description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--index", type=Path, default=None)
    p.add_argument("--stard-index", type=Path, default=None, help="also record the STARD sets on this index")
    p.add_argument("--no-api", action="store_true")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    index = index_dir(args.index)
    record_cli(args.out, index, args.stard_index)
    if not args.no_api:
        record_api(args.out, index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
