"""Find source documents and turn each into a Regulation with its Articles.

Sources are regulation documents (.txt/.docx/.pdf, optionally with a `<name>.meta.json` beside them)
or article JSONL files (`{"title", "article", "text"}` per line, optionally "chapter").
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import SourceError
from ingest.labels import ARTICLE_LABEL
from ingest.library_meta import split_version
from ingest.numerals import to_int
from ingest.parse import ParseError, parse_regulation
from ingest.read import DOCUMENT_SUFFIXES, MAX_DOCUMENT_BYTES, read_bytes, read_document
from ingest.schema import Article, Regulation

log = logging.getLogger(__name__)

MAX_JSONL_BYTES = 512 * 1024 * 1024
META_SUFFIX = ".meta.json"
META_FIELDS = {"id", "title", "short_names", "english_names", "region", "issuer", "adopted", "promulgated", "effective",
               "level", "version"}
LABEL_RE = re.compile(rf"^{ARTICLE_LABEL}$")
NATIONAL_PREFIX = "中华人民共和国"


@dataclass(frozen=True)
class SourceDoc:
    regulation: Regulation
    articles: tuple[Article, ...]


def discover(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their source files (sorted, so builds are reproducible)."""
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            for f in sorted(p.iterdir()):
                if f.is_file() and _is_source(f):
                    found.append(f)
        elif p.is_file():
            found.append(p)
        else:
            raise SourceError(f"{p}: no such file or folder")
    if not found:
        raise SourceError("no source documents found in " + ", ".join(str(p) for p in paths))
    return found


def _is_source(f: Path) -> bool:
    name = f.name.lower()
    if name.startswith(".") or name.endswith(META_SUFFIX) or name.lower() == "readme.md":
        return False
    return f.suffix.lower() in DOCUMENT_SUFFIXES | {".jsonl"}


def load_source(path: Path) -> list[SourceDoc]:
    if path.suffix.lower() == ".jsonl":
        return load_jsonl(path)
    return [load_document(path)]


def slug(title: str) -> str:
    return "reg-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]


def short_names_for(title: str) -> tuple[str, ...]:
    names = []
    if title.startswith(NATIONAL_PREFIX) and len(title) > len(NATIONAL_PREFIX) + 1:
        names.append(title[len(NATIONAL_PREFIX):])
    return tuple(names)


def load_document(path: Path) -> SourceDoc:
    text, raw = read_document(path)
    try:
        parsed = parse_regulation(text)
    except ParseError as exc:
        raise SourceError(f"{path.name}: {exc}") from exc
    if not parsed.articles:
        raise SourceError(f"{path.name}: no articles found (expected lines starting with 第一条, 第1条 …)")
    meta = _read_meta(path)
    title = meta.get("title") or parsed.title
    if not title:
        raise SourceError(f"{path.name}: no title found; add a {path.stem}{META_SUFFIX} with a title")
    names = tuple(meta.get("short_names") or ()) or short_names_for(title)
    reg = Regulation(
        id=meta.get("id") or slug(title),
        title=title,
        short_names=names,
        english_names=tuple(meta.get("english_names") or ()),
        region=meta.get("region"),
        issuer=meta.get("issuer"),
        adopted=meta.get("adopted") or parsed.adopted,
        promulgated=meta.get("promulgated") or parsed.promulgated,
        effective=meta.get("effective") or parsed.effective,
        source=path.name,
        checksum=_sha256(raw + _meta_bytes(path)),
        level=meta.get("level"),
        version=meta.get("version") or split_version(path.stem)[1],
    )
    articles = tuple(
        Article(reg.id, reg.title, a.chapter, a.label, a.number, a.sub_number, a.text, tuple(a.paragraphs))
        for a in parsed.articles
    )
    return SourceDoc(reg, articles)


def load_jsonl(path: Path) -> list[SourceDoc]:
    raw = read_bytes(path, MAX_JSONL_BYTES)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name}: article JSONL must be UTF-8 (invalid byte at {exc.start})") from exc
    by_title: dict[str, list[Article]] = {}
    seen: set[tuple[str, int, int]] = set()
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path.name}, line {lineno}: not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("title", "article", "text")):
            raise SourceError(f"{path.name}, line {lineno}: expected an object with string fields "
                              "'title', 'article' and 'text'")
        title, label, body = row["title"].strip().strip("《》"), row["article"].strip(), row["text"].strip()
        m = LABEL_RE.match(label)
        if not m or not title or not body:
            raise SourceError(f"{path.name}, line {lineno}: article label {label!r} is not of the form "
                              "第X条 / 第X条之一, or the title or text is empty")
        number, sub = to_int(m.group(1)), to_int(m.group(2)) if m.group(2) else 0
        if (title, number, sub) in seen:
            raise SourceError(f"{path.name}, line {lineno}: duplicate article {title} {label}")
        seen.add((title, number, sub))
        chapter = row.get("chapter") if isinstance(row.get("chapter"), str) else None
        reg_id = slug(title)
        by_title.setdefault(title, []).append(
            Article(reg_id, title, chapter or None, label, number, sub, body, _spans(body)))
    if not by_title:
        raise SourceError(f"{path.name}: no articles found")
    docs = []
    checksum = _sha256(raw)
    for title, arts in by_title.items():
        arts.sort(key=lambda a: (a.number, a.sub_number))
        reg = Regulation(id=slug(title), title=title, short_names=short_names_for(title),
                         source=path.name, checksum=checksum)
        docs.append(SourceDoc(reg, tuple(arts)))
    return docs


def _spans(body: str) -> tuple[tuple[int, int], ...]:
    """Paragraph spans of verbatim JSONL text: runs of text between newlines."""
    spans, pos = [], 0
    for part in body.split("\n"):
        if part.strip():
            spans.append((pos, pos + len(part)))
        pos += len(part) + 1
    return tuple(spans)


def _meta_path(path: Path) -> Path:
    return path.with_name(path.stem + META_SUFFIX)


def _meta_bytes(path: Path) -> bytes:
    mp = _meta_path(path)
    return mp.read_bytes() if mp.is_file() else b""


def _read_meta(path: Path) -> dict:
    mp = _meta_path(path)
    if not mp.is_file():
        return {}
    try:
        meta = json.loads(read_bytes(mp, MAX_DOCUMENT_BYTES).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{mp.name}: not valid UTF-8 JSON ({exc})") from exc
    if not isinstance(meta, dict) or set(meta) - META_FIELDS:
        raise SourceError(f"{mp.name}: expected an object with fields from {sorted(META_FIELDS)}")
    return meta


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
