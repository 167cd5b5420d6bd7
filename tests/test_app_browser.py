"""The web app as a person uses it: the real app, the real index and model, headless Debian Chromium."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require, require_chromium

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # every test below then fails at setup with the install command (see `browser`), no skip
    expect = sync_playwright = None

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
ANSWER = "#regqa-chat .regqa-answer, #regqa-chat .regqa-error"


@pytest.fixture(scope="module")
def browser():
    from eval.app_server import launch_browser

    require("playwright.sync_api")
    require_chromium()
    assert sync_playwright is not None
    with sync_playwright() as p:
        b = launch_browser(p)
        yield b
        b.close()


class Chat:
    """One browser tab on the app, with the actions and reads a person would do."""

    def __init__(self, page, url: str) -> None:
        self.page = page
        self.dialogs: list[str] = []
        page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        page.goto(url)
        # the status line shows the counts once the index is loaded and the regulation filter is filled
        expect(page.locator("#regqa-status")).to_contain_text("articles indexed", timeout=60_000)
        self.box = page.locator("#regqa-input textarea")

    def ask(self, question: str):
        """Type the question, press Enter, return the reply that appears."""
        before = self.page.locator(ANSWER).count()
        self.box.fill(question)
        self.box.press("Enter")
        replies = self.page.locator(ANSWER)
        expect(replies).to_have_count(before + 1, timeout=60_000)
        return replies.last

    def headings(self, reply) -> list[str]:
        """Every card's citation, those folded under "more" included (their text, shown or not)."""
        return [t.strip() for t in reply.locator("h3.regqa-cite").all_text_contents()]

    def choose_regulation(self, title: str) -> None:
        field = self.page.locator("#regqa-regs input")
        field.click()
        field.fill(title)
        self.page.get_by_role("option", name=re.compile("^" + re.escape(title) + "（")).click()
        expect(self.page.locator("#regqa-regs")).to_contain_text(title)
        self.page.keyboard.press("Escape")

    def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / name
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def chat(browser, app_url: str) -> Iterator[Chat]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN",
                                  permissions=["clipboard-read", "clipboard-write"])
    try:
        yield Chat(context.new_page(), app_url)
    finally:
        context.close()


def _article_text(index_dir: Path, title: str, label: str) -> str:
    from ingest.stores.index_io import current_build

    with (current_build(index_dir) / "articles.jsonl").open(encoding="utf-8") as f:
        for line in f:
            a = json.loads(line)
            if a["regulation_title"] == title and a["label"] == label:
                return a["text"]
    raise AssertionError(f"{title} {label} is not in the index")


HUBEI_23 = "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_chinese_question_shows_the_article_verbatim_with_its_citation(chat: Chat, real_index: Path) -> None:
    reply = chat.ask("企业要不要配专门管质量的人？")
    expect(reply).not_to_contain_text("未找到直接相关的条文")
    assert chat.headings(reply)[0] == HUBEI_23
    first = reply.locator(".regqa-card").first
    shown = first.locator(".regqa-body").inner_text()
    assert _squash(shown) == _squash(_article_text(real_index, "湖北省质量促进条例", "第二十三条"))
    expect(first.locator("mark.regqa-hit")).to_contain_text("质量管理专业人员")
    expect(first.locator("strong.regqa-word").first).to_be_visible()
    expect(first.locator(".regqa-meta").first).to_contain_text("相关度")
    assert reply.locator(".regqa-card").count() == 3  # the default number of results
    expect(first.locator("h3.regqa-cite")).to_be_in_viewport()  # the chat shows the reply from its top
    chat.shot("answer-zh.png")


def test_english_question_finds_the_article(chat: Chat) -> None:
    reply = chat.ask("When does the Hangzhou measure take effect?")
    expect(reply).not_to_contain_text("未找到直接相关的条文")  # answered, not folded away as "nearest"
    expect(reply.locator("h3.regqa-cite").first).to_have_text("《杭州市质量促进办法》第二十七条")
    expect(reply.locator(".regqa-card").first).to_contain_text("2021 年 9 月 15 日")


def test_article_reference_opens_that_article(chat: Chat) -> None:
    reply = chat.ask("湖北条例第二十三条")
    assert chat.headings(reply)[0] == HUBEI_23
    expect(reply.locator(".regqa-card").first).to_contain_text("企业应当保障创新有效投入")
    expect(reply.locator(".regqa-meta").first).to_contain_text("条号")


