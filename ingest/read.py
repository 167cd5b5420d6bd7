"""Turn a source file's bytes into text: encodings, line ends, .docx and text-layer .pdf.

Every failure is a SourceError that names the file, so a build can stop with one clear message.
"""

from __future__ import annotations

import codecs
import io
from pathlib import Path

from ingest.errors import SourceError

MAX_DOCUMENT_BYTES = 32 * 1024 * 1024  # a regulation is well under 1 MB; 32 MB is not a regulation
TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | {".docx", ".pdf"}


def read_document(path: Path) -> tuple[str, bytes]:
    """Return (text with \\n line ends, raw bytes) for a .txt/.docx/.pdf regulation file."""
    raw = read_bytes(path, MAX_DOCUMENT_BYTES)
    suffix = path.suffix.lower()
    if suffix == ".docx":
        text = _docx_text(path, raw)
    elif suffix == ".pdf":
        text = _pdf_text(path, raw)
    else:
        text = decode_text(path, raw)
    if not text.strip():  # also blank lines of full-width spaces, or a .docx without text
        raise SourceError(f"{path.name}: the file is empty")
    return normalise_newlines(text), raw


def read_bytes(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise SourceError(f"{path.name}: {size / 1e6:.1f} MB is larger than the {limit // 2**20} MB "
                              "limit for one source file")
        return path.read_bytes()
    except OSError as exc:
        raise SourceError(f"{path.name}: cannot be read ({exc.strerror or exc})") from exc


def decode_text(path: Path, raw: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, or GB18030/GBK; anything else is refused."""
    if not raw.strip():
        raise SourceError(f"{path.name}: the file is empty")
    if raw.startswith(codecs.BOM_UTF8):
        return _strict(path, raw[3:], "utf-8")
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(path, raw, "utf-16")
    if _looks_like_utf16_without_bom(raw):
        return _strict(path, raw, "utf-16-le" if raw[1::2].count(0) > raw[0::2].count(0) else "utf-16-be")
    if b"\x00" in raw:
        raise SourceError(f"{path.name}: this is a binary file, not text (expected UTF-8, GB18030 or UTF-16 "
                          "text, .docx, .pdf or article JSONL)")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            if encoding == "utf-8" and (line := _first_non_utf8_line(raw)):
                raise SourceError(f"{path.name}: mixed encodings: line {line} is not UTF-8 but other lines "
                                  "are; save the whole file in one encoding (UTF-8)") from None
            continue
        if _control_ratio(text) < 0.01:
            return text
    raise SourceError(f"{path.name}: not readable as UTF-8, GB18030/GBK or UTF-16 text")


def _first_non_utf8_line(raw: bytes) -> int | None:
    """In a file whose Chinese lines are UTF-8 except some (pasted GBK, a stray byte), the first bad line.

    A GBK line of four or more Chinese characters practically never decodes as UTF-8 Chinese, so such
    lines prove the file was meant to be UTF-8; decoding all of it as GB18030 would garble them.
    """
    first_bad, utf8_lines = None, 0
    for n, line in enumerate(raw.split(b"\n"), 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            first_bad = first_bad or n
            continue
        utf8_lines += sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") >= 4
    return first_bad if utf8_lines else None


def _strict(path: Path, raw: bytes, encoding: str) -> str:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path.name}: invalid {encoding} text at byte {exc.start}") from exc
    return text.lstrip("\ufeff")


def _looks_like_utf16_without_bom(raw: bytes) -> bool:
    # ASCII-heavy UTF-16 has a zero in every other byte; CJK UTF-16 rarely decodes as UTF-8.
    sample = raw[:4096]
    if len(sample) < 4 or len(sample) % 2:
        return False
    zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
    return max(zeros_even, zeros_odd) > len(sample) // 4 and min(zeros_even, zeros_odd) == 0


def _control_ratio(text: str) -> float:
    bad = sum(1 for ch in text[:20000] if ord(ch) < 32 and ch not in "\r\n\t\f\v")
    return bad / max(1, min(len(text), 20000))


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def _docx_text(path: Path, raw: bytes) -> str:
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several unrelated types for a damaged file
        raise SourceError(f"{path.name}: not a readable .docx file ({type(exc).__name__})") from exc
    return "\n".join(p.text for p in document.paragraphs)


def _pdf_text(path: Path, raw: bytes) -> str:
    try:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(raw))
        # A blank line between pages: the parser repairs a sentence split by a page break.
        text = "\n\n".join((page.extract_text() or "") for page in reader.pages)
        # Some producers' ToUnicode maps yield a NUL before every character; NUL is never text.
        text = text.replace("\x00", "")
    except Exception as exc:  # pypdf raises many types for damaged files
        raise SourceError(f"{path.name}: not a readable .pdf file ({type(exc).__name__})") from exc
    if not text.strip():
        raise SourceError(f"{path.name}: the PDF has no text layer (scanned pages are not supported)")
    return text
