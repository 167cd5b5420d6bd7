"""Follow-up questions without generation: a turn that is incomplete on its own is combined with what the
conversation was about, by fixed rules that the answer shows ("理解为：杭州市质量促进办法 · 首席质量官制度").

Nothing is stored between requests: the caller sends the earlier questions (oldest first) and the context is
re-derived by reading them in order with the same rules. Each turn leaves a context: the regulation(s) it
was on, its topic words (the question without regulation names, article numbers, question words and
particles), the article it pointed at, and, for a bare article reference, that article as its topic.

How a turn is read, first rule that applies (`Understood.kind`):

- ``relative`` — 下一条 / 上一条 / 再下一条 / next article: the article before or after the one the
  conversation is on (an explicit reference, else the previous turn's top result, which needs its search).
- ``article`` — only an article number (第十二条呢, Article 5?): that article of the conversation's regulation.
  With a regulation named (杭州办法第三条呢) the turn is complete and searched as typed.
- ``regulation`` — only a regulation name and filler (那杭州呢, 湖北的呢, And Hangzhou?, 杭州有类似的规定吗,
  湖北条例里对应的是哪一条): the previous topic, searched only in that regulation. When the previous topic was an
  article (杭州办法第十二条), its text is the query ("the corresponding article"). Comparison words (有什么不同,
  两边) keep the regulations already on the topic as well.
- ``topic`` — no topic word of its own (企业自己要做什么, 是谁来组织的), or a pronoun (这个, 这里, 里面, 这方面, it,
  its, this) with at most three topic words (Who supervises it?): the previous topic plus the new words, in
  the conversation's regulation; when the topic is an article, that article comes first (its reference is
  part of the query, so the search pins it).
- ``shift`` — 那X呢 / X呢 / What about X, with a topic but no regulation: the new topic in the conversation's
  regulation.
- ``fresh`` — anything else: a complete question, searched as typed, and the start of a new context (the
  conversation's topic is its latest complete question). A turn that says it changes topic (换个问题, 另一个问题,
  another question) is always fresh; the marker is left out of what is searched.

The topic words are whole stretches of the question: filler inside a stretch is kept as typed
(企业要不要配专门管质量的人 stays whole; dropping 要 would say the opposite), filler at its ends is dropped. A
``regulation`` turn also lifts, among its own top results, the counterparts of what the earlier turn found (each
of its top two articles' closest article in the new regulation by stored vectors): "that, in Hangzhou" is what
was found, not only its words.

A "topic word" is a content word that picks out part of the corpus: words in at least `GENERIC_SHARE` of the
index's documents (企业, 部门, 质量, 政府 in these regulations) are too common to say what a question is about,
so 企业自己能做什么 has none while 今天杭州天气怎么样 has 今天 and 天气 (a word the corpus never uses is a topic too:
that question starts fresh and abstains). The share comes from the lexical index's own postings, so the rule
costs nothing at any corpus size and needs no list of words for a domain. 0.15 was chosen on the dev part of
the conversation set: 0.10 to 0.30 read it the same except 是谁来组织的 (组织 is in 20% of the articles).

A pronoun in a clause after one with a topic word points inside the question (听说有质量保险，这个是谁在推), and
demonstratives before a named regulation (杭州这个办法) or counting the regulations (这两部) point at no earlier
turn. The merged query is made of words the person typed (the earlier topic words and the new ones) or, for
"the corresponding article", of the article's own text (without the names and article numbers it cites, cut
near `MAX_ARTICLE_QUERY` characters: the abstain rule was calibrated on questions, not on whole articles);
`shown_as` says which, and `alone` is the new turn as typed, for searching it without the history. The
conversation's regulation is a filter, not a preference: "And Hangzhou?" about something only Hubei regulates
should abstain, not answer with Hubei's article.

Why these rules and no others: merging a complete question with an old topic, or filtering it to the previous
regulation, hides its answer (缺陷消费品召回由哪个部门监管 after a Hangzhou question is answered by Hubei alone), so
a turn is merged only on a positive sign that it leans on the history (a pronoun, a bare name or number, a
continuation particle, nothing to search for of its own). Elliptical questions without such a sign
(银行放贷时会参考什么 after a question on 质量增信融资) are searched alone; measured on the conversation set in
data/questions/README.md.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ingest.errors import QueryError
from ingest.numerals import to_chinese
from ingest.schema import Article, Regulation
from ingest.words import STOPWORDS, segments, words
from retrieval.answer_kind import judge
from retrieval.citations import Names, find_citations, fold, name_table
from retrieval.query import clean_query
from retrieval.references import Reference, find_reference
from retrieval.signals import named_laws

log = logging.getLogger(__name__)

ArticleKey = tuple[str, int, int]  # (regulation id, number, sub-number)

MAX_HISTORY = 20  # earlier turns read; older ones cannot matter once a complete question has started afresh
GENERIC_SHARE = 0.15  # a word in at least this share of the documents is no topic of its own
MAX_POINTING_TOPIC = 3  # a pronoun turn with more topic words than this is a complete question
MAX_ARTICLE_QUERY = 200  # characters of an article's text used as the query for "the corresponding article"
COUNTERPARTS = 2  # the earlier turn's top articles whose counterparts a "那杭州呢" puts first
COUNTERPART_POOL = 10  # results of the follow-up's own search among which counterparts are looked for
COUNTERPART_BONUS = 0.35  # added to a counterpart's fused score (top 1.0): lifts a close second, not a far one

# Words that ask or point rather than say what about (beyond ingest.words.STOPWORDS). Language, not domain.
FILLER = frozenset(
    """那 那么 呢 再 还 还有 另外 此外 讲 讲讲 说 说说 讲的 说的 意思 怎么回事 怎么样 情况 内容 条款 条文 哪一条 一条
    类似 相似 对应 相应 同样 一样 不同 区别 差别 差异 相同 异同 分别 有关 相关 方面 介绍 解释 提到 时候 什么样 啥
    由 跟 同 比 吗？ 呢？ 做 干 办 弄 搞 来 去 谁 几 何 咋 多久 那边 这边 那儿 这儿
    about say says said tell me rule rules provision provisions similar same different difference differences
    compare both also have has any anything something else then please more other one ones there their
    regulation regulations measures measure article articles mean means""".split()
)
# Pronouns and words that point back; multi-character ones are looked for anywhere in the text (jieba may
# fold them into a longer token: 算在里面), single characters only as tokens of their own.
_POINTING_PHRASES = ("这个", "那个", "这条", "该条", "此条", "本条", "这一条", "这里", "那里", "这儿", "里面", "其中",
                     "这方面", "这些", "那些", "它们", "两边", "两者", "二者", "双方", "上述", "前述")
_POINTING_TOKENS = frozenset({"它", "其", "此", "该", "这", "它们"})
_POINTING_ENGLISH_RE = re.compile(r"\b(?:it|its|this|these|those|they|them)\b|\bthere\s*[?.!]*\s*$")
_COMPARE_RE = re.compile(r"不同|区别|差别|差异|一样|相同|异同|两边|两者|二者|双方|\bdiffer|\bcompare|\bboth\b")
_RELATIVE_RE = re.compile(
    r"(?P<zh>(?:再)?(?P<dir>下|后|上|前)一?(?:条|个条文|个条款))"
    r"|\b(?P<en>(?P<edir>next|following|previous|preceding)\s+(?:article|one|provision))\b")
_SHIFT_START_RE = re.compile(r"^(?:那么|那(?![个些里])|还有|另外|此外|and\b|what about\b|how about\b)")
_QUESTION_WORD_RE = re.compile(r"什么|怎么|怎样|如何|哪|谁|为什么|多少|是否|几")
_TRAILING_RE = re.compile(r"[\s?？!！。.,，、~～…]+$")
_COUNTING_RE = re.compile(r"[这那][两二几](?:部|个|项|份)?|\bthese two\b|\bboth (?:regulations|texts)\b")
_DEMONSTRATIVE_KIND_RE = re.compile(
    r"(?:这个|那个|这部|该|此|这|本)(?:办法|条例|规定|法规)|\bth(?:is|ese) (?:regulations?|measures?)\b")
_CLAUSE_ENDS = frozenset("，,；;。：:")
# Words that say the person moves on to another subject: the turn is a complete question of its own.
_TOPIC_CHANGE_RE = re.compile(
    r"换(?:一)?个(?:问题|话题)|另(?:外)?一个问题|再问(?:一)?个问题|新问题|说点别的|问点别的"
    r"|\b(?:another|a different|a new|one more|next) (?:question|topic|subject)\b"
    r"|\bchang(?:e|ing) (?:of )?(?:the )?(?:topic|subject)\b|\bsomething else\b")
_POSSESSIVE_RE = re.compile(r"(?<= )['’]s\b")
_LATIN_RE = re.compile(r"[a-z0-9]")
_WORD_CHAR_RE = re.compile(r"\w")


@dataclass(frozen=True)
class Understood:
    """How one turn was read: what is searched (`query`, in `regulations`), and how to show it."""

    query: str  # what the search is given
    regulations: tuple[str, ...] | None  # regulation ids the search is limited to (None: all)
    article: ArticleKey | None  # the article the turn points at, when it points at one
    merged: bool  # the history was used
    shown_as: str  # how the question was understood, for people: 杭州市质量促进办法 · 首席质量官制度
    alone: str  # the new words alone (one click searches them as typed)
    kind: str = "fresh"  # fresh | relative | article | regulation | topic | shift
    # The turn that set the topic a `regulation` turn carries into another regulation: what it found there
    # is looked for here (its counterparts), not only its words.
    previous: Understood | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {"query": self.query, "regulations": list(self.regulations) if self.regulations else None,
                "merged": self.merged, "shown_as": self.shown_as, "alone": self.alone, "kind": self.kind}


class Corpus:
    """What the rules need to know about an index: regulation names and titles, which articles exist, and how
    common a word is (the share of documents that hold it)."""

    def __init__(self, regulations: Iterable[Regulation], article: Callable[[str, int, int], Article | None],
                 share: Callable[[str], float]) -> None:
        self.regulations = tuple(regulations)
        self.names: Names = name_table(self.regulations)
        self.titles = {r.id: r.title for r in self.regulations}
        self.article = article
        self._share = share
        self._shares: dict[str, float] = {}

    @classmethod
    def of_articles(cls, regulations: Iterable[Regulation], articles: Iterable[Article]) -> Corpus:
        """From parsed articles (tests, small corpora): a word's share is counted in the article texts."""
        arts = list(articles)
        by_key = {(a.regulation_id, a.number, a.sub_number): a for a in arts}
        texts = [fold(a.text)[0] for a in arts]

        def share(word: str) -> float:
            return sum(word in t for t in texts) / len(texts) if texts else 0.0

        return cls(regulations, lambda r, n, s: by_key.get((r, n, s)), share)

    def share(self, word: str) -> float:
        found = self._shares.get(word)
        if found is None:
            if len(self._shares) > 10_000:  # questions are unbounded; the cache must not be
                self._shares.clear()
            found = self._shares[word] = self._share(word)
        return found

    def is_topic_word(self, word: str) -> bool:
        return self.share(word) < GENERIC_SHARE

    def title(self, regulation_id: str) -> str:
        return self.titles.get(regulation_id, regulation_id)

    def label(self, key: ArticleKey) -> str:
        """The label as printed, or the regular form for an article the index does not hold."""
        found = self.article(*key)
        if found is not None:
            return found.label
        _, number, sub = key
        if number < 1:
            return f"第{number}条"  # no such article: the search says so
        return f"第{to_chinese(number)}条" + (f"之{to_chinese(sub)}" if sub else "")


