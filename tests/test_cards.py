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


# -- exact output: what the chat shows, piece by piece ----------------------------------------------------
COPY = '<button type="button" class="regqa-copy" title="复制引用 Copy citation">复制引用 Copy</button>'


def test_escaping_covers_quotes_for_attributes():
    assert cards.esc("\"a\" & 'b' <c>") == "&quot;a&quot; &amp; &#x27;b&#x27; &lt;c&gt;"


def test_a_long_question_is_echoed_up_to_the_limit_with_its_length():
    exact = "质" * cards.MAX_ECHO
    assert cards.user_message(exact) == f'<div class="regqa-q">{exact}</div>'
    longer = exact + "量"
    assert cards.user_message(longer) == (f'<div class="regqa-q">{exact}…（共 {cards.MAX_ECHO + 1} 字 / '
                                          f'{cards.MAX_ECHO + 1} chars）</div>')


def test_an_error_message_is_an_escaped_alert():
    assert cards.error_message("k <b>") == '<div class="regqa-error" role="alert">⚠️ k &lt;b&gt;</div>'


def test_word_mask_marks_every_occurrence_of_words_of_two_characters_or_more():
    text = "质量质量，ISO质量"
    mask = cards.word_mask(text, ["质量", "iso", "量"])  # folded: ISO matches iso; single characters are not marked
    assert "".join("x" if m else "." for m in mask) == "xxxx.xxxxx"
    assert cards.word_mask("质量第一", ["第一"]) == [False, False, True, True]  # at the end
    assert cards.word_mask("量质量", ["质量"]) == [False, True, True]
    assert cards.word_mask("ＩＳＯ", ["iso"]) == [True, True, True]  # full-width folds to half-width


def test_word_mask_folds_traditional_text_and_ignores_a_conversion_that_changes_the_length():
    assert cards.word_mask("質量", ["质量"], lambda s: s.replace("質", "质")) == [True, True]
    assert cards.word_mask("質量", ["质量"]) == [False, False]
    assert cards.word_mask("質量", ["质量"], lambda s: s + "!") == [False, False]


def test_highlight_marks_the_span_and_the_words_inside_and_outside_it():
    mask = [True, False, False, True, True, False]
    assert cards.highlight("ABCDEF", (2, 4), mask) == (
        '<strong class="regqa-word">A</strong>B<mark class="regqa-hit">C<strong class="regqa-word">D</strong>'
        '</mark><strong class="regqa-word">E</strong>F')
    assert cards.highlight("ABC", (0, 3)) == '<mark class="regqa-hit">ABC</mark>'
    assert cards.highlight("ABC", (1, 99)) == 'A<mark class="regqa-hit">BC</mark>'  # clipped to the text
    assert cards.highlight("AB<", None, [True]) == "AB&lt;"  # no span; a mask of the wrong length is ignored
    assert cards.highlight("ABC", (2, 2)) == cards.highlight("ABC", (3, 1)) == "ABC"  # empty span: nothing marked


def test_relevance_says_how_the_article_was_found():
    article = Article("reg", "示例条例", None, "第三条", 3, 0, "正文。")
    by = {f: cards._relevance(Result(article, 0.25, f, 0, 1)) for f in
          (("reference",), ("reference", "dense", "lexical"), ("dense", "other"))}
    assert by == {("reference",): "条号直接命中 exact article reference",
                  ("reference", "dense", "lexical"):
                      "条号直接命中 exact article reference · 语义 meaning + 关键词 words",
                  ("dense", "other"): "相关度 relevance 0.250 · 语义 meaning + other"}


