"""Feedback votes and the Markdown export as a person uses them: the real app, index and model, Chromium."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests import test_app_browser as ui
from tests.test_app_browser import HUBEI_23, Chat, _article_text

browser, chat = ui.browser, ui.chat  # the page tests' fixtures: a Chromium, and a desktop tab on the app

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture then fails with the install command
    expect = None

QUESTION = "企业要不要配专门管质量的人？"
NOWHERE = "今天杭州天气怎么样"


def _log(directory: Path, name: str = "feedback") -> list[dict]:
    path = directory / f"{name}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _new_lines(directory: Path, before: int, want: int, timeout: float = 5.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while len(rows := _log(directory)) < before + want and time.monotonic() < deadline:
        time.sleep(0.1)
    return rows[before:]


def _build(url: str) -> str:
    return httpx.get(f"{url}api/health", timeout=30).json()["build"]


def test_a_vote_on_a_card_is_written_to_the_log(chat: Chat, app_feedback_dir: Path, app_url: str) -> None:
    reply = chat.ask(QUESTION)
    card = reply.locator(".regqa-card").first
    before = len(_log(app_feedback_dir))
    up = card.locator(".regqa-feedback button.regqa-up")
    up.click()
    expect(up).to_have_text("已记录 Thanks")
    expect(card.locator(".regqa-feedback button.regqa-down")).to_be_disabled()
    [row] = _new_lines(app_feedback_dir, before, 1)
    assert row["kind"] == "answer" and row["vote"] == "up" and row["question"] == QUESTION
    assert row["article"] == HUBEI_23 and row["article_id"].endswith("#23-0")
    assert row["build"] == _build(app_url)
    assert set(row) == {"time", "kind", "vote", "question", "article", "article_id", "build"}  # nothing personal
    second = reply.locator(".regqa-card").nth(1).locator(".regqa-feedback button.regqa-down")
    second.click()
    expect(second).to_have_text("已记录 Thanks")
    [row2] = _new_lines(app_feedback_dir, before + 1, 1)
    assert row2["vote"] == "down" and row2["article"] == reply.locator("h3.regqa-cite").nth(1).inner_text().strip()
    chat.shot("feedback-voted.png")


def test_an_abstained_question_is_logged_and_the_no_answer_vote_too(chat: Chat, app_feedback_dir: Path,
                                                                    app_url: str) -> None:
    before = len(_log(app_feedback_dir))
    reply = chat.ask(NOWHERE)
    expect(reply.locator(".regqa-none")).to_contain_text("未找到直接相关的条文")
    # Logged by the server in its own log, once per question and build (the API tests may have asked it first).
    logged = [r for r in _log(app_feedback_dir, "abstained") if r["question"] == NOWHERE]
    assert len(logged) == 1 and logged[0]["build"] == _build(app_url)
    assert logged[0]["kind"] == "abstained" and logged[0]["vote"] is None
    assert len(_log(app_feedback_dir)) == before  # the votes log holds votes only
    should = reply.locator(".regqa-feedback-none button.regqa-down")
    expect(should).to_contain_text("这个问题应该有答案")
    should.click()
    expect(should).to_have_text("已记录 Thanks")
    expect(reply.locator(".regqa-feedback-none button.regqa-up")).to_be_disabled()
    [vote] = _new_lines(app_feedback_dir, before, 1)
    assert vote["kind"] == "no_answer" and vote["vote"] == "down" and vote["article_id"] is None
    assert vote["question"] == NOWHERE
    chat.shot("feedback-no-answer.png")


def test_the_answer_downloads_as_markdown(chat: Chat, real_index: Path, app_url: str, tmp_path: Path) -> None:
    reply = chat.ask(QUESTION)
    headings = chat.headings(reply)
    with chat.page.expect_download() as info:
        reply.locator("button.regqa-download").click()
    download = info.value
    assert download.suggested_filename.endswith(".md")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    md = target.read_text(encoding="utf-8")
    assert f"- 问题 Question: {QUESTION}" in md
    assert re.search(r"- 日期 Date: \d{4}-\d{2}-\d{2} \d{2}:\d{2}", md)
    assert f"- 索引版本 Index build: {_build(app_url)}" in md
    text = _article_text(real_index, "湖北省质量促进条例", "第二十三条")
    quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
    assert f"## 1. {HUBEI_23}\n\n{quoted}\n" in md  # the citation and the article verbatim
    assert [h for h in re.findall(r"^## \d+\. (.+)$", md, re.M)] == headings


def test_copy_all_citations(chat: Chat) -> None:
    reply = chat.ask("首席质量官制度")
    headings = chat.headings(reply)
    button = reply.locator("button.regqa-copy-all")
    button.click()
    expect(button).to_contain_text("已复制")
    assert chat.page.evaluate("navigator.clipboard.readText()") == "\n".join(headings)
    assert len(headings) == 3


def test_feedback_and_export_on_a_phone(browser, app_url: str, app_feedback_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, locale="zh-CN", accept_downloads=True)
    try:
        chat = Chat(context.new_page(), app_url)
        reply = chat.ask("湖北条例第二十三条")
        card = reply.locator(".regqa-card").first
        before = len(_log(app_feedback_dir))
        down = card.locator(".regqa-feedback button.regqa-down")
        down.scroll_into_view_if_needed()
        expect(down).to_be_in_viewport()
        down.tap()
        expect(down).to_have_text("已记录 Thanks")
        [row] = _new_lines(app_feedback_dir, before, 1)
        assert row["vote"] == "down" and row["question"] == "湖北条例第二十三条"
        tools = reply.locator(".regqa-tools")
        tools.scroll_into_view_if_needed()
        box = tools.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390
        assert chat.page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing cut off sideways
        with chat.page.expect_download() as info:
            reply.locator("button.regqa-download").tap()
        assert info.value.suggested_filename.endswith(".md")
        chat.page.mouse.wheel(0, 0)
        chat.shot("feedback-phone.png")
    finally:
        context.close()


@pytest.mark.parametrize("body, message", [
    ({"question": "问", "vote": "meh", "article_id": None}, "vote must be up or down"),
    ({"question": "", "vote": "up", "article_id": None}, "needs its question"),
    ({"question": "问" * 1001, "vote": "up", "article_id": None}, "at most 1000"),
    ({"question": "问", "vote": "up", "article_id": "nope#1-0"}, "not an article of the index"),
    ({"question": "问", "vote": "up", "article_id": 7}, "not an article of the index"),
    ({"question": "问", "vote": "up", "article_id": None, "kind": "answer"}, "answer needs an article_id"),
    ({"question": "问", "vote": "up", "kind": "abstained"}, "kind must be answer or no_answer"),
])
def test_the_feedback_route_refuses_bad_votes(app_url: str, app_feedback_dir: Path, body: dict,
                                              message: str) -> None:
    before = len(_log(app_feedback_dir))
    r = httpx.post(f"{app_url}api/feedback", json=body, timeout=30)
    assert r.status_code == 400 and message in r.json()["error"]
    assert len(_log(app_feedback_dir)) == before


def test_the_feedback_route_records_a_good_vote(app_url: str, app_feedback_dir: Path) -> None:
    before = len(_log(app_feedback_dir))
    r = httpx.post(f"{app_url}api/feedback", json={"question": "问题", "vote": "up", "article_id": None}, timeout=30)
    assert r.status_code == 200 and r.json() == {"ok": True}
    [row] = _new_lines(app_feedback_dir, before, 1)
    assert row["kind"] == "no_answer" and row["vote"] == "up"
    assert httpx.get(f"{app_url}api/feedback", timeout=30).status_code == 405
