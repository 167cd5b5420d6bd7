"""Articles into chunks: one per article; a long article is split on Chinese sentence punctuation.

A chunk never crosses an article. Its embedded text carries a context prefix (regulation title, chapter,
article label) that helps the model and is never shown as article text.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from ingest.schema import Article, Chunk

# Chinese first: paragraph, sentence, clause, then commas; whitespace and characters last.
SEPARATORS = ["\n\n", "\n", "。", "；", ";", "！", "？", "：", "，", ",", "、", " ", ""]
DEFAULT_MAX_CHARS = 380  # ≈ 450 model tokens for Chinese legal text with the prefix; under e5's 512
DEFAULT_OVERLAP = 40


def context_prefix(article: Article) -> str:
    parts = [article.regulation_title]
    if article.chapter:
        parts.append(article.chapter)
    parts.append(article.label)
    return " ".join(parts) + " "


def chunk_articles(
    articles: list[Article],
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap: int = DEFAULT_OVERLAP,
    length: Callable[[str], int] = len,
) -> list[Chunk]:
    splitter = RecursiveCharacterTextSplitter(
        separators=SEPARATORS, chunk_size=max_chars, chunk_overlap=overlap, length_function=length,
        keep_separator="end", add_start_index=True, strip_whitespace=False,
    )
    chunks: list[Chunk] = []
    for art in articles:
        prefix = context_prefix(art)
        if length(art.text) <= max_chars:
            chunks.append(Chunk(art.id, 0, len(art.text), art.text, prefix + art.text))
            continue
        for doc in splitter.create_documents([art.text]):
            start = int(doc.metadata["start_index"])
            piece = doc.page_content
            if not piece.strip():
                continue
            chunks.append(Chunk(art.id, start, start + len(piece), piece, prefix + piece))
    return chunks