def corpus_of(retriever) -> Corpus:
    """The Corpus of a Retriever's index, made once per loaded index (kept on the Retriever)."""
    cached = getattr(retriever, "_followup_corpus", None)
    if cached is not None and cached[0] is retriever.index:
        return cached[1]
    from retrieval.lexical import document_share

    index = retriever.index
    corpus = Corpus(retriever.regulations, retriever.article, lambda w: document_share(index, words(w)))
    retriever._followup_corpus = (index, corpus)
    return corpus


# -- reading one turn -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Turn:
    text: str  # as cleaned
    named: tuple[str, ...]  # regulations the turn names
    reference: Reference | None
    step: int  # +1 下一条, -1 上一条, 0 none
    content: str  # the words that say what about (names, article numbers, question words, particles removed)
    topic_words: tuple[str, ...]  # content words specific enough to be a topic
    pointing: bool  # a pronoun that refers back
    shift: bool  # 那X呢 / X呢 / what about X
    compare: bool  # 不同 / 两边 / both
    new_topic: bool = False  # 换个问题 / another question: a complete question, whatever else it says
    searched: str = ""  # the text to search when the turn is complete (without a topic-change marker)


def _read(text: str, corpus: Corpus) -> _Turn:
    folded, position = fold(text)
    ref = find_reference(text, corpus.names)
    named = tuple(ref.regulation_ids) if ref is not None else ()
    masked = list(folded)

    def blank(start: int, end: int) -> None:
        masked[start:end] = " " * (end - start)

    for m in corpus.names.mentions(folded):
        blank(m.start, m.end)
    for c in find_citations(folded, corpus.names):
        blank(c.start, c.end)
    change = _TOPIC_CHANGE_RE.search(folded)
    if change is not None:
        blank(change.start(), change.end())
    step = 0
    rel = _RELATIVE_RE.search(folded)
    if rel is not None:
        forward = (rel.group("dir") or "") in "下后" if rel.group("zh") else rel.group("edir") in ("next", "following")
        step = 1 if forward else -1
        blank(rel.start(), rel.end())
    rest = _POSSESSIVE_RE.sub("  ", "".join(masked))  # "Hangzhou's" leaves 's once the name is taken out
    # Demonstratives that count the regulations (这两部) or stand before the one the turn names (杭州这个办法)
    # point at no earlier turn.
    rest = _COUNTING_RE.sub(lambda m: " " * len(m.group()), rest)
    if named:
        rest = _DEMONSTRATIVE_KIND_RE.sub(lambda m: " " * len(m.group()), rest)
    for p in _POINTING_PHRASES:  # one token each, wherever jieba would have cut them
        rest = rest.replace(p, " 它 ")
    rest = _POINTING_ENGLISH_RE.sub(" 它 ", rest)
    # A pronoun in a clause after one with a topic word points inside the question (质量保险，这个是谁在推).
    pointing = False
    tokens: list[tuple[str, str]] = []  # (token, "word" | "filler" | "break")
    topic_before = topic_here = False
    for tok in segments(rest):
        t = tok.strip()
        kind = "word"
        if t in _CLAUSE_ENDS:
            topic_before = topic_before or topic_here
            kind = "break"
        elif t in _POINTING_TOKENS:
            pointing = pointing or not topic_before
            kind = "break"
        elif not t or not _WORD_CHAR_RE.search(t):
            kind = "break"
        elif t in STOPWORDS or t in FILLER or t.isdigit():
            kind = "filler"
        topic_here = topic_here or bool(kind == "word" and corpus.is_topic_word(t))
        tokens.append((t, kind))
    content = _join(_runs(tokens))
    topic = tuple(t for t, kind in tokens if kind == "word" and corpus.is_topic_word(t))
    bare = _TRAILING_RE.sub("", folded)
    shift = bool(_SHIFT_START_RE.match(bare)) or (bare.endswith("呢") and not _QUESTION_WORD_RE.search(bare))
    searched = text
    if change is not None:  # the marker is no part of the question; what follows it is
        after = text[position[change.end()]:]  # the span was found in the folded text
        searched = _TRAILING_RE.sub("", re.sub(r"^[\s,，:：;；.。!！?？-]+", "", after)) or text
    return _Turn(text, named, ref, step, content, topic, pointing, shift, bool(_COMPARE_RE.search(folded)),
                 change is not None, searched)


