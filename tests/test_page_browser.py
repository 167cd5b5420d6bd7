"""The page as a demanding new user finds it (issue 22), at 1366×900 and 390×844 in Chromium: the real app, index
and model. Each test runs at both widths and saves screenshots under test-output/screenshots/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_app_browser import ANSWER, HUBEI_23, Chat, browser  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then fails with the install command
    expect = None

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
TABS = ["检索 Search", "核对引用 Check citations", "法规 Laws", "说明 About"]
HUBEI = "湖北省质量促进条例"
HANGZHOU = "杭州市质量促进办法"

# WCAG contrast of an element's text: its computed colour over the first opaque background behind it (white
# when none), alpha blended. `pseudo` reads a pseudo-element's colour (::placeholder).
CONTRAST_JS = """([el, pseudo]) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  let bg = [255, 255, 255, 1];
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c[3] > 0.99) { bg = c; break; }
  }
  let fg = parse(getComputedStyle(el, pseudo || null).color);
  fg = [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const lum = (c) => { const v = c.slice(0, 3).map((x) => { x /= 255;
    return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""


class Page(Chat):
    def __init__(self, page, url: str, width: str) -> None:
        super().__init__(page, url)
        self.width = width

    def shot(self, name: str) -> Path:
        return super().shot(f"{Path(name).stem}-{self.width}.png")

    def tab(self, name: str) -> None:
        tab = self.page.get_by_role("tab", name=name)
        expect(tab).to_be_visible()
        tab.click()
        expect(tab).to_have_attribute("aria-selected", "true")

    def scroll_width(self) -> int:
        return self.page.evaluate("document.scrollingElement.scrollWidth")

    def contrast(self, locator, pseudo: str | None = None) -> float:
        return locator.evaluate(CONTRAST_JS.replace("([el, pseudo])", "(el, pseudo)"), pseudo)


def _context(browser, width: str):  # noqa: F811 (the imported fixture)
    w, h = WIDTHS[width]
    phone = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True} if width == "phone" else {}
    return browser.new_context(viewport={"width": w, "height": h}, locale="zh-CN", accept_downloads=True,
                               permissions=["clipboard-read", "clipboard-write"], **phone)


@pytest.fixture(params=list(WIDTHS))
def at(request, browser, app_url: str) -> Iterator[Page]:  # noqa: F811
    context = _context(browser, request.param)
    try:
        yield Page(context.new_page(), app_url, request.param)
    finally:
        context.close()


def _visible_cards(reply):
    return reply.locator(":scope > .regqa-card")


# -- item 2: every way of clearing the chat clears the conversation ------------------------------------------------
def test_the_chats_own_clear_icon_forgets_the_conversation(at: Page) -> None:
    at.ask("首席质量官制度是怎么规定的")
    icon = at.page.locator("#regqa-chat button.icon-button").filter(
        has=at.page.locator("xpath=self::*[contains(@title, '清空') or contains(@title, 'Clear')]"))
    expect(icon).to_have_count(1)
    icon.click()
    expect(at.page.locator(ANSWER)).to_have_count(0)
    reply = at.ask("那杭州呢")
    expect(reply.locator(".regqa-understood")).to_have_count(0)  # read alone: the old conversation is gone
    expect(reply.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")
    at.shot("cleared-by-icon.png")


# -- item 3: phone width, nothing sideways, every tab by its name --------------------------------------------------
def test_every_tab_is_named_and_nothing_scrolls_sideways(at: Page) -> None:
    width = WIDTHS[at.width][0]
    for name in TABS:
        expect(at.page.get_by_role("tab", name=name)).to_be_visible()
    assert at.page.locator(".overflow-menu button:visible").count() == 0  # no unlabelled "⋯"
    for name in [*TABS[1:], TABS[0]]:
        at.tab(name)
        at.page.wait_for_timeout(300)
        assert at.scroll_width() <= width, name
        at.shot(f"tab-{name.split()[1].lower()}.png")
    at.tab("法规 Laws")
    expect(at.page.locator("#regqa-table")).to_contain_text(HUBEI)
    header = at.page.locator("#regqa-table th").filter(has_text="Articles").first
    assert "mono" not in header.evaluate("e => getComputedStyle(e).fontFamily").lower()
    assert header.evaluate("e => getComputedStyle(e).wordBreak") == "keep-all"  # no "Arti cles"
    title = at.page.locator("#regqa-intro h2")
    box = title.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width  # the title is not cut off
    assert at.scroll_width() <= width


# -- item 4: contrast and language --------------------------------------------------------------------------------
def test_small_text_has_aa_contrast_and_the_page_says_it_is_chinese(at: Page) -> None:
    assert at.page.evaluate("document.documentElement.lang") == "zh-CN"
    assert at.contrast(at.box, "::placeholder") >= 4.5
    reply = at.ask("企业要不要配专门管质量的人？")
    card = reply.locator(".regqa-card").first
    meta = card.locator(":scope > .regqa-meta")  # the relevance line
    for what in (meta, card.locator(".regqa-feedback"), reply.locator(".regqa-summary")):
        assert at.contrast(what) >= 4.5, what
    assert reply.locator("[lang='en']").count() >= 1  # the English parts are marked as such
    at.tab("核对引用 Check citations")
    at.page.locator("#regqa-ck-example").click()
    at.page.locator("#regqa-ck-run").click()
    msgs = at.page.locator("#regqa-ck-result .regqa-ck-msg")
    expect(msgs).to_have_count(4, timeout=60_000)
    for i in range(4):
        assert at.contrast(msgs.nth(i)) >= 4.5
    at.shot("contrast-check.png")


# -- item 5: filler cards -----------------------------------------------------------------------------------------
def test_only_articles_near_the_best_are_in_view_and_no_bare_effective_date(at: Page) -> None:
    reply = at.ask("首席质量官制度")
    shown = _visible_cards(reply)
    expect(shown).to_have_count(2)  # 杭州第十二条 1.000, 湖北第三十七条 0.62; 第三条 (0.29) under "more"
    expect(shown.first.locator("h3.regqa-cite")).to_have_text(f"《{HANGZHOU}》第十二条")
    more = reply.locator("details.regqa-more")
    expect(more.locator(":scope > summary")).to_contain_text("更多 1 条")
    expect(more.locator(".regqa-card h3").first).to_be_hidden()
    expect(reply.locator(".regqa-summary")).to_contain_text("最相关的 2 条")
    at.shot("fewer-cards.png")
    dated = at.ask("湖北条例第11条讲了什么")
    expect(_visible_cards(dated).locator("h3.regqa-cite").first).to_contain_text("第十一条")
    expect(dated.locator("h3.regqa-cite", has_text="第四十九条")).to_be_hidden()  # 本条例自…起施行: folded
    asked = at.ask("杭州办法什么时候施行？")
    expect(_visible_cards(asked).locator("h3.regqa-cite").first).to_have_text(f"《{HANGZHOU}》第二十七条")


# -- item 6: the no-answer reply --------------------------------------------------------------------------------
def test_a_no_answer_reply_says_what_it_copies_and_mentions_the_filter_only_when_set(at: Page) -> None:
    reply = at.ask("今天杭州天气怎么样")
    expect(reply.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")
    copy = reply.locator("button.regqa-copy-all")
    expect(copy).to_contain_text("最接近")
    expect(copy).not_to_contain_text("复制全部引用")
    expect(reply.locator(".regqa-none")).not_to_contain_text("设置中选择其他法规")
    at.shot("no-answer.png")
    at.choose_regulation(HUBEI)
    filtered = at.ask("今天杭州天气怎么样")
    expect(filtered.locator(".regqa-none")).to_contain_text("设置中选择其他法规")


# -- item 7: 链接 Link gives a link -----------------------------------------------------------------------------
def test_the_link_puts_the_permalink_in_the_address_bar(at: Page) -> None:
    reply = at.ask("湖北条例第二十三条")
    link = reply.locator(".regqa-card").first.locator("a.regqa-link")
    href = link.evaluate("a => a.href")
    link.click()
    expect(at.page.locator(ANSWER)).to_have_count(2, timeout=60_000)
    expect(at.page.locator(ANSWER).last.locator("h3.regqa-cite")).to_have_text(HUBEI_23)
    expect(at.page).to_have_url(re.compile(r"\?a=hubei-23$"))
    assert at.page.url == href  # the link's own address: copying either gives the same permalink
    at.shot("permalink-in-address-bar.png")
    at.page.reload()
    expect(at.page.locator(ANSWER).first.locator("h3.regqa-cite")).to_have_text(HUBEI_23, timeout=60_000)


# -- item 8: comparisons ----------------------------------------------------------------------------------------
def test_a_comparison_pairs_the_obvious_counterpart_and_keeps_pairs_together(at: Page) -> None:
    at.page.goto(at.page.url.split("?")[0] + "?compare=hangzhou-12")
    reply = at.page.locator(ANSWER).first
    expect(reply).to_have_class(re.compile("regqa-compare"), timeout=60_000)
    row = reply.locator(".regqa-cmp-row:not(.regqa-cmp-headrow)").first
    expect(row.locator(".regqa-cmp-cell").nth(1).locator(".regqa-cite").first).to_have_text(
        f"《{HUBEI}》第三十七条（第五章 保障措施）")
    at.shot("compare-article.png")
    rewards = at.ask("湖北和杭州对质量奖励的规定有什么不同")
    expect(rewards.locator(".regqa-cmp-cell .regqa-cite", has_text="第九条")).to_have_count(1)
    expect(rewards.locator(".regqa-cmp-cell .regqa-cite", has_text="第四十八条")).to_have_count(0)
    expect(rewards.locator(".regqa-cmp-cell .regqa-cite", has_text="第十八条")).to_have_count(0)
    first = rewards.locator(".regqa-cmp-row:not(.regqa-cmp-headrow)").first
    at.page.wait_for_timeout(500)  # the chat scrolls to the reply's question: measure once it has
    outer, left, right = first.evaluate(  # at one moment, in one call
        "r => [r, ...r.querySelectorAll('.regqa-cmp-cell')].slice(0, 3).map(e => e.getBoundingClientRect().toJSON())")
    for box in (left, right):  # both halves of the pair inside the row's box
        assert outer["y"] <= box["y"] and box["y"] + box["height"] <= outer["y"] + outer["height"] + 1
    if at.width == "phone":  # stacked: the pair is framed as one box
        assert right["y"] >= left["y"] + left["height"]
        assert float(first.evaluate("e => parseFloat(getComputedStyle(e).borderTopWidth)")) >= 1
        assert at.scroll_width() <= 390
    at.shot("compare-rewards.png")
    first.screenshot(path=str(at.shot("compare-pair.png").with_name(f"compare-pair-{at.width}.png")))  # the pair alone


# -- item 9: the checker does not overclaim --------------------------------------------------------------------
def test_the_checker_says_what_it_checked(at: Page) -> None:
    at.tab("核对引用 Check citations")
    draft = at.page.locator("#regqa-ck-input textarea")
    long = "县级以上人民政府应当支持企业推行首席质量官制度" + "质" * 5001
    draft.fill(f"根据《{HUBEI}》第三十七条，应当支持首席质量官制度。《{HUBEI}》第三十七条规定：“{long}”。")
    at.page.locator("#regqa-ck-run").click()
    rows = at.page.locator("#regqa-ck-result .regqa-ck-row")
    expect(rows).to_have_count(2, timeout=60_000)
    expect(rows.nth(0).locator(".regqa-ck-badge")).to_have_text("✓ 条文存在 Article exists")
    expect(rows.nth(1).locator(".regqa-ck-badge")).to_contain_text("引文未比对")
    expect(rows.nth(1).locator(".regqa-ck-msg")).to_contain_text("未与条文比对")
    expect(at.page.locator("#regqa-ck-result")).not_to_contain_text("引用正确")
    at.shot("checker-claims.png")


# -- item 10: the export of a follow-up -------------------------------------------------------------------------
def test_the_export_of_a_follow_up_records_what_was_typed(at: Page) -> None:
    at.ask("首席质量官制度是怎么规定的")
    reply = at.ask("那杭州呢")
    expect(reply.locator(".regqa-understood")).to_be_visible()
    with at.page.expect_download() as got:
        reply.locator("button.regqa-download").click()
    md = Path(got.value.path()).read_text(encoding="utf-8")
    assert "- 问题 Question: 那杭州呢\n" in md
    assert "- 理解为 Understood as: 杭州市质量促进办法 · 首席质量官" in md


# -- item 11: the outline, a skip link, the filter's list, the vote buttons' names ------------------------------------
def test_the_outline_opens_a_chapter_and_writes_a_one_article_chapter_alone(at: Page) -> None:
    at.tab("法规 Laws")
    outline = at.page.locator("#regqa-outline")
    expect(outline).to_contain_text("第七章 附则（第四十九条）")
    expect(outline).not_to_contain_text("第四十九条—第四十九条")
    outline.get_by_role("link", name="第七章 附则（第四十九条）").click()
    view = at.page.locator(ANSWER).first
    expect(view.locator("h3.regqa-cite")).to_have_text(f"《{HUBEI}》第四十九条（第七章 附则）", timeout=60_000)
    expect(at.page.get_by_role("tab", name="检索 Search")).to_have_attribute("aria-selected", "true")
    expect(at.page).to_have_url(re.compile(r"\?a=hubei-49$"))
    at.shot("outline-opened.png")


def test_a_skip_link_reaches_the_first_card_from_the_question_box(at: Page) -> None:
    reply = at.ask("企业要不要配专门管质量的人？")
    at.box.focus()
    for _ in range(3):  # the question box, its send button, then the skip link
        at.page.keyboard.press("Tab")
        if at.page.evaluate("document.activeElement.classList.contains('regqa-skip')"):
            break
    skip = at.page.get_by_role("link", name="跳到答案 Skip to answers")
    expect(skip).to_be_focused()
    at.page.keyboard.press("Enter")
    expect(reply.locator(".regqa-card").first.locator("h3.regqa-cite")).to_be_focused()
    at.shot("skip-link.png")


def test_the_filter_list_leaves_its_label_visible_and_votes_have_words(at: Page) -> None:
    at.page.locator("#regqa-regs input").focus()
    options = at.page.locator("#regqa-regs .options")
    expect(options).to_be_visible()
    label = at.page.locator("#regqa-regs").get_by_text("法规范围 Regulations")
    ob = None
    for _ in range(30):  # focusing scrolls the page: measure once the list has stopped moving (a busy CI moved it late)
        at.page.wait_for_timeout(100)
        now = options.bounding_box()
        if now is not None and now == ob:
            break
        ob = now
    lb = label.bounding_box()
    assert lb and ob and ob["y"] >= lb["y"] + lb["height"]  # the list opens below, not over its label
    at.shot("filter-open.png")
    at.page.keyboard.press("Escape")
    reply = at.ask("企业要不要配专门管质量的人？")
    votes = reply.locator("button.regqa-vote")
    assert votes.count() >= 2
    for i in range(votes.count()):  # a machine without an emoji font still reads words
        name = votes.nth(i).evaluate("b => b.getAttribute('aria-label') || b.title || b.textContent")
        assert re.search(r"[\u4e00-\u9fff]{1,}.*[A-Za-z]{2,}", name), name
