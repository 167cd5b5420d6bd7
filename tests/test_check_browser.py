"""The 核对引用 Check citations tab as a person uses it: the real app, real index, headless Debian Chromium
(the fixtures and the Chat helper of tests/test_app_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.test_app_browser import Chat, browser, expect  # noqa: F401  (browser is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

RESULT = "#regqa-ck-result"
EXPECTED = [  # the example draft: (as written, colour class, badge)
    ("《湖北省质量促进条例》第三十七条", "regqa-ck-ok", "条文存在 Article exists"),  # no quotation: existence only
    ("《杭州市质量促进办法》第十二条", "regqa-ck-warn", "引文不符 Quote differs"),
    ("《杭州市质量促进办法》第三十二条", "regqa-ck-bad", "无此条文 No such article"),
    ("《浙江省质量促进条例》第二十条", "regqa-ck-bad", "未收录该法规 Unknown regulation"),
]


def _open_tab(page, url: str) -> Chat:
    chat = Chat(page, url)
    tab = page.get_by_role("tab", name="核对引用 Check citations")
    if tab.count():
        tab.click()
    else:  # a narrow screen folds the later tabs into Gradio's "More tabs" menu
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text="核对引用 Check citations").click()
    expect(page.locator("#regqa-ck-run")).to_be_visible()
    return chat


def _check_example(chat: Chat):
    page = chat.page
    page.locator("#regqa-ck-example").click()
    expect(page.locator("#regqa-ck-input textarea")).to_have_value(re.compile("浙江省质量促进条例"))
    page.locator("#regqa-ck-run").click()
    rows = page.locator(f"{RESULT} .regqa-ck-row")
    expect(rows).to_have_count(len(EXPECTED), timeout=60_000)
    return rows


def _sees_the_verdicts(chat: Chat, rows) -> None:
    marks = chat.page.locator(f"{RESULT} mark.regqa-ck-mark")
    expect(marks).to_have_count(len(EXPECTED))
    for i, (cited, colour, verdict) in enumerate(EXPECTED):
        mark, row = marks.nth(i), rows.nth(i)
        assert re.sub(r"\d+$", "", mark.inner_text().strip()) == cited  # the number after it is the row's
        expect(mark).to_have_class(re.compile(rf"\b{colour}\b"))
        expect(row).to_have_class(re.compile(rf"\b{colour}\b"))
        expect(row.locator(".regqa-ck-cited")).to_have_text(cited)
        expect(row.locator(".regqa-ck-badge")).to_contain_text(verdict)
    found, differs, missing, unknown = (rows.nth(i) for i in range(4))
    article = found.locator(".regqa-ck-article")
    expect(article.locator(".regqa-cite")).to_have_text("《湖北省质量促进条例》第三十七条（第五章 保障措施）")
    expect(article.locator(".regqa-text")).to_contain_text("县级以上人民政府应当支持企业推行首席质量官制度")
    expect(differs.locator("del.regqa-ck-del").first).to_have_text("施")
    expect(differs.locator("ins.regqa-ck-ins").first).to_have_text("行")
    expect(missing.locator(".regqa-ck-count")).to_contain_text("共 27 条")
    expect(missing.locator(".regqa-ck-dym")).to_contain_text("《杭州市质量促进办法》第二十三条")
    expect(unknown).to_contain_text("索引中没有《浙江省质量促进条例》")
    # the colours a person sees: green, amber, red badges
    colours = [rows.nth(i).locator(".regqa-ck-badge").evaluate("e => getComputedStyle(e).backgroundColor")
               for i in range(4)]
    assert colours == ["rgb(21, 128, 61)", "rgb(180, 83, 9)", "rgb(185, 28, 28)", "rgb(185, 28, 28)"]


def _click_highlights_its_row(chat: Chat, rows, n: int) -> None:
    mark = chat.page.locator(f"{RESULT} mark.regqa-ck-mark").nth(n)
    mark.click()
    expect(rows.nth(n)).to_have_class(re.compile(r"\bregqa-ck-active\b"))
    expect(rows.nth(n)).to_be_in_viewport()
    expect(chat.page.locator(f"{RESULT} .regqa-ck-row.regqa-ck-active")).to_have_count(1)


@pytest.fixture
def desktop(browser, app_url: str) -> Iterator[Chat]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    try:
        yield _open_tab(context.new_page(), app_url)
    finally:
        context.close()


def test_the_example_draft_is_checked_coloured_and_linked(desktop: Chat) -> None:
    rows = _check_example(desktop)
    _sees_the_verdicts(desktop, rows)
    box = desktop.page.locator("#regqa-ck-input").bounding_box()
    result = desktop.page.locator(RESULT).bounding_box()
    assert box and result and box["x"] + box["width"] <= result["x"]  # draft on the left, verdicts on the right
    desktop.shot("check-desktop.png")
    _click_highlights_its_row(desktop, rows, 2)
    _click_highlights_its_row(desktop, rows, 1)  # another click moves the highlight
    desktop.shot("check-desktop-clicked.png")


def test_markup_in_a_draft_is_shown_as_text_and_runs_nothing(desktop: Chat) -> None:
    draft = "<script>alert(1)</script><img src=x onerror=alert(2)>湖北条例第二十三条规定：“<b>企业</b>”。"
    page = desktop.page
    page.locator("#regqa-ck-input textarea").fill(draft)
    page.locator("#regqa-ck-run").click()
    expect(page.locator(f"{RESULT} .regqa-ck-row")).to_have_count(1, timeout=60_000)
    expect(page.locator(f"{RESULT} .regqa-ck-draft")).to_contain_text("<script>alert(1)</script><img src=x")
    assert page.locator(f"{RESULT} img, {RESULT} script, {RESULT} b").count() == 0
    page.wait_for_timeout(500)  # a broken image's onerror would have fired by now, had it been rendered
    assert desktop.dialogs == []


def test_an_empty_draft_asks_for_one(desktop: Chat) -> None:
    desktop.page.locator("#regqa-ck-run").click()
    expect(desktop.page.locator(f"{RESULT} .regqa-error")).to_contain_text("请先粘贴草稿")


def test_phone_sized_screen(browser, app_url: str) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        chat = _open_tab(context.new_page(), app_url)
        rows = _check_example(chat)
        _sees_the_verdicts(chat, rows)
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing cut off sideways
        _click_highlights_its_row(chat, rows, 3)
        chat.shot("check-phone.png")
    finally:
        context.close()