def _runs(tokens: list[tuple[str, str]]) -> list[str]:
    """The content as whole stretches of the question: filler inside a stretch of Chinese words is kept as
    typed (企业要不要配专门管质量的人 must not lose 要 and turn into its opposite), filler at either end is dropped,
    and a break (punctuation, a space, a name or pronoun taken out) ends a stretch. "" separates stretches."""
    out: list[str] = []
    run: list[tuple[str, str]] = []

    def flush() -> None:
        while run and run[-1][1] == "filler":
            run.pop()
        if run:
            out.extend(t for t, _ in run)
            out.append("")
        run.clear()

    for t, kind in tokens:
        if kind == "break" or (kind == "filler" and _LATIN_RE.search(t)):
            flush()  # English function words are left out, as whole words (quality insurance)
        elif kind == "word" or run:
            run.append((t, kind))
    flush()
    return out


def _join(tokens: list[str]) -> str:
    """Kept tokens back into text: Chinese runs without spaces, Latin words and separate runs with one."""
    runs: list[str] = []
    current = ""
    for t in tokens:
        if not t:
            if current:
                runs.append(current)
            current = ""
        elif current and (_LATIN_RE.search(t[0]) or _LATIN_RE.search(current[-1])):
            current += " " + t
        else:
            current += t
    if current:
        runs.append(current)
    return " ".join(runs)


