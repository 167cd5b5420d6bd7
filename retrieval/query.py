"""Check and clean a question before it is searched."""

from __future__ import annotations

import re
import unicodedata

from ingest.errors import QueryError, QueryTooLong

MAX_QUERY_CHARS = 1000  # a question, not a document; longer input is refused with a clear message
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def clean_query(text: object, max_chars: int = MAX_QUERY_CHARS) -> str:
    """Return the question with control characters and lone surrogates removed and spaces collapsed.

    Raises QueryError for non-text, empty, or over-long input.
    """
    if not isinstance(text, str):
        raise QueryError("请输入文字问题 (the question must be text)")
    if len(text) > max_chars:
        raise QueryTooLong(f"问题太长：最多 {max_chars} 个字符，当前 {len(text)} 个 "
                           f"(question too long: at most {max_chars} characters)")
    # Lone surrogates cannot be encoded or shown; drop them like control characters.
    text = text.encode("utf-8", "ignore").decode("utf-8") if _has_surrogate(text) else text
    text = _CONTROL_RE.sub(" ", text)
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()
    if not text or not any(ch.isalnum() for ch in text):
        raise QueryError("请输入问题，例如“企业要不要配专门管质量的人？” (please type a question)")
    return text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)