def test_a_card_with_its_context_and_related_articles():
    a = Article("reg", "示例条例", "第二章 发展", "第三条", 3, 0, "第一句。第二句讲质量。")
    b = Article("reg", "示例条例", "第二章 发展", "第四条", 4, 0, "下一条。")
    related = Result(Article("m", "示例办法", None, "第2条", 2, 0, "相关<b>。"), 0.4, ("dense",), 0, 3)
    html = cards.card(2, Result(a, 0.51234, ("dense", "lexical"), 4, 11), cards.word_mask(a.text, ["质量", "第二"]),
                      [a, b], [related])
    assert html == (
        '<div class="regqa-card"><div class="regqa-head"><span class="regqa-rank">2</span>'
        f'<h3 class="regqa-cite">《示例条例》第三条（第二章 发展）</h3>{COPY}</div>'
        '<div class="regqa-meta">相关度 relevance 0.512 · 语义 meaning + 关键词 words</div>'
        '<pre class="regqa-data regqa-aid" hidden>reg#3-0</pre>'
        '<div class="regqa-text regqa-body">第一句。<mark class="regqa-hit">'
        '<strong class="regqa-word">第二</strong>句讲'
        '<strong class="regqa-word">质量</strong>。</mark></div>'
        '<details class="regqa-ctx"><summary>阅读上下文 Read in context（第二章 发展）</summary>'
        '<div class="regqa-note">《示例条例》在索引中的前后条文 (neighbouring articles held in the index)</div>'
        '<div class="regqa-ctx-art regqa-ctx-me"><span class="regqa-ctx-label">第三条</span> '
        '第一句。第二句讲质量。</div>'
        '<div class="regqa-ctx-art"><span class="regqa-ctx-label">第四条</span> 下一条。</div></details>'
        '<details class="regqa-rel"><summary>其他法规中的相近条文 Similar articles in other regulations (1)</summary>'
        '<div class="regqa-rel-art"><div class="regqa-rel-head"><span class="regqa-cite">《示例办法》第2条</span> '
        f'<span class="regqa-meta">相似度 similarity 0.400</span> {COPY}</div>'
        '<div class="regqa-text">相关&lt;b&gt;。</div></div></details>'
        '<div class="regqa-feedback">这条回答了问题吗？<span lang="en">Did this answer it?</span> '
        '<span class="regqa-votes">'
        '<button type="button" class="regqa-vote regqa-up" title="👍 是 Yes">👍 是 Yes</button>'
        '<button type="button" class="regqa-vote regqa-down" title="👎 否 No">👎 否 No</button></span></div></div>')
    plain = cards.card(1, Result(related.article, 0.4, ("dense",), 0, 3))
    assert "regqa-ctx" not in plain and "regqa-rel" not in plain  # no neighbours, no related: no sections


def test_the_context_of_an_article_without_a_chapter():
    a = Article("m", "示例办法", None, "第2条", 2, 0, "正文。")
    assert "<summary>阅读上下文 Read in context</summary>" in cards.card(1, Result(a, 0.4, ("dense",), 0, 3), None, [a])


def test_an_answer_lists_the_cards_with_the_message():
    html = cards.answer(SearchResponse("q", False, (), message="只找到<1>条"), ["<div>c1</div>", "<div>c2</div>"])
    assert html == ('<div class="regqa-answer"><p class="regqa-summary">最相关的 2 条条文（原文，未改写）'
                    '· <span lang="en">top 2 articles, verbatim</span></p><p class="regqa-note">只找到&lt;1&gt;条</p>'
                    '<div>c1</div><div>c2</div></div>')
    assert 'class="regqa-note"' not in cards.answer(SearchResponse("q", False, ()), ["<div>c1</div>"])


def test_no_answer_without_nearest_articles_says_so_and_why():
    html = cards.answer(SearchResponse("q", True, (), message="没有第9条"), [])
    assert html == ('<div class="regqa-answer regqa-abstained"><p class="regqa-none">'
                    '<strong>未找到直接相关的条文</strong>'
                    '（<span lang="en">No article in the index answers this directly.</span>）'
                    '可以换个说法。Try other words.</p>'
                    '<p class="regqa-note">没有第9条</p></div>')
    assert "Show the 2 nearest articles" in cards.answer(SearchResponse("q", True, ()), ["<i>1</i>", "<i>2</i>"])


def test_the_reply_tools_come_last_and_a_no_answer_gets_its_own_votes():
    answered = cards.answer(SearchResponse("q", False, ()), ["<div>c1</div>"], "<i>tools</i>")
    assert answered.endswith("<div>c1</div><i>tools</i></div>") and "regqa-feedback-none" not in answered
    none = cards.answer(SearchResponse("q", True, (), message="m"), [], "<i>tools</i>")
    assert none.endswith('<p class="regqa-note">m</p><i>tools</i></div>')
    assert none.count('class="regqa-vote') == 2 and "👎 这个问题应该有答案 It should have one" in none
    assert "regqa-vote" not in cards.answer(SearchResponse("q", True, ()), [])  # no tools: no votes either


def test_word_mask_overlapping_occurrences_and_single_characters():
    assert cards.word_mask("质质质", ["质质"]) == [True, True, True]
    assert cards.word_mask("产量", ["质量", "量"]) == [False, False]


