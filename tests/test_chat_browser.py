"""Follow-ups, comparisons and permalinks in the web page: the real app, index and model, headless Chromium."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from tests.test_app_browser import ANSWER, HUBEI_23, Chat, browser, chat  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures fail with the install command
    expect = None

HANGZHOU = "杭州市质量促进办法"
HUBEI = "湖北省质量促进条例"


def _replies(on: Chat, count: int):
    replies = on.page.locator(ANSWER)
    expect(replies).to_have_count(count, timeout=60_000)
    return replies.nth(count - 1)


def test_follow_up_is_read_with_the_previous_question_and_can_be_searched_alone(chat: Chat) -> None:  # noqa: F811 (the imported fixture)
    chat.ask("首席质量官制度是怎么规定的")
    reply = chat.ask("那杭州呢")
    assert chat.headings(reply)[0] == f"《{HANGZHOU}》第十二条"
    understood = reply.locator(".regqa-understood")
    expect(understood).to_contain_text("理解为")
    expect(understood).to_contain_text(f"{HANGZHOU} · 首席质量官")
    chat.shot("followup-understood.png")
    understood.locator("a.regqa-alone").click()
    alone = _replies(chat, 3)
    expect(chat.page.locator("#regqa-chat .regqa-q").last).to_have_text("那杭州呢")
    expect(alone.locator(".regqa-understood")).to_have_count(0)  # the words as typed, no history
    expect(alone.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")  # they say nothing on their own
    # the conversation continues after it: a complete question starts fresh
    fresh = chat.ask("企业要不要配专门管质量的人？")
    assert chat.headings(fresh)[0] == HUBEI_23
    expect(fresh.locator(".regqa-understood")).to_have_count(0)


def test_next_article_and_an_article_number_follow_the_conversation(chat: Chat) -> None:  # noqa: F811
    chat.ask("湖北条例第二十三条")
    after = chat.ask("下一条")
    assert chat.headings(after)[0] == "《湖北省质量促进条例》第二十四条（第三章 创新驱动）"
    expect(after.locator(".regqa-understood")).to_contain_text("第二十四条")
    number = chat.ask("第十九条呢")
    assert chat.headings(number)[0] == "《湖北省质量促进条例》第十九条（第三章 创新驱动）"


def test_a_comparison_question_shows_the_regulations_side_by_side(chat: Chat) -> None:  # noqa: F811 (the imported fixture)
    reply = chat.ask("compare Hubei and Hangzhou on 首席质量官")
    expect(reply).to_have_class(re.compile("regqa-compare"))
    heads = reply.locator(".regqa-cmp-headrow .regqa-cmp-col")
    expect(heads).to_have_text([HUBEI, HANGZHOU])
    first = reply.locator(".regqa-cmp-row:not(.regqa-cmp-headrow)").first
    cells = first.locator(".regqa-cmp-cell")
    expect(cells.nth(0).locator(".regqa-cite")).to_have_text(f"《{HUBEI}》第三十七条（第五章 保障措施）")
    expect(cells.nth(1).locator(".regqa-cite")).to_have_text(f"《{HANGZHOU}》第十二条")
    expect(cells.nth(1)).to_contain_text("鼓励企业实施首席质量官制度")  # verbatim
    chat.shot("compare-desktop.png")


def test_a_regulation_without_a_matching_article_says_so(chat: Chat) -> None:  # noqa: F811 (the imported fixture)
    # recalls of defective consumer goods are in Hubei's regulation only (in its own words: with the looser
    # 缺陷产品召回, whether Hangzhou's side abstains moves with the calibrated background floor; see README)
    reply = chat.ask("湖北和杭州对缺陷消费品召回的规定有什么不同")
    expect(reply).to_have_class(re.compile("regqa-compare"))
    expect(reply.locator(".regqa-cmp-cell .regqa-cite").first).to_contain_text(f"《{HUBEI}》第四十四条")
    nones = reply.locator(".regqa-cmp-none")
    expect(nones.first).to_have_text("无对应条文 · no matching article")
    assert reply.locator(f".regqa-cmp-cell .regqa-cite:has-text('{HANGZHOU}')").count() == 0
    chat.shot("compare-no-match.png")


def test_compare_from_a_card(chat: Chat) -> None:  # noqa: F811 (the imported fixture)
    chat.ask("湖北条例第二十三条")
    chat.page.locator(ANSWER).nth(0).locator(".regqa-card").first.locator("a.regqa-compare").click()
    reply = _replies(chat, 2)
    expect(reply).to_have_class(re.compile("regqa-compare"))
    cells = reply.locator(".regqa-cmp-row:not(.regqa-cmp-headrow)").first.locator(".regqa-cmp-cell")
    expect(cells.nth(0).locator(".regqa-cite")).to_have_text(HUBEI_23)
    expect(cells.nth(1).locator(".regqa-cite").first).to_have_text(f"《{HANGZHOU}》第十一条")
    expect(chat.page.locator("#regqa-chat .regqa-q").last).to_contain_text("对照 Compare")


def test_question_permalink_opens_the_page_answered(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    try:
        chat = Chat(context.new_page(), f"{app_url}?q={quote('湖北条例第二十三条')}")
        reply = _replies(chat, 1)
        assert chat.headings(reply)[0] == HUBEI_23
        share = reply.locator("a.regqa-share")
        expect(share).to_have_attribute("href", "?q=" + quote("湖北条例第二十三条", safe=""))
        link = reply.locator(".regqa-card").first.locator("a.regqa-link")
        expect(link).to_have_attribute("href", "?a=hubei-23")
        # a regulation filter in the link is applied, and shown in the filter
        chat.page.goto(f"{app_url}?q={quote('首席质量官制度')}&reg=hubei-quality-promotion-2024")
        reply = _replies(chat, 1)
        assert chat.headings(reply)[0].startswith(f"《{HUBEI}》第三十七条")
        expect(chat.page.locator("#regqa-regs")).to_contain_text(HUBEI)
    finally:
        context.close()


def test_markup_in_a_permalink_is_shown_as_text(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    try:
        question = "<script>alert(1)</script><img src=x onerror=alert(2)>"
        chat = Chat(context.new_page(), f"{app_url}?q={quote(question)}")
        _replies(chat, 1)
        expect(chat.page.locator("#regqa-chat .regqa-q").last).to_have_text(question)
        assert chat.page.locator("#regqa-chat img[src='x'], #regqa-chat script").count() == 0
        chat.page.wait_for_timeout(500)
        assert chat.dialogs == []
        chat.page.goto(f"{app_url}?a={quote('<b>nowhere-9</b>')}")
        error = _replies(chat, 1)
        expect(error).to_contain_text("没有这一条")
        expect(error).to_contain_text("<b>nowhere-9</b>")
    finally:
        context.close()


def test_article_permalink_opens_it_in_its_chapter(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    try:
        chat = Chat(context.new_page(), f"{app_url}?a=hubei-23")
        view = _replies(chat, 1)
        expect(view.locator("h3.regqa-cite")).to_have_text(HUBEI_23)
        expect(view.locator(".regqa-ctx-me")).to_contain_text("企业应当保障创新有效投入")
        labels = [t.strip() for t in view.locator(".regqa-ctx-label").all_inner_texts()]
        assert labels == ["第二十条", "第二十一条", "第二十二条", "第二十三条", "第二十四条", "第二十五条",
                          "第二十六条"]
        chat.shot("article-permalink.png")
    finally:
        context.close()


def test_phone_width_comparison_and_follow_up_fit(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        chat = Chat(context.new_page(), app_url)
        reply = chat.ask("湖北和杭州对首席质量官的规定有什么不同")
        expect(reply).to_have_class(re.compile("regqa-compare"))
        cells = reply.locator(".regqa-cmp-row:not(.regqa-cmp-headrow)").first.locator(".regqa-cmp-cell")
        left, right = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
        assert left and right and right["y"] >= left["y"] + left["height"]  # stacked, not squeezed side by side
        expect(cells.nth(1).locator(".regqa-cmp-reg")).to_have_text(HANGZHOU)  # each cell names its regulation
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= 390
        chat.shot("compare-phone.png")
        follow = chat.ask("那杭州呢")
        expect(follow.locator(".regqa-understood")).to_be_visible()
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= 390
        chat.shot("followup-phone.png")
    finally:
        context.close()
