"""Words for the lexical index: traditional→simplified, full-width→half-width, jieba, no filler words.

The same function tokenises articles at build time and questions at search time, so both sides agree.
"""

from __future__ import annotations

import functools
import logging
import re
import unicodedata

log = logging.getLogger(__name__)

# Question filler and function words that carry no meaning for matching an article.
STOPWORDS = frozenset(
    """的 了 吗 呢 吧 啊 呀 嘛 么 是 在 和 与 及 或 等 有 就 都 也 还 又 被 把 对 为 以 于 之 其 这 那 这个 那个
    什么 怎么 怎样 怎么办 如何 哪些 哪个 哪里 多少 为什么 是否 能否 可以 能 会 要 应 请问 请 问 一下 我 我们 你 你们
    他 她 它 他们 自己 要不要 有没有 是不是 能不能 会不会 可不可以 该 该不该 需不需要 需要 想 想问 知道 告诉 关于 一个
    规定 哪条 条 中 上 下 里 时 后 前 个 吗？ the a an of to in on for and or is are be what how does do which
    when who whom whose why can should must will would shall i we you it this that there with by as at from
    about any""".split()
)
_WORD_RE = re.compile(r"\w", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _converter():  # opencc loads its dictionaries once per process
    import opencc

    return opencc.OpenCC("t2s")


@functools.lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok


def warm_up() -> None:
    """Load jieba's and opencc's dictionaries now (≈1 s) rather than inside the first request."""
    _converter()
    _jieba()


def normalise(text: str) -> str:
    """Full-width to half-width, traditional to simplified, lower case; the length may change."""
    text = unicodedata.normalize("NFKC", text)
    return _converter().convert(text).lower()


def words(text: str) -> list[str]:
    """Tokens for BM25: jieba's search-mode cut of the normalised text, without filler and punctuation."""
    out = []
    for tok in _jieba().lcut_for_search(normalise(text)):
        tok = tok.strip()
        if tok and tok not in STOPWORDS and _WORD_RE.search(tok):
            out.append(tok)
    return out


def to_simplified(text: str) -> str:
    """Traditional to simplified Chinese only (the corpus is simplified; the model matches it better)."""
    return _converter().convert(text)
