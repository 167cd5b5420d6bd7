"""Gather the regulations of a build from its source files: every version kept, a law in several files joined, and
every document that is not taken named with its reason.

- Folders are read recursively. A folder holding a library database (`db.sqlite3`, LawRefBook/Laws) is a library:
  only its Markdown documents are sources (its scripts and requirements.txt are not).
- A library document (Markdown with `<!-- INFO END -->`) that cannot be read, has no articles (an amending law, a
  decision, a court case, a category page `_index.md`) or repeats another is skipped and named in the build's
  summary with its reason; it never fails the build. Any other source document that cannot be read fails the
  build with a message naming it, as before.
- One regulation is one (title, version): versions of one title (`计量法实施细则(2018-03-19).md`,
  `…(2022-03-29).md`) are separate regulations with their own ids. Files with the same title and version that
  each carry a part heading (民法典's 8 编) are one regulation, numbered through.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import SourceError
from ingest.library_meta import DATABASE, document_meta
from ingest.markdown import INFO_END, ParsedMarkdown, parse_markdown
from ingest.parse import ParseError
from ingest.read import read_document
from ingest.schema import Article, Regulation
from ingest.sources import SourceDoc, _is_source, load_source, short_names_for, slug

log = logging.getLogger(__name__)

LIBRARY_SUFFIX = ".md"
CASE_LEVEL = "案例"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    name: str  # as the index records it: the path below the folder given (the file name for a file given)
    library: bool = False  # inside a library folder (one with db.sqlite3): read as library Markdown


@dataclass(frozen=True)
class Skipped:
    source: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"source": self.source, "reason": self.reason}


@dataclass(frozen=True)
class Collection:
    regulations: list[Regulation]
    articles: list[Article]
    documents: int  # source documents read (a JSONL file counts once)
    skipped: list[Skipped]


@dataclass(frozen=True)
class _LibraryDoc:
    source: SourceFile
    parsed: ParsedMarkdown
    raw: bytes
    level: str | None
    region: str | None
    version: str | None
    promulgated: str | None
    effective: str | None
    expired: bool | None = None


def discover_sources(paths: Iterable[Path]) -> list[SourceFile]:
    """Expand folders (recursively) into their source files, sorted by name within each, so builds are
    reproducible."""
    found: list[SourceFile] = []
    paths = list(paths)
    for p in paths:
        if p.is_dir():
            root = library_root(p)
            files = sorted(f for f in p.rglob("*") if f.is_file() and not _hidden(f.relative_to(p)))
            for f in files:
                if root is not None and f.suffix.lower() != LIBRARY_SUFFIX:
                    continue
                if _is_source(f):
                    found.append(SourceFile(f, (f.resolve().relative_to(root) if root else f.relative_to(p))
                                            .as_posix(), root is not None))
        elif p.is_file():
            root = library_root(p) if p.suffix.lower() == LIBRARY_SUFFIX else None
            found.append(SourceFile(p, p.resolve().relative_to(root).as_posix() if root else p.name, root is not None))
        else:
            raise SourceError(f"{p}: no such file or folder")
    if not found:
        raise SourceError("no source documents found in " + ", ".join(str(p) for p in paths))
    return found


def library_root(path: Path) -> Path | None:
    """The library a path is in: the topmost folder at or above it that holds a library database (so that a
    province's folder, which has its own, is named from the library's root: DLC/浙江地方法规/…)."""
    root = None
    for folder in (path.resolve(), *path.resolve().parents):
        if (folder / DATABASE).is_file():
            root = folder
    return root


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def collect(files: list[SourceFile]) -> Collection:
    """Read every source file into regulations and articles (see the module's notes)."""
    skipped: list[Skipped] = []
    plain: list[tuple[SourceFile, SourceDoc]] = []
    library: list[_LibraryDoc] = []
    documents = 0
    for f in files:
        documents += 1
        if f.path.suffix.lower() == LIBRARY_SUFFIX:
            doc = _read_library(f, skipped)
            if doc is not False:
                if doc is not None:
                    library.append(doc)
                continue
        plain.extend((f, d) for d in load_source(f.path))

    regulations: list[Regulation] = []
    articles: list[Article] = []
    seen: dict[tuple[str, str | None], str] = {}
    for f, doc in plain:
        key = (doc.regulation.title, doc.regulation.version)
        if key in seen:
            raise SourceError(f"{f.name}: the regulation {doc.regulation.title} is also in {seen[key]}")
        seen[key] = f.name
        reg = doc.regulation if doc.regulation.source == f.name else _with_source(doc.regulation, f.name)
        regulations.append(reg)
        articles.extend(doc.articles)
    for reg, arts in _library_regulations(library, seen, skipped):
        regulations.append(reg)
        articles.extend(arts)
    ids = [r.id for r in regulations]
    if len(set(ids)) != len(ids):
        raise SourceError("two source documents declare the same regulation id")
    for s in skipped:
        log.info("skipped %s: %s", s.source, s.reason)
    return Collection(regulations, articles, documents, skipped)


def _with_source(reg: Regulation, name: str) -> Regulation:
    from dataclasses import replace

    return replace(reg, source=name)


def _read_library(f: SourceFile, skipped: list[Skipped]) -> _LibraryDoc | bool | None:
    """A library document, or None (skipped, with its reason recorded), or False (not library Markdown: read it
    as plain text)."""
    try:
        text, raw = read_document(f.path)
    except SourceError as exc:
        skipped.append(Skipped(f.name, _reason(str(exc), f.path)))
        return None
    if not f.library and INFO_END not in text:
        return False
    try:
        parsed = parse_markdown(text)
        meta = document_meta(f.path, parsed.title)
    except ValueError as exc:  # ParseError, or a date or numeral the parser could not read: this file only
        skipped.append(Skipped(f.name, str(exc) if isinstance(exc, ParseError) else f"cannot be read ({exc})"))
        return None
    if meta.level == CASE_LEVEL:  # a case quotes articles of laws; it is not one
        skipped.append(Skipped(f.name, "a court case (案例), not a regulation"))
        return None
    if not parsed.articles:
        skipped.append(Skipped(f.name, _no_articles(parsed)))
        return None
    return _LibraryDoc(f, parsed, raw, meta.level, meta.region, meta.version,
                       parsed.promulgated or meta.promulgated,
                       parsed.effective or meta.effective or parsed.effective_stated, meta.expired)


def _reason(message: str, path: Path) -> str:
    prefix = f"{path.name}: "
    return message[len(prefix):] if message.startswith(prefix) else message


def _no_articles(parsed: ParsedMarkdown) -> str:
    title = parsed.title
    if "修正案" in title:
        kind = "an amending law (its changes are numbered items)"
    elif title.endswith(("决定", "决议")):
        kind = "a decision or resolution (numbered items or prose)"
    else:
        kind = "a document"
    return f"no articles (第X条): {kind}, not a regulation with articles"


def _library_regulations(docs: list[_LibraryDoc], seen: dict[tuple[str, str | None], str],
                         skipped: list[Skipped]) -> list[tuple[Regulation, list[Article]]]:
    groups: dict[tuple[str, str | None], list[_LibraryDoc]] = {}
    for d in docs:
        groups.setdefault((d.parsed.title, d.version), []).append(d)
    out = []
    for key, group in groups.items():
        if key in seen:
            for d in group:
                skipped.append(Skipped(d.source.name, f"the same regulation and version as {seen[key]}"))
            continue
        kept = _join_parts(group, skipped) if all(d.parsed.part for d in group) and len(group) > 1 else None
        if kept is None:
            first, rest = group[0], group[1:]
            for d in rest:
                same = [a.text for a in d.parsed.articles] == [a.text for a in first.parsed.articles]
                what = "the same text" if same else "a different text"
                skipped.append(Skipped(d.source.name, f"a duplicate of {first.source.name} (same title and version, "
                                                      f"{what})"))
            kept = [first]
        seen[key] = kept[0].source.name
        out.append(_regulation(kept))
    return out


def _join_parts(group: list[_LibraryDoc], skipped: list[Skipped]) -> list[_LibraryDoc] | None:
    """The files of one law split into parts, in article order; None when their articles overlap (then they are
    not parts of one law)."""
    ordered = sorted(group, key=lambda d: (d.parsed.articles[0].number, d.parsed.articles[0].sub_number))
    for a, b in itertools.pairwise(ordered):
        last, first = a.parsed.articles[-1], b.parsed.articles[0]
        if (first.number, first.sub_number) <= (last.number, last.sub_number):
            return None
    return ordered


def _regulation(parts: list[_LibraryDoc]) -> tuple[Regulation, list[Article]]:
    head = parts[0]
    title, version = head.parsed.title, head.version
    reg_id = slug(title if version is None else f"{title}@{version}")
    checksum = hashlib.sha256(b"".join(hashlib.sha256(d.raw).digest() for d in parts)).hexdigest()
    reg = Regulation(
        id=reg_id,
        title=title,
        short_names=short_names_for(title),
        region=head.region,
        adopted=next((d.parsed.adopted for d in parts if d.parsed.adopted), None),
        promulgated=next((d.promulgated for d in parts if d.promulgated), None),
        effective=next((d.effective for d in parts if d.effective), None),
        source="; ".join(d.source.name for d in parts),
        checksum=checksum,
        level=head.level,
        version=version,
        expired=head.expired,
    )
    articles = [Article(reg_id, title, a.chapter, a.label, a.number, a.sub_number, a.text, tuple(a.paragraphs))
                for d in parts for a in d.parsed.articles]
    return reg, articles
