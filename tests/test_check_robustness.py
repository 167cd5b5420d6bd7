"""Random and adversarial drafts never make the checker (or the search's article lookup) raise or hang:
1,000 generated strings (hypothesis) plus hand-made worst cases at the size limit."""

from __future__ import annotations

import json
import re
import signal
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import QueryError
from retrieval.checker.catalogue import Catalogue
from retrieval.checker.check import MAX_DRAFT_CHARS, VERDICTS, check_citations
from retrieval.references import find_reference
from tests.conftest import REGULATIONS

HANG_BOUND_S = 60  # generous: the worst case below takes a few seconds; this only catches a hang

# Characters and pieces the matcher reacts to, so random strings reach its deep paths.
ALPHABET = list("第条款项之至到-一二三四五六七八九十百千零〇两0123456789１２《》“”「」『』\"'‘’（）()【】"
                "：:，,。；;…. \n\t的本该")
FRAGMENTS = [
    "湖北条例", "杭州办法", "《湖北省质量促进条例》", "《杭州市质量促进办法》", "《中华人民共和国产品质量法》",
    "质量促进条例", "浙江省质量促进条例", "本条例", "该办法", "第十二条", "第12条", "第二款", "之一", "至第三十条",
    "规定：", "“", "”", "「", "」", '"', "……", "（", "）", "Article 12 of the Hangzhou measures", "Art. 23 ",
    "Hubei regulation", "Articles 3-5", " of the ", "Law", "鼓励企业实施首席质量官制度",
    "本条例自 2024 年 11 月 1 日起施行",
    "\x00", "\x1b[31m", "\ud800", "\u202e", "😀", "𠀀", "\r\n",
]


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return Catalogue.from_sources([REGULATIONS])


@contextmanager
def no_hang(seconds: int = HANG_BOUND_S):
    def fail(*_):
        raise AssertionError(f"no answer within {seconds} s: the matcher hangs on this input")

    old = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _assert_sound(text: str, catalogue: Catalogue) -> None:
    report = check_citations(text, catalogue)
    shown = re.sub("[\ud800-\udfff]", "\ufffd", text)  # lone surrogates are shown as U+FFFD, offsets kept
    for c in report.citations:
        assert c.verdict in VERDICTS and c.message
        assert 0 <= c.citation.start < c.citation.end <= len(text)
        assert c.citation.cited == shown[c.citation.start:c.citation.end]
        if c.article is not None:  # the verbatim text of the index, never text from the draft
            assert c.article is catalogue.article(c.article.regulation_id, c.article.number, c.article.sub_number)
    json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")  # printable and sendable
    if len(text) <= 1000:  # a question's limit
        find_reference(text, catalogue.names)


random_text = st.text(alphabet=st.one_of(st.sampled_from(ALPHABET), st.characters()), max_size=400)
pieced_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(ALPHABET),
                                 st.text(max_size=5)), max_size=60).map("".join)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_text)
def test_random_strings_never_raise(catalogue, text):
    _assert_sound(text, catalogue)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieced_text)
def test_random_citation_like_strings_never_raise(catalogue, text):
    _assert_sound(text, catalogue)


N = MAX_DRAFT_CHARS
ADVERSARIAL = {
    "unclosed quotations": "湖北条例第一条“" * (N // 8),
    "nested quotations": "“" * (N // 2) + "”" * (N // 2),
    "nested brackets": "《" * (N // 2) + "》" * (N // 2),
    "unclosed titles": ("《" + "a" * 79) * (N // 80),
    "numeral runs": ("第" + "一" * 200) * (N // 201),
    "one huge number": "第" + "1" * (N - 2) + "条",
    "spaces inside": "第" + " " * (N - 2) + "条",
    "citations back to back": "湖北条例第一条、" * (N // 8),
    "differing quotations": "湖北条例第十二条：“县级以上人民政府应当支持企业事业单位做某事”。" * (N // 34),
    "colon after colon": "湖北条例第一条：" * (N // 8),
    "bracketed citations after quotations": "“a”（湖北条例第一条）" * (N // 13),
    "english citations": "Article 1 of the Hubei regulations " * (N // 35),
    "english words without a name": ("Article 1 of " + "abc " * 6 + "x ") * (N // 40),
    "anaphora without a regulation": "本条例第一条" * (N // 6),
    "one long name": "质" * (N - 10) + "条例第一条",
    "ranges": "湖北条例第一条至第九千九百九十九条" * (N // 17),
    "control characters": "".join(chr(i % 0x3000) for i in range(N)),
    "lone surrogates in quotations": "湖北条例第一条“\ud800”" * (N // 11),
    "one long quotation": "湖北条例第十二条“" + "标准化对外合作与交流" * 490 + "”",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_adversarial_drafts_at_the_size_limit(catalogue, name):
    text = ADVERSARIAL[name][:N]
    with no_hang():
        _assert_sound(text, catalogue)


def test_over_the_limit_is_refused_not_truncated(catalogue):
    with pytest.raises(QueryError, match="at most 200,000 characters"):
        check_citations("湖北条例第一条" * (N // 7 + 1), catalogue)
