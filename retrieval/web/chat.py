"""The page's handlers: a chat turn, a link followed in place, the page's first load, and Gradio's `/search`.

Each returns what a Gradio event needs (the chat's messages, the HTML of a reply, the laws tab's parts), built
from the service's answers by the card renderers (cards, compare_view, laws). app.py wires them to the Blocks.
"""

from __future__ import annotations

import html
import logging
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import gradio as gr

from ingest.errors import RegQAError
from retrieval.conversation import compare
from retrieval.conversation.permalinks import Permalinks
from retrieval.serving.service import SearchService, as_k
from retrieval.settings import DEFAULT_MODE, MODES
from retrieval.web import cards, compare_view, laws, versions_view

log = logging.getLogger(__name__)

CHAT_K = 3  # articles per chat reply (the slider goes to MAX_CHAT_K)
MAX_CHAT_K = 10
API_K = 5  # the CLI's default, so `/search` with defaults equals `python -m retrieval search --json`
RELATED_K = 3
MAX_HISTORY = 40  # messages kept in a chat; older ones scroll away
MAX_QUESTIONS = 20  # earlier questions a follow-up is read against (retrieval.conversation.followup.MAX_HISTORY)
INTERNAL_ERROR = "检索时出错，请稍后再试 (something went wrong; please try again)"
MODE_LABELS = {"hybrid": "混合 hybrid（推荐 recommended）", "dense": "语义 dense (meaning)",
               "lexical": "关键词 lexical (words)"}
EXAMPLES = [
    "企业要不要配专门管质量的人？",
    "湖北和杭州对首席质量官的规定有什么不同",
    "政府对质量奖励有哪些规定？",
    "湖北条例第二十一条",
    "When does the Hangzhou measure take effect?",
    "What support do small businesses get for quality improvement?",
]


