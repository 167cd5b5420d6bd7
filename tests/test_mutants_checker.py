"""The checker room's own regressions (retrieval/checker/: check, quotes, catalogue), fast: small hand-made
catalogues, no index, no model. Each test names the change it catches (tests/MUTATION.md, issue 18 part 5)."""

from __future__ import annotations

from ingest.schema import Article, Regulation
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import check_citations

REG = Regulation("demo", "示例质量条例", short_names=("示例条例",))
P1 = "企业应当建立质量管理体系并持续改进。"
P2 = "企业应当建立质量追溯制度并定期报告。"  # as long as P1: only the position tells the two 款 apart
TEXT = P1 + "\n" + P2
ART = Article("demo", REG.title, None, "第一条", 1, 0, TEXT, ((0, len(P1)), (len(P1) + 1, len(TEXT))))
QUOTE = "企业应当建立质量管理制度"  # in neither 款: closest to 第一款's start, then to 第二款's


def _catalogue(*articles: Article) -> Catalogue:
    return Catalogue([REG], articles or (ART,))


# -- (d) the closest passage is worked out for the 款 (or article) cited, not reused from another ------------------
def test_the_same_misquotation_cited_in_each_paragraph_gets_that_paragraphs_closest_passage():
    draft = (f"《示例质量条例》第一条第二款规定“{QUOTE}”。《示例质量条例》第一条第一款规定“{QUOTE}”。"
             f"《示例质量条例》第一条规定“{QUOTE}”。")
    second, first, whole = (c.to_json() for c in check_citations(draft, _catalogue()).citations)
    assert [x["verdict"] for x in (second, first, whole)] == ["quote_differs"] * 3
    assert second["closest"]["text"] == "企业应当建立质量追溯制度"
    assert second["closest"]["start"] == len(P1) + 1  # where 第二款 starts in the article
    assert first["closest"]["text"] == "企业应当建立质量管理" and first["closest"]["start"] == 0
    # the whole article: its closest passage is in 第一款, not the 第二款 passage worked out first
    assert whole["closest"]["text"] == "企业应当建立质量管理" and whole["closest"]["start"] == 0
    for x in (second, first, whole):
        assert TEXT[x["closest"]["start"]:x["closest"]["end"]] == x["closest"]["text"]
        assert all(TEXT[op["at"]:op["at"] + len(op["article"])] == op["article"] for op in x["diff"])