def test_an_article_that_does_not_exist_is_said_plainly(chat: Chat) -> None:
    reply = chat.ask("Article 999 of the Hangzhou measures")
    expect(reply.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")
    expect(reply).to_contain_text("共 27 条")


def test_out_of_scope_question_says_nothing_answers_and_folds_the_nearest(chat: Chat) -> None:
    reply = chat.ask("今天杭州天气怎么样")
    expect(reply.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")
    nearest = reply.locator("details.regqa-nearest")
    expect(nearest).to_have_count(1)
    expect(reply.locator("h3.regqa-cite").first).to_be_hidden()  # not shown as if it were an answer
    nearest.locator(":scope > summary").click()
    expect(reply.locator("h3.regqa-cite").first).to_be_visible()


def test_markup_in_a_question_is_shown_as_typed_and_runs_nothing(chat: Chat) -> None:
    question = "<img src=x onerror=alert(1)> <b>粗体</b> **星号** $$x$$"
    reply = chat.ask(question)
    user = chat.page.locator("#regqa-chat .regqa-q").last
    expect(user).to_have_text(question)
    assert user.locator("img, b").count() == 0
    assert chat.page.locator("#regqa-chat img[src='x']").count() == 0
    expect(reply).to_be_visible()
    chat.page.wait_for_timeout(500)  # give a broken image's onerror time to fire, had it been rendered
    assert chat.dialogs == []


def test_regulation_filter_changes_the_results(chat: Chat) -> None:
    question = "首席质量官制度"
    everywhere = chat.headings(chat.ask(question))
    assert everywhere[0] == "《杭州市质量促进办法》第十二条"
    chat.choose_regulation("湖北省质量促进条例")
    filtered = chat.headings(chat.ask(question))
    assert filtered and all(h.startswith("《湖北省质量促进条例》") for h in filtered)
    assert filtered[0].startswith("《湖北省质量促进条例》第三十七条")
    assert filtered != everywhere


def test_number_of_results_and_search_mode_can_be_changed(chat: Chat) -> None:
    k = chat.page.locator("#regqa-k input[type=number]")
    k.fill("5")
    k.press("Enter")
    chat.page.get_by_text("高级设置 Advanced").click()
    chat.page.get_by_label("关键词 lexical (words)").check()
    reply = chat.ask("企业要不要配专门管质量的人？")
    expect(reply.locator(".regqa-card")).to_have_count(5)
    expect(reply.locator(".regqa-meta").first).not_to_contain_text("语义")  # lexical only


def test_too_long_question_gets_a_short_clear_message(chat: Chat) -> None:
    reply = chat.ask("劳" * 1001)
    expect(reply).to_have_class(re.compile("regqa-error"))
    expect(reply).to_contain_text("问题太长")
    expect(reply).not_to_contain_text("Traceback")


def test_context_related_articles_and_copying_the_citation(chat: Chat) -> None:
    reply = chat.ask("企业要不要配专门管质量的人？")
    card = reply.locator(".regqa-card").first
    citation = card.locator("h3.regqa-cite").inner_text().strip()
    assert citation == HUBEI_23
    card.locator("details.regqa-ctx > summary").click()
    expect(card.locator(".regqa-ctx-me")).to_contain_text("第二十三条")
    card.locator("details.regqa-rel > summary").click()
    # similar articles come from the other regulation: Hubei ↔ Hangzhou
    related = [t.strip() for t in card.locator(".regqa-rel-head .regqa-cite").all_inner_texts()]
    assert len(related) == 3 and all(r.startswith("《杭州市质量促进办法》") for r in related)
    card.locator(".regqa-head button.regqa-copy").click()
    expect(card.locator(".regqa-head button.regqa-copy")).to_contain_text("已复制")
    assert chat.page.evaluate("navigator.clipboard.readText()") == citation
    related_copy = card.locator(".regqa-rel-head button.regqa-copy").first
    related_copy.click()
    expect(related_copy).to_contain_text("已复制")
    assert chat.page.evaluate("navigator.clipboard.readText()") == related[0]


def test_example_questions_can_be_clicked(chat: Chat) -> None:
    chat.page.locator("#regqa-examples").get_by_text("湖北条例第二十一条").click()
    reply = chat.page.locator(ANSWER).last
    expect(reply.locator("h3.regqa-cite").first).to_have_text("《湖北省质量促进条例》第二十一条（第三章 创新驱动）",
                                                               timeout=60_000)
    expect(chat.page.locator("#regqa-chat .regqa-q").last).to_have_text("湖北条例第二十一条")


def test_follow_up_questions_keep_the_history(chat: Chat) -> None:
    chat.ask("湖北条例第二十三条")
    chat.ask("首席质量官制度")
    questions = chat.page.locator("#regqa-chat .regqa-q").all_inner_texts()
    assert questions == ["湖北条例第二十三条", "首席质量官制度"]
    expect(chat.page.locator(ANSWER)).to_have_count(2)


def test_regulations_tab_lists_the_index(chat: Chat) -> None:
    chat.page.get_by_role("tab", name="法规 Laws").click()
    table = chat.page.locator("#regqa-table")
    for text in ("湖北省质量促进条例", "杭州市质量促进办法", "49", "27", "2024-07-25", "2024-11-01", "2021-08-13",
                 "2021-09-15", "湖北省人民代表大会常务委员会"):
        expect(table).to_contain_text(text)
    outline = chat.page.locator("#regqa-outline")
    expect(outline).to_contain_text("第三章 创新驱动（第十九条—第二十六条）")
    expect(outline).to_contain_text("不分章，共 27 条")


def test_phone_sized_screen(browser, app_url: str) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN")
    try:
        chat = Chat(context.new_page(), app_url)
        reply = chat.ask("湖北条例第二十三条")
        expect(reply.locator("h3.regqa-cite").first).to_be_visible()
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing cut off sideways
        chat.shot("answer-phone.png")
    finally:
        context.close()


def test_a_full_server_tells_the_user_in_the_chat_to_try_again(browser, busy_app_url: str) -> None:
    from tests.test_http_api import hold_the_only_slot

    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    try:
        chat = Chat(context.new_page(), busy_app_url)
        thread, held = hold_the_only_slot(busy_app_url)
        reply = chat.ask("企业要不要配专门管质量的人？")
        expect(reply).to_have_class(re.compile("regqa-error"))
        expect(reply).to_contain_text("稍后再试")
        expect(reply).to_contain_text("try again")
        thread.join(timeout=120)
        assert held["response"].status_code == 200
        answer = chat.ask("湖北条例第二十三条")  # once the slot is free, the same page is answered
        cite = answer.locator("h3.regqa-cite").first
        expect(cite).to_have_text("《湖北省质量促进条例》第二十三条（第三章 创新驱动）")
    finally:
        context.close()