class ChatPage:
    """The handlers of one page, answering through one SearchService (shared with the JSON API)."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    # -- replies (HTML) ---------------------------------------------------------------------------------
    def links(self, eng) -> Permalinks:
        return Permalinks(eng.retriever.regulations)

    def render(self, eng, response, understood=None, question: str = "",
               regulations: list[str] | None = None, as_of: str | None = None) -> str:
        from ingest.words import to_simplified

        ids = self.links(eng)
        blocks = []
        for rank, r in enumerate(response.results, 1):
            aid = r.article.id
            mask = cards.word_mask(r.article.text, response.words, to_simplified)
            badge = self.version_badge(eng, r.article, ids, as_of)
            blocks.append(cards.card(rank, r, mask, eng.retriever.context(aid), eng.retriever.related(aid, RELATED_K),
                                     badge + cards.article_actions(ids.of(r.article))))
        build = eng.retriever.index.path.name
        date = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        merged = understood is not None and understood.merged
        lead = cards.understood_line(understood.shown_as, understood.alone) if merged else ""
        tools = cards.reply_tools(response, build, date, asked=question,
                                  understood=understood.shown_as if merged else "")
        return cards.answer(response, blocks, tools, lead, cards.share_line(question, regulations) if question else "",
                            shown=cards.shown_first(response.results, f"{question} {response.query}"),
                            filtered=bool(regulations))

    def version_badge(self, eng, article, ids, as_of: str | None = None) -> str:
        """A regulation held in several versions (or one not in force): its status badge and version date, and
        for a superseded article a link to the same article in the version in force (retrieval/versions/in_force.py)."""
        from retrieval.versions.in_force import annotate

        row = {"regulation_id": article.regulation_id, "article": article.label}
        annotate({"results": [row]}, eng.retriever.index, as_of)
        lib_versions = versions_view_versions(eng, article.regulation_id)
        if "status" not in row or (row["status"] == "in_force" and lib_versions < 2):
            return ""
        badge = versions_view.status_badge(row["status"], row.get("version"))
        current = row.get("current") or {}
        if current.get("article"):
            now = eng.retriever.article(current["regulation_id"], current["number"])
            if now is not None:
                badge += cards.action("link", f"现行 {current['article']} In force now", a=ids.of(now))
        elif current.get("removed"):
            badge += '<span class="regqa-note">现行版本已删除该条 · removed in the version in force</span>'
        return badge

    def versions(self, name: str, date_from: str | None, date_to: str | None) -> tuple[str, str]:
        """(question bubble, reply) for `?versions=<regulation>&from=&to=`: the versions and the old beside the new."""
        from retrieval.versions.in_force import versions_of
        from retrieval.versions.report import compare as compare_versions

        eng = self.service.engine()
        c = compare_versions(versions_of(eng.retriever.index), name, date_from, date_to)
        return cards.user_message(f"版本对照 Versions：{name}"), versions_view.versions_page(c)

    def render_comparison(self, eng, comparison) -> str:
        ids = self.links(eng)
        return compare_view.comparison(comparison, lambda r: cards.action("link", "链接 Link", a=ids.of(r.article)))

    def reply(self, message: str, k: int, mode: str | None, regulations: list[str] | None,
              history: list[str] | None = None, levels: list[str] | None = None,
              regions: list[str] | None = None, as_of: str | None = None) -> str:
        """The reply to one turn: a comparison when it asks for one, else the articles of the turn as understood
        (in the versions in force today, or on `as_of`, or the version the question names)."""
        eng = self.service.engine()
        wanted = compare.sides_of(eng.retriever, message) if isinstance(message, str) and message.strip() else None
        if wanted is not None and _one_regulation(eng, wanted[0]):  # versions of one law are not two sides
            wanted = None
        if wanted is not None:
            regs, topic = wanted
            if regulations:  # the filter the person chose still holds when it leaves two sides or more
                regs = tuple(r for r in regs if r in regulations) if len(set(regs) & set(regulations)) >= 2 else regs
            within = eng.retriever.regulation_ids(None, levels, regions) if levels or regions else None
            if within is not None and len(set(regs) & within) >= 2:  # so do the chosen levels and regions
                regs = tuple(r for r in regs if r in within)
            return self.render_comparison(eng, compare.compare_topic(eng.retriever, regs, topic, mode))
        from retrieval.versions.in_force import regulation_filter  # the versions in force today, or the one named

        wanted = regulation_filter(eng.retriever.index, regulations, as_of, question=message)
        found = self.service.converse(message, history, k, mode, wanted, levels, regions)
        return self.render(found.engine, found.response, found.understood, message, regulations, as_of)

    def opened(self, kind: str, link_id: str) -> tuple[str, str]:
        """(question bubble, reply) for an article link (`?a=`) or an article compared from its card."""
        eng = self.service.engine()
        key = self.links(eng).resolve(link_id)
        article = eng.retriever.article(*key) if key else None
        if article is None:
            return cards.user_message(link_id), cards.error_message(f"没有这一条 (no such article): {link_id}")
        acts = cards.article_actions(self.links(eng).of(article))
        if kind == "compare":
            c = compare.compare_article(eng.retriever, article.id)
            return cards.user_message(f"对照 Compare：{article.citation}"), self.render_comparison(eng, c)
        return (cards.user_message(article.citation),
                cards.article_view(article, eng.retriever.context(article.id, before=3, after=3), acts))

    # -- events -----------------------------------------------------------------------------------------
    async def turn(self, message: str, chat: list[dict], questions: list[str], k: int, mode: str | None,
                   regulations: list[str] | None, fresh: bool = False, levels: list[str] | None = None,
                   regions: list[str] | None = None, as_of: str | None = None) -> tuple[list[dict], list[str]]:
        chat = list(chat or [])[-(MAX_HISTORY - 2):]
        chat.append({"role": "user", "content": cards.user_message(message)})
        earlier = [] if fresh else list(questions or [])[-MAX_QUESTIONS:]
        try:
            reply_html = await self.service.run(self.reply, message, k, mode, regulations, earlier, levels, regions,
                                                as_of)
        except RegQAError as exc:
            reply_html = cards.error_message(str(exc))
        except Exception:
            log.exception("search failed")
            reply_html = cards.error_message(INTERNAL_ERROR)
        chat.append({"role": "assistant", "content": reply_html})
        return chat, [*earlier, message]

    async def ask(self, message: str, history: list[dict] | None, questions: list[str] | None, k: float,
                  mode: str, regulations: list[str] | None, levels: list[str] | None = None,
                  regions: list[str] | None = None, as_of: str | None = None):
        """Chat turn: the question as typed, then the cited articles (or a short error, or "busy, try again").
        `as_of` (the page's date field, YYYY-MM-DD; blank: today) searches the versions in force that day."""
        if not isinstance(message, str) or not message.strip():
            return gr.skip(), gr.skip(), gr.skip()
        try:
            count = as_k(k, CHAT_K)
        except RegQAError:
            count = CHAT_K
        chat, questions = await self.turn(message, history or [], questions or [], count, mode, regulations,
                                          levels=levels, regions=regions, as_of=_date_field(as_of))
        return chat, "", questions

    async def ask_example(self, sample: list[str], history: list[dict] | None, questions: list[str] | None,
                          k: float, mode: str, regulations: list[str] | None, levels: list[str] | None = None,
                          regions: list[str] | None = None, as_of: str | None = None):
        return await self.ask(sample[0] if sample else "", history, questions, k, mode, regulations, levels, regions,
                              as_of)

    async def follow(self, params: dict[str, list[str]], chat: list[dict], questions: list[str], k: Any, mode: Any,
                     regulations: list[str] | None, levels: list[str] | None = None,
                     regions: list[str] | None = None, as_of: str | None = None) -> tuple[list[dict], list[str]] | None:
        """A page link: `?q=` (+ `reg`, `k`, `mode`, `fresh`, `as_of`) asks, `?a=` opens an article, `?compare=`
        compares one, `?versions=` shows a regulation's versions; None when the query asks for nothing. Every value
        is user input: shown escaped, checked as typed."""
        def first(name: str) -> str:
            return (params.get(name) or [""])[0].strip()

        if first("versions"):
            try:
                question, answer_html = await self.service.run(self.versions, first("versions"),
                                                               first("from") or None, first("to") or None)
            except RegQAError as exc:
                question = cards.user_message(first("versions"))
                answer_html = cards.error_message(str(exc))
            return [*chat, {"role": "user", "content": question}, {"role": "assistant", "content": answer_html}], []
        if first("a") or first("compare"):
            kind = "compare" if first("compare") else "article"
            try:
                question, answer_html = await self.service.run(self.opened, kind, first("compare") or first("a"))
            except RegQAError as exc:
                question = cards.user_message(first("compare") or first("a"))
                answer_html = cards.error_message(str(exc))
            return [*chat, {"role": "user", "content": question}, {"role": "assistant", "content": answer_html}], []
        q = (params.get("q") or [""])[0]
        if not q.strip():
            return None
        regs = [r.strip() for v in params.get("reg") or [] for r in v.split(",") if r.strip()] or regulations
        try:
            count = as_k(first("k") or k, CHAT_K)
        except RegQAError:
            count = CHAT_K
        chosen = first("mode") if first("mode") in MODES else mode
        return await self.turn(q, chat, questions, count, chosen, regs, fresh=bool(first("fresh")),
                               as_of=first("as_of") or as_of, levels=levels,
                               regions=regions)

    async def command(self, cmd: str, history: list[dict] | None, questions: list[str] | None, k: float, mode: str,
                      regulations: list[str] | None, levels: list[str] | None = None,
                      regions: list[str] | None = None, as_of: str | None = None):
        """A link clicked inside the chat (its query string, sent by the page's script): followed in place."""
        done = await self.follow(parse_qs((cmd or "").lstrip("?")), list(history or []), list(questions or []), k,
                                 mode, regulations, levels, regions, _date_field(as_of))
        if done is None:
            return gr.skip(), "", gr.skip()
        return done[0], "", done[1]

    async def on_load(self, request: gr.Request):
        """Fill the regulation filter and list (also loads the model on the first visit in reload mode), then
        follow the page's link: `?q=…` answered, `?a=hubei-23` opened in context, `?compare=hubei-23` compared."""
        try:
            rows = self.service.engine().rows
        except RegQAError as exc:
            unavailable = f"⚠️ 索引不可用 (index unavailable): {html.escape(str(exc))}"
            return gr.skip(), gr.skip(), unavailable, gr.skip(), gr.skip(), gr.skip()
        rows = laws.ordered(rows)
        params: dict[str, list[str]] = {}
        for name, value in (request.query_params.multi_items() if request is not None else []):
            params.setdefault(name, []).append(value)
        done = await self.follow(params, [], [], CHAT_K, DEFAULT_MODE, None)
        ids = {r["id"] for r in rows}
        chosen = [r.strip() for v in params.get("reg") or [] for r in v.split(",") if r.strip() in ids] if done else []
        choices = laws.filter_choices(rows)
        filter_ = gr.Dropdown(choices=choices, value=chosen) if chosen else gr.Dropdown(choices=choices)
        chat, questions = done if done is not None else (gr.skip(), gr.skip())
        return filter_, laws.table(rows), laws.status(rows), laws.chapter_outline(rows), chat, questions

    # -- Gradio's named API --------------------------------------------------------------------------------
    async def search(self, question: str, k: int = API_K, mode: str = DEFAULT_MODE,
                     regulations: list[str] | None = None) -> dict:
        """Find the articles that answer a question.

        Returns {"query", "abstained", "results": [{"title", "article", "number", "chapter", "text", "score",
        "citation", ...}]}, the JSON of `python -m retrieval search --json`. `mode` is hybrid, dense or lexical;
        `regulations` limits the search (ids, titles or short names of regulations)."""
        from retrieval.versions.in_force import annotate, regulation_filter  # in force today, or the version named

        try:
            eng = self.service.engine()
            wanted = regulation_filter(eng.retriever.index, regulations,
                                       question=question if isinstance(question, str) else None)
            found = await self.service.search_async(question, as_k(k, API_K), mode or DEFAULT_MODE, wanted)
        except RegQAError as exc:
            raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
        except Exception:
            log.exception("search failed")
            raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
        return annotate(found.response.to_json(), found.engine.retriever.index)


def versions_view_versions(eng, regulation_id: str) -> int:
    """How many versions the index holds of the regulation this id is one version of."""
    from retrieval.versions.in_force import versions_of

    table = versions_of(eng.retriever.index).table
    return len(table.versions(regulation_id)) if regulation_id in table else 1


def _one_regulation(eng, regulation_ids) -> bool:
    """Whether the ids are all versions of one regulation (会计法 names its 2017 and 2024 versions)."""
    from ingest.versions import title_key

    titles = {r.id: r.title for r in eng.retriever.regulations}
    return len({title_key(titles[r]) for r in regulation_ids if r in titles}) < 2


def _date_field(value: Any) -> str | None:
    """The page's date field as typed (blank: today); a bad date is refused by the search with a clear message."""
    return value.strip() or None if isinstance(value, str) else None