# -- the conversation's context ------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Context:
    regulations: tuple[str, ...] | None = None  # what the conversation is on
    topic: str = ""  # topic words of the turn that set the topic
    refinement: str = ""  # words of the latest follow-up on that topic
    topic_article: ArticleKey | None = None  # the topic is this article (a bare article reference)
    article: ArticleKey | None = None  # the article the latest turn pointed at
    seen: tuple[str, ...] = ()  # regulations named while on this topic
    understood: Understood | None = None  # the latest turn as read (searched when its top article is needed)
    top: ArticleKey | None = field(default=None, compare=False)  # its top article, when known


def understand(question: str, history: Sequence[str], corpus: Corpus, *, previous_top: ArticleKey | None = None,
               search_top: Callable[[Understood], ArticleKey | None] | None = None) -> Understood:
    """How `question` reads after `history` (the earlier questions, oldest first).

    `previous_top` is the top article the last history turn got, when the caller knows it; otherwise
    `search_top` is asked for it (a search of that turn as understood), and only when a 下一条 needs it.
    Raises QueryError for a question that cannot be searched (see retrieval.query.clean_query).
    """
    text = clean_query(question)
    ctx = _Context()
    turns = [h for h in history if isinstance(h, str)][-MAX_HISTORY:]
    for n, earlier in enumerate(turns):
        try:
            h = clean_query(earlier)
        except QueryError:
            continue  # an empty or over-long earlier turn leaves the context as it was
        got, turn = _understand_turn(h, ctx, corpus, search_top)
        ctx = _advance(ctx, got, turn)
        if n == len(turns) - 1 and previous_top is not None:
            ctx = replace(ctx, top=previous_top)
    return _understand_turn(text, ctx, corpus, search_top)[0]


