"""Chunking: one chunk per article unless too long; spans are verbatim; the prefix is never text."""

from __future__ import annotations

from ingest.chunk import chunk_articles, context_prefix
from ingest.schema import Article


def _article(text: str, chapter: str | None = "第二章 质量发展") -> Article:
    return Article("reg-x", "示例省质量促进条例", chapter, "第七条", 7, 0, text)


def test_short_article_is_one_chunk_with_context_prefix():
    art = _article("企业应当建立质量管理体系。")
    [chunk] = chunk_articles([art])
    assert chunk.text == art.text and (chunk.start, chunk.end) == (0, len(art.text))
    assert chunk.embed_text == "示例省质量促进条例 第二章 质量发展 第七条 企业应当建立质量管理体系。"
    assert context_prefix(_article("x", None)) == "示例省质量促进条例 第七条 "


def test_long_article_splits_on_chinese_punctuation_within_the_article():
    sentences = [f"第{i}项要求是企业应当按照国家标准组织生产并建立完整的质量追溯记录。" for i in range(40)]
    art = _article("".join(sentences))
    chunks = chunk_articles([art], max_chars=200, overlap=20)
    assert len(chunks) > 5
    for c in chunks:
        assert art.text[c.start : c.end] == c.text  # verbatim slice of this article
        assert len(c.text) <= 200
        assert c.text.endswith("。") or c.end == len(art.text)  # cut at a sentence end
        assert c.embed_text.startswith("示例省质量促进条例 第二章 质量发展 第七条 ")
    assert chunks[0].start == 0 and chunks[-1].end == len(art.text)
    covered = set()
    for c in chunks:
        covered.update(range(c.start, c.end))
    assert covered == set(range(len(art.text)))  # nothing of the article is lost


def test_chunks_never_cross_articles():
    a, b = _article("甲" * 500 + "。"), Article("reg-x", "示例省质量促进条例", None, "第八条", 8, 0, "乙。")
    chunks = chunk_articles([a, b], max_chars=200, overlap=0)
    assert {c.article_id for c in chunks} == {a.id, b.id}
    assert all("乙" not in c.text for c in chunks if c.article_id == a.id)
