"""The chat's HTML (retrieval/web/cards.py): verbatim text, every piece escaped, no model needed."""

from __future__ import annotations

from ingest.schema import Article
from retrieval.results import Result, SearchResponse
from retrieval.web import cards

SCRIPT = "<script>alert(1)</script>"


def _result(title: str = "示例条例", text: str = "第一句。第二句。", chapter: str | None = None) -> Result:
    """A result whose matched sentence is the one starting with 第二句."""
    article = Article("reg", title, chapter, "第三条", 3, 0, text)
    return Result(article, 0.5, ("dense",), text.index("第二句"), len(text))


def test_the_question_is_shown_as_typed_and_never_runs():
    html = cards.user_message(f"{SCRIPT} **质量**")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; **质量**" in html


def test_article_text_and_citation_are_escaped():
    r = _result(title=f"{SCRIPT}条例", text=f"正文{SCRIPT}。第二句。", chapter=f"第一章 {SCRIPT}")
    html = cards.card(1, r, neighbours=[r.article], related=[r])
    assert "<script>" not in html
    assert html.count("&lt;script&gt;") >= 4  # citation heading, text, context and related copies
    assert "《&lt;script&gt;alert(1)&lt;/script&gt;条例》第三条" in html


def test_the_matched_sentence_is_marked_and_query_words_are_underlined():
    r = _result(text="第一句。第二句讲质量。")
    mask = cards.word_mask(r.article.text, ["质量"])
    html = cards.card(1, r, mask)
    assert '<mark class="regqa-hit">第二句讲<strong class="regqa-word">质量</strong>。</mark>' in html


def test_line_breaks_become_br_without_a_blank_line():
    assert cards.esc("a\n\nb\r\nc") == "a<br>b<br>c"


def test_an_abstained_answer_says_so_and_folds_the_nearest():
    html = cards.answer(SearchResponse("问题", True, ()), ["<div>card</div>"])
    assert cards.NO_ANSWER in html and "<details" in html and "<div>card</div>" in html