def _understand_turn(text: str, ctx: _Context, corpus: Corpus,
                     search_top: Callable[[Understood], ArticleKey | None] | None) -> tuple[Understood, _Turn]:
    t = _read(text, corpus)
    return _rules(text, t, ctx, corpus, search_top), t


def _rules(text: str, t: _Turn, ctx: _Context, corpus: Corpus,
           search_top: Callable[[Understood], ArticleKey | None] | None) -> Understood:
    """The first rule that applies (see the module docstring)."""
    if t.new_topic:
        return _fresh(t.searched, typed=text)
    if ctx.understood is None:
        return _fresh(text)
    ref = t.reference
    if t.step:
        base = ctx.article or ctx.top
        if base is None and search_top is not None:
            base = search_top(ctx.understood)
        if base is None:
            return _fresh(text)
        return _at_article(text, (base[0], base[1] + t.step, 0), corpus, "relative")
    if ref is not None and ref.unknown:
        return _fresh(text)
    if ref is not None and ref.number is not None:
        if ref.regulation_ids or t.topic_words:
            return _fresh(text)
        rid = _single(ctx)
        if rid is None or corpus.article(rid, ref.number, ref.sub_number) is None:
            return _fresh(text)  # no such article in the conversation's regulation: read as typed
        return _at_article(text, (rid, ref.number, ref.sub_number), corpus, "article")
    if t.named and not t.topic_words:
        return _regulation(text, t, ctx, corpus)
    if (not t.topic_words and (t.content or t.pointing)) or (t.pointing and len(t.topic_words) <= MAX_POINTING_TOPIC):
        return _topic(text, t, ctx, corpus)
    if t.shift and not t.named and ctx.regulations:
        regs = ctx.regulations
        return Understood(t.content or text, regs, None, True, _shown(corpus, regs, t.content or text), text,
                          "shift")
    return _fresh(text)