def test_sections_join_without_anything_between_them():
    a = Article("m", "示例办法", None, "第2条", 2, 0, "正文。")
    plain = cards.card(1, Result(a, 0.4, ("dense",), 0, 3))
    assert '正文。</mark></div><div class="regqa-feedback">' in plain  # no context, no related: nothing between
    two = cards.card(1, Result(a, 0.4, ("dense",), 0, 3), None, (), [Result(a, 0.3, ("dense",), 0, 3)] * 2)
    assert '正文。</div></div><div class="regqa-rel-art">' in two
    assert cards.answer(SearchResponse("q", False, ()), ["<div>c1</div>"]) == (
        '<div class="regqa-answer"><p class="regqa-summary">最相关的 1 条条文（原文，未改写）'
        '· <span lang="en">top 1 articles, verbatim</span></p><div>c1</div></div>')
    assert "<i>1</i><i>2</i></details>" in cards.answer(SearchResponse("q", True, ()), ["<i>1</i>", "<i>2</i>"])


def test_reply_tools_exactly():
    article = Article("reg", "示例条例", None, "第三条", 3, 0, "正文。")
    response = SearchResponse("q\r\n\"x\"", False, (Result(article, 0.5, ("dense",), 0, 3),))
    tools = cards.reply_tools(response, "b1", "d")
    assert tools.startswith('<pre class="regqa-data regqa-question" hidden>q&#13;&#10;&quot;x&quot;</pre>')
    assert '<pre class="regqa-data regqa-cites" hidden>《示例条例》第三条</pre>' in tools
    assert tools.endswith(
        '<div class="regqa-tools"><button type="button" class="regqa-download" title="下载 Markdown Download">'
        '下载 Markdown Download</button><button type="button" class="regqa-copy-all" '
        'title="复制全部引用 Copy all citations">复制全部引用 Copy all citations</button></div>')
    none = cards.answer(SearchResponse("q", True, ()), [], "<i>t</i>")
    assert ('<div class="regqa-feedback regqa-feedback-none"><button type="button" class="regqa-vote regqa-down" '
            'title="这个问题应该有答案 It should have one">👎 这个问题应该有答案 It should have one</button>'
            '<button type="button" class="regqa-vote regqa-up" title="确实没有 Indeed none">👍 确实没有 Indeed none'
            '</button></div>') in none
    assert cards.reply_tools(SearchResponse("q", True, ()), "b1", "d").endswith("</pre>")  # no results: no buttons


def test_an_article_opened_by_its_link_among_its_neighbours():
    a = Article("reg", "示例条例", "第二章 发展", "第三条", 3, 0, "甲<乙>。")
    b = Article("reg", "示例条例", "第二章 发展", "第四条", 4, 0, "丙。")
    assert cards.article_view(a, [a, b], "<i>acts</i>") == (
        '<div class="regqa-answer regqa-article"><div class="regqa-card"><div class="regqa-head">'
        f'<h3 class="regqa-cite">《示例条例》第三条（第二章 发展）</h3>{COPY}</div>'
        '<div class="regqa-meta">条文及其上下文 the article in context<i>acts</i></div>'
        '<div class="regqa-note">《示例条例》（第二章 发展）</div>'
        '<div class="regqa-ctx-art regqa-ctx-me"><span class="regqa-ctx-label">第三条</span> 甲&lt;乙&gt;。</div>'
        '<div class="regqa-ctx-art"><span class="regqa-ctx-label">第四条</span> 丙。</div></div></div>')
    alone = cards.article_view(Article("m", "示例办法", None, "第2条", 2, 0, "丁。"), [])
    assert alone.endswith('<div class="regqa-note">《示例办法》</div><div class="regqa-ctx-art regqa-ctx-me">'
                          '<span class="regqa-ctx-label">第2条</span> 丁。</div></div></div>')  # no neighbours: itself


def test_articles_that_only_touch_the_question_are_said_to_be_related_above_the_cards():
    reason = "条文涉及该事项，但未规定所问的期限 · the articles touch the subject but do not state the time limit"
    related = SearchResponse("投诉后多少天内处理？", False, (_result(),), answer="related", reason=reason)
    html = cards.answer(related, ["<div>card</div>"])
    assert html.index("regqa-related") < html.index("<div>card</div>")
    assert "未规定所问的期限" in html and NO_ANSWER_TEXT not in html
    direct = cards.answer(SearchResponse("问题", False, (_result(),)), ["<div>card</div>"])
    assert "regqa-related" not in direct


NO_ANSWER_TEXT = cards.NO_ANSWER
