"""The checker claims only what it checked: an article found without a quotation "exists" (not "引用正确"), and a
quotation too long to compare (over MAX_QUOTE characters, or never closed) is said to be not compared — in the
JSON (verdict `found` kept, `quote_compared` false, `quote_not_compared` with its span) and on the page."""

from __future__ import annotations

import pytest

from retrieval.checker import check_citations
from retrieval.checker.catalogue import Catalogue
from retrieval.citations import MAX_QUOTE
from retrieval.web import check_view
from tests.conftest import REGULATIONS

ARTICLE = "县级以上人民政府应当支持企业推行首席质量官制度"


@pytest.fixture(scope="module")
def texts() -> Catalogue:
    return Catalogue.from_sources([REGULATIONS])


def _one(draft: str, texts: Catalogue) -> dict:
    [c] = check_citations(draft, texts).to_json()["citations"]
    return c


def test_an_article_cited_without_a_quotation_exists_and_says_no_more(texts: Catalogue) -> None:
    c = _one("根据《湖北省质量促进条例》第三十七条，企业可以设首席质量官。", texts)
    assert c["verdict"] == "found" and c["quote_compared"] is False and c["quote_not_compared"] is None
    html = check_view.row(1, c)
    assert check_view.EXISTS in html and "引用正确" not in html and check_view.QUOTE_MATCHES not in html
    quoted = _one(f"《湖北省质量促进条例》第三十七条规定：“{ARTICLE}”。", texts)
    assert quoted["verdict"] == "found" and quoted["quote_compared"] is True
    assert check_view.QUOTE_MATCHES in check_view.row(1, quoted)


def test_a_quotation_over_the_limit_is_said_to_be_not_compared(texts: Catalogue) -> None:
    long = ARTICLE + "。" + "质" * MAX_QUOTE
    draft = f"《湖北省质量促进条例》第三十七条规定：“{long}”。"
    c = _one(draft, texts)
    assert c["verdict"] == "found"  # the contract's verdicts are kept: the article does exist
    assert c["quote_compared"] is False
    span = c["quote_not_compared"]
    assert span and draft[span["start"]:span["end"]] == long and span["length"] == len(long) and span["closed"]
    assert "未与条文比对" in c["message"] and "not compared" in c["message"]
    html = check_view.row(1, c)
    assert check_view.NOT_COMPARED in html and "regqa-ck-unchecked" in html and check_view.EXISTS not in html
    unclosed = _one(f"《湖北省质量促进条例》第三十七条规定：“{ARTICLE}，后面没有引号", texts)
    assert unclosed["quote_compared"] is False and not unclosed["quote_not_compared"]["closed"]
    assert "未闭合" in unclosed["message"]


def test_a_quotation_within_the_limit_is_still_compared(texts: Catalogue) -> None:
    c = _one(f"《湖北省质量促进条例》第三十七条规定：“{ARTICLE}{'质' * 100}”。", texts)
    assert c["verdict"] == "quote_differs" and c["quote_compared"] is True and c["quote_not_compared"] is None