def _fresh(text: str, typed: str | None = None) -> Understood:
    return Understood(text, None, None, False, text, typed or text, "fresh")


def _single(ctx: _Context) -> str | None:
    """The one regulation the conversation is on, if it is on one."""
    if ctx.regulations and len(ctx.regulations) == 1:
        return ctx.regulations[0]
    if ctx.article is not None:
        return ctx.article[0]
    return None


def _at_article(text: str, key: ArticleKey, corpus: Corpus, kind: str) -> Understood:
    title, label = corpus.title(key[0]), corpus.label(key)
    return Understood(f"{title}{label}", (key[0],), key, True, f"《{title}》{label}", text, kind)


def _regulation(text: str, t: _Turn, ctx: _Context, corpus: Corpus) -> Understood:
    regs = t.named
    if t.compare:
        regs = tuple(dict.fromkeys((*(ctx.regulations or ()), *ctx.seen, *t.named)))
    if ctx.topic_article is not None and not ctx.topic:
        article = corpus.article(*ctx.topic_article)
        if article is None:
            return _fresh(text)
        if set(regs) == {ctx.topic_article[0]}:  # the same regulation again: the same article
            return _at_article(text, ctx.topic_article, corpus, "regulation")
        cited = f"《{corpus.title(ctx.topic_article[0])}》{article.label}"
        return Understood(_article_query(article, corpus), regs, None, True,
                          _shown(corpus, regs, f"对应{cited}"), text, "regulation")
    words = _words(ctx.topic, ctx.refinement)
    if not words:
        return _fresh(text)
    return Understood(words, regs, None, True, _shown(corpus, regs, words), text, "regulation",
                      previous=ctx.understood)


def _topic(text: str, t: _Turn, ctx: _Context, corpus: Corpus) -> Understood:
    regs = t.named or ctx.regulations
    if t.compare and len(ctx.seen) >= 2 and not t.named:
        regs = ctx.seen
    new = t.content or text
    if ctx.topic_article is not None and not ctx.topic and (not t.named or ctx.topic_article[0] in t.named):
        key = ctx.topic_article
        title, label = corpus.title(key[0]), corpus.label(key)
        return Understood(f"{title}{label} {new}", (key[0],), key, True, f"《{title}》{label} · {new}", text,
                          "topic")
    if not ctx.topic:
        if not regs or regs == t.named:
            return _fresh(text)  # nothing to carry over
        return Understood(new, regs, None, True, _shown(corpus, regs, new), text, "topic")
    words = _words(ctx.topic, new)
    return Understood(words, regs, None, True, _shown(corpus, regs, _words(ctx.topic, new, sep=" · ")), text, "topic")


def _words(*parts: str, sep: str = " ") -> str:
    return sep.join(p for p in dict.fromkeys(parts) if p)


def _shown(corpus: Corpus, regulations: tuple[str, ...] | None, what: str) -> str:
    titles = "、".join(corpus.title(r) for r in regulations or ())
    return f"{titles} · {what}" if titles else what


def _article_query(article: Article, corpus: Corpus) -> str:
    """An article's text as a query for its counterpart elsewhere: without the names and article numbers it
    cites (they would pin or refuse the search), cut at a sentence end near MAX_ARTICLE_QUERY characters."""
    text = fold(article.text)[0]
    masked = list(text)
    spans = [(m.start, m.end) for m in corpus.names.mentions(text)]
    spans += [(c.start, c.end) for c in find_citations(text, corpus.names)]
    for law in named_laws(text):
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(law), text)]
    for a, b in spans:
        masked[a:b] = " " * (b - a)
    cleaned = re.sub(r"[《》]", " ", "".join(masked))
    cleaned = re.sub(r"\s+", " ", cleaned).strip()
    if len(cleaned) > MAX_ARTICLE_QUERY:
        cut = cleaned.rfind("。", 0, MAX_ARTICLE_QUERY)
        cleaned = cleaned[: cut + 1] if cut > 0 else cleaned[:MAX_ARTICLE_QUERY]
    return cleaned


def _advance(ctx: _Context, got: Understood, t: _Turn) -> _Context:
    """The context after a turn that was read as `got`."""
    if got.kind in ("relative", "article"):
        key = got.article
        return _Context(got.regulations, "", "", key, key, tuple(dict.fromkeys((*ctx.seen, key[0]))), got)
    if got.kind == "regulation":
        seen = tuple(dict.fromkeys((*ctx.seen, *(got.regulations or ()))))
        return _Context(got.regulations, ctx.topic, ctx.refinement, ctx.topic_article, None, seen, got)
    if got.kind == "topic":
        new = t.content or t.text
        return _Context(got.regulations, ctx.topic, new if ctx.topic else "", ctx.topic_article,
                        got.article, ctx.seen, got)
    if got.kind == "shift":
        return _Context(got.regulations, t.content or t.text, "", None, None, got.regulations or (), got)
    # A fresh question: its own regulation, topic, and article (a bare reference makes the article the topic).
    ref = t.reference
    article = None
    if ref is not None and ref.number is not None and not ref.unknown and len(ref.regulation_ids) == 1:
        article = (ref.regulation_ids[0], ref.number, ref.sub_number)
    regs = t.named or None
    topic_article = article if article is not None and not t.topic_words else None
    return _Context(regs, "" if topic_article else t.content, "", topic_article, article, t.named, got)


def response_json(response, understood: Understood | None) -> dict[str, Any]:
    """The CLI/API JSON of a search, with "understood" when the question came with a history."""
    d = response.to_json()
    if understood is not None:
        d["understood"] = understood.to_json()
    return d


def search_conversation(retriever, question: str, history: Sequence[str] | None, k: int = 5,
                        mode: str | None = None, regulations: Sequence[str] | None = None,
                        previous_top: ArticleKey | None = None, settings=None):
    """Search `question` as understood after `history`: (SearchResponse, Understood). Arguments as for
    Retriever.search; `previous_top` is the last history turn's top article when the caller knows it (else a
    下一条 after a turn without an article reference searches that turn again).

    The caller's `regulations` filter still holds: the conversation's regulations are searched within it,
    and when the two do not meet, the caller's filter wins (it is a setting the person chose)."""
    from retrieval.settings import DEFAULT_MODE

    mode = mode or DEFAULT_MODE
    history = _checked_history(history)
    corpus = corpus_of(retriever)
    wanted = _ids(regulations, corpus) if regulations else None

    def top_of(u: Understood) -> ArticleKey | None:
        resp = retriever.search(u.query, k=1, mode=mode, regulations=_within(u.regulations, wanted, regulations),
                                settings=settings)
        if not resp.results:
            return None
        a = resp.results[0].article
        return (a.regulation_id, a.number, a.sub_number)

    understood = understand(question, history, corpus, previous_top=previous_top, search_top=top_of)
    log.debug("%r read as %s: %s", question, understood.kind, understood.shown_as)
    within = _within(understood.regulations, wanted, regulations)
    if understood.kind != "regulation" or understood.previous is None:
        response = retriever.search(understood.query, k=k, mode=mode, regulations=within, settings=settings)
        return response, understood
    response = retriever.search(understood.query, k=max(k, COUNTERPART_POOL), mode=mode, regulations=within,
                                settings=settings)
    previous = understood.previous
    if not response.abstained:
        found = retriever.search(previous.query, k=COUNTERPARTS, mode=mode, settings=settings,
                                 regulations=_within(previous.regulations, wanted, regulations))
        if not found.abstained:
            response = _counterparts_first(retriever, response, found, k)
    return _cut(response, k), understood


def _counterparts_first(retriever, response, earlier, k: int):
    """`response` (a search in the regulation the conversation moved to) with the counterparts of what the
    earlier turn found lifted: for each of its top articles, the closest article here by stored vectors (the
    article itself when it is here already) gains COUNTERPART_BONUS on its score. Only articles the search
    found itself are lifted: the step reorders, it never brings in an article the question's words did not
    reach, and a clear answer of the follow-up's own words stays first."""
    by_id = {r.article.id: r for r in response.results}
    lifted: set[str] = set()
    for r in earlier.results:
        a = r.article
        if a.id in by_id:
            lifted.add(a.id)
            continue
        cand = next((x.article.id for x in retriever.related(a.id, COUNTERPARTS) if x.article.id in by_id), None)
        if cand is not None:
            lifted.add(cand)
    if not lifted:
        return response
    ordered = sorted(response.results,
                     key=lambda r: -(r.score + COUNTERPART_BONUS * (r.article.id in lifted)))
    ordered = [replace(r, score=r.score + COUNTERPART_BONUS * (r.article.id in lifted)) for r in ordered]
    verdict = judge(response.query, [r.article.text for r in ordered[:k]], response.abstained)
    return replace(response, results=tuple(ordered), answer=verdict.answer, reason=verdict.reason)


def _cut(response, k: int):
    if len(response.results) <= k:
        return response
    results = response.results[:k]
    verdict = judge(response.query, [r.article.text for r in results], response.abstained)
    return replace(response, results=results, answer=verdict.answer, reason=verdict.reason)


def _checked_history(history: object) -> list[str]:
    if history is None:
        return []
    if not isinstance(history, list | tuple) or not all(isinstance(h, str) for h in history):
        raise QueryError("history must be a list of the earlier questions (strings), oldest first")
    return list(history)


def _ids(regulations: Sequence[str], corpus: Corpus) -> frozenset[str]:
    """Regulation ids a caller's filter names (ids, titles or short names), as Retriever.search reads them."""
    out = set()
    for r in regulations:
        for reg in corpus.regulations:
            if r in (reg.id, reg.title) or r in reg.short_names:
                out.add(reg.id)
    return frozenset(out)


def _within(conversation: tuple[str, ...] | None, wanted: frozenset[str] | None,
            given: Sequence[str] | None) -> Sequence[str] | None:
    if conversation is None:
        return given
    if wanted is None:
        return conversation
    both = tuple(r for r in conversation if r in wanted)
    return both or given
