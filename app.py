"""法规条文检索 · Ask the regulations: a chat whose replies are the articles themselves, verbatim and cited.

Run `python app.py` (or `gradio app.py` to reload the page on edits; that serves the page only). Settings
come from the environment: REGQA_INDEX (index directory, default data/index), REGQA_FEEDBACK_DIR (the
feedback log, default data/feedback; see `retrieval/serving/feedback.py`) and GRADIO_SERVER_PORT
(default 7860); the server binds 127.0.0.1 only; the serving settings (REGQA_MAX_INFLIGHT, ...) are in
`retrieval/serving/service.py`. Programs call the plain JSON API (`retrieval/serving/http_api.py`; docs at /docs):

    curl 'http://127.0.0.1:7860/api/search?q=湖北条例第二十三条&k=3'

or Gradio's `/search` endpoint; both return the same JSON as `python -m retrieval search --json`:

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("湖北条例第二十三条", 5, "hybrid", api_name="/search")
"""

from __future__ import annotations

import html
import logging
import os
import sys
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import gradio as gr

from ingest import paths
from ingest.errors import RegQAError
from retrieval import web
from retrieval.conversation import compare
from retrieval.conversation.permalinks import Permalinks
from retrieval.serving.feedback import FeedbackLog, feedback_dir
from retrieval.serving.service import SearchService, ServingSettings, as_k, query_embedder
from retrieval.settings import DEFAULT_MODE, MODES
from retrieval.web import cards, check_tab, compare_view, laws

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio when it would report; never report

log = logging.getLogger("app")

ROOT = Path(__file__).resolve().parent
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


def index_dir() -> Path:
    """$REGQA_INDEX, else the repository's data/index (whatever the working directory)."""
    return paths.index_dir(base=ROOT)


# -- the model and index: loaded once per process, on first use ----------------------------------------
@dataclass
class Engine:
    retriever: Any  # retrieval.retriever.Retriever; its questions go through one batching embedder
    rows: list[dict[str, Any]]  # `python -m ingest list --json` rows


def serving_settings() -> ServingSettings:
    try:
        return ServingSettings.from_env()
    except RegQAError as exc:  # main() reports it and exits; `gradio app.py` serves with the defaults
        log.error("%s; using the default serving settings", exc)
        return ServingSettings()


if gr.NO_RELOAD:  # `gradio app.py` re-runs this file on every edit; keep what was loaded
    _ENGINES: dict[str, Engine] = {}
    _ENGINES_LOCK = threading.Lock()
    SERVICE = SearchService(lambda: engine(), serving_settings(), FeedbackLog(feedback_dir(base=ROOT)))


def engine() -> Engine:
    """The loaded model and index; a newly switched-in build is picked up on the next request."""
    path = index_dir()
    key = str(path.resolve())
    with _ENGINES_LOCK:
        current = _ENGINES.get(key)
        if current is not None and not current.retriever.newer_build_current():
            return current
        from ingest.catalog import regulation_rows
        from retrieval.retriever import Retriever

        log.info("loading the index at %s", path)
        if current is None:
            retriever = Retriever(path, embedder=query_embedder(path, SERVICE.settings))
        else:
            # A newer build reuses the loaded model when it was made with the same one (the usual rebuild).
            retriever = current.retriever.reloaded()
            if retriever.embedder is not current.retriever.embedder:  # another model: batch its questions too
                retriever = retriever.with_embedder(query_embedder(path, SERVICE.settings))
        _ENGINES[key] = Engine(retriever, regulation_rows(retriever.index))
        return _ENGINES[key]


# -- chat ------------------------------------------------------------------------------------------------
def links(eng: Engine) -> Permalinks:
    return Permalinks(eng.retriever.regulations)


def render(eng: Engine, response, understood=None, question: str = "", regulations: list[str] | None = None) -> str:
    from ingest.words import to_simplified

    ids = links(eng)
    blocks = []
    for rank, r in enumerate(response.results, 1):
        aid = r.article.id
        mask = cards.word_mask(r.article.text, response.words, to_simplified)
        blocks.append(cards.card(rank, r, mask, eng.retriever.context(aid), eng.retriever.related(aid, RELATED_K),
                                 cards.article_actions(ids.of(r.article))))
    build = eng.retriever.index.path.name
    date = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    lead = cards.understood_line(understood.shown_as, understood.alone) if understood and understood.merged else ""
    return cards.answer(response, blocks, cards.reply_tools(response, build, date), lead,
                        cards.share_line(question, regulations) if question else "")


def render_comparison(eng: Engine, comparison) -> str:
    ids = links(eng)
    return compare_view.comparison(comparison, lambda r: cards.action("link", "链接 Link", a=ids.of(r.article)))


def reply(message: str, k: int, mode: str | None, regulations: list[str] | None,
          history: list[str] | None = None) -> str:
    """The reply to one turn: a comparison when it asks for one, else the articles of the turn as understood."""
    eng = SERVICE.engine()
    wanted = compare.sides_of(eng.retriever, message) if isinstance(message, str) and message.strip() else None
    if wanted is not None:
        regs, topic = wanted
        if regulations:  # the filter the person chose still holds when it leaves two sides or more
            regs = tuple(r for r in regs if r in regulations) if len(set(regs) & set(regulations)) >= 2 else regs
        return render_comparison(eng, compare.compare_topic(eng.retriever, regs, topic, mode))
    found = SERVICE.converse(message, history, k, mode, regulations)
    return render(found.engine, found.response, found.understood, message, regulations)


def opened(kind: str, link_id: str) -> tuple[str, str]:
    """(question bubble, reply) for an article link (`?a=`) or an article compared from its card."""
    eng = SERVICE.engine()
    key = links(eng).resolve(link_id)
    article = eng.retriever.article(*key) if key else None
    if article is None:
        return cards.user_message(link_id), cards.error_message(f"没有这一条 (no such article): {link_id}")
    acts = cards.article_actions(links(eng).of(article))
    if kind == "compare":
        c = compare.compare_article(eng.retriever, article.id)
        return cards.user_message(f"对照 Compare：{article.citation}"), render_comparison(eng, c)
    return (cards.user_message(article.citation),
            cards.article_view(article, eng.retriever.context(article.id, before=3, after=3), acts))


async def turn(message: str, chat: list[dict], questions: list[str], k: int, mode: str | None,
               regulations: list[str] | None, fresh: bool = False) -> tuple[list[dict], list[str]]:
    chat = list(chat or [])[-(MAX_HISTORY - 2):]
    chat.append({"role": "user", "content": cards.user_message(message)})
    earlier = [] if fresh else list(questions or [])[-MAX_QUESTIONS:]
    try:
        reply_html = await SERVICE.run(reply, message, k, mode, regulations, earlier)
    except RegQAError as exc:
        reply_html = cards.error_message(str(exc))
    except Exception:
        log.exception("search failed")
        reply_html = cards.error_message(INTERNAL_ERROR)
    chat.append({"role": "assistant", "content": reply_html})
    return chat, [*earlier, message]


async def ask(message: str, history: list[dict] | None, questions: list[str] | None, k: float, mode: str,
              regulations: list[str] | None):
    """Chat turn: the question as typed, then the cited articles (or a short error, or "busy, try again")."""
    if not isinstance(message, str) or not message.strip():
        return gr.skip(), gr.skip(), gr.skip()
    try:
        count = as_k(k, CHAT_K)
    except RegQAError:
        count = CHAT_K
    chat, questions = await turn(message, history or [], questions or [], count, mode, regulations)
    return chat, "", questions


async def ask_example(sample: list[str], history: list[dict] | None, questions: list[str] | None, k: float,
                      mode: str, regulations: list[str] | None):
    return await ask(sample[0] if sample else "", history, questions, k, mode, regulations)


async def follow(params: dict[str, list[str]], chat: list[dict], questions: list[str], k: Any, mode: Any,
                 regulations: list[str] | None) -> tuple[list[dict], list[str]] | None:
    """A page link: `?q=` (+ `reg`, `k`, `mode`, `fresh`) asks, `?a=` opens an article, `?compare=` compares
    one; None when the query asks for nothing. Every value is user input: shown escaped, checked as typed."""
    def first(name: str) -> str:
        return (params.get(name) or [""])[0].strip()

    if first("a") or first("compare"):
        kind = "compare" if first("compare") else "article"
        try:
            question, answer_html = await SERVICE.run(opened, kind, first("compare") or first("a"))
        except RegQAError as exc:
            question, answer_html = cards.user_message(first("compare") or first("a")), cards.error_message(str(exc))
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
    return await turn(q, chat, questions, count, chosen, regs, fresh=bool(first("fresh")))


async def command(cmd: str, history: list[dict] | None, questions: list[str] | None, k: float, mode: str,
                  regulations: list[str] | None):
    """A link clicked inside the chat (its query string, sent by the page's script): followed in place."""
    done = await follow(parse_qs((cmd or "").lstrip("?")), list(history or []), list(questions or []), k, mode,
                        regulations)
    if done is None:
        return gr.skip(), "", gr.skip()
    return done[0], "", done[1]


async def on_load(request: gr.Request):
    """Fill the regulation filter and list (also loads the model on the first visit in reload mode), then
    follow the page's link: `?q=…` answered, `?a=hubei-23` opened in context, `?compare=hubei-23` compared."""
    try:
        rows = engine().rows
    except RegQAError as exc:
        unavailable = f"⚠️ 索引不可用 (index unavailable): {html.escape(str(exc))}"
        return gr.skip(), gr.skip(), unavailable, gr.skip(), gr.skip(), gr.skip()
    rows = laws.ordered(rows)
    params: dict[str, list[str]] = {}
    for name, value in (request.query_params.multi_items() if request is not None else []):
        params.setdefault(name, []).append(value)
    done = await follow(params, [], [], CHAT_K, DEFAULT_MODE, None)
    ids = {r["id"] for r in rows}
    chosen = [r.strip() for v in params.get("reg") or [] for r in v.split(",") if r.strip() in ids] if done else []
    choices = laws.filter_choices(rows)
    filter_ = gr.Dropdown(choices=choices, value=chosen) if chosen else gr.Dropdown(choices=choices)
    chat, questions = done if done is not None else (gr.skip(), gr.skip())
    return filter_, laws.table(rows), laws.status(rows), laws.chapter_outline(rows), chat, questions


# -- API -------------------------------------------------------------------------------------------------
async def search(question: str, k: int = API_K, mode: str = DEFAULT_MODE,
                 regulations: list[str] | None = None) -> dict:
    """Find the articles that answer a question.

    Returns {"query", "abstained", "results": [{"title", "article", "number", "chapter", "text", "score",
    "citation", ...}]}, the JSON of `python -m retrieval search --json`. `mode` is hybrid, dense or lexical;
    `regulations` limits the search (ids, titles or short names of regulations)."""
    try:
        found = await SERVICE.search_async(question, as_k(k, API_K), mode or DEFAULT_MODE, regulations)
    except RegQAError as exc:
        raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
    except Exception:
        log.exception("search failed")
        raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
    return found.response.to_json()


# -- page ------------------------------------------------------------------------------------------------
# Local fonts only: the default theme would fetch web fonts, and the page must work offline.
THEME = gr.themes.Default(
    font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"])


def build() -> gr.Blocks:
    with gr.Blocks(title="法规条文检索 · Regulation search", analytics_enabled=False) as page:
        gr.Markdown(web.asset("intro.md"), elem_id="regqa-intro")
        status = gr.Markdown("正在加载索引… Loading the index…", elem_id="regqa-status")
        with gr.Tabs():
            with gr.Tab("检索 Search", id="search"):
                chatbot = gr.Chatbot(
                    label="对话 Conversation", elem_id="regqa-chat", height="62vh", min_height=320,
                    latex_delimiters=[], buttons=[], feedback_options=None, group_consecutive_messages=False,
                    layout="panel", autoscroll=False,
                    placeholder="在下方输入问题，或点击示例。Type a question below, or click an example.")
                msg = gr.Textbox(placeholder="输入问题，按 Enter 检索 · Type a question and press Enter",
                                 show_label=False, lines=1, max_lines=4, submit_btn=True, autofocus=True,
                                 elem_id="regqa-input")
                with gr.Row():
                    regulations = gr.Dropdown(
                        choices=[], value=[], multiselect=True, filterable=True, scale=3, min_width=240,
                        label="法规范围 Regulations",
                        info="默认检索全部，可输入名称筛选 · all by default; type to filter",
                        elem_id="regqa-regs")
                    k = gr.Slider(1, MAX_CHAT_K, value=CHAT_K, step=1, scale=1, min_width=160,
                                  label="条数 Results", elem_id="regqa-k")
                with gr.Accordion("高级设置 Advanced", open=False):
                    mode = gr.Radio([(MODE_LABELS[m], m) for m in MODES], value=DEFAULT_MODE,
                                    label="检索方式 Search mode", elem_id="regqa-mode")
                examples = gr.Dataset(components=[msg], samples=[[q] for q in EXAMPLES],
                                      label="示例问题 Examples（点击即检索 click to ask）",
                                      elem_id="regqa-examples")
                clear = gr.ClearButton([chatbot, msg], value="清空对话 Clear", size="sm")
                questions = gr.State([])  # the conversation's questions as typed, oldest first
                # Links inside the chat (search alone, compare, an article) are followed here, in place.
                cmd = gr.Textbox(elem_id="regqa-cmd", elem_classes="regqa-hidden", show_label=False,
                                 container=False)
                go = gr.Button("go", elem_id="regqa-cmd-go", elem_classes="regqa-hidden")
            with gr.Tab("核对引用 Check citations", id="check"):
                check_tab.build(SERVICE)
            with gr.Tab("法规 Laws", id="regulations"):
                table = gr.Dataframe(headers=laws.TABLE_HEADERS, datatype=laws.TABLE_TYPES, interactive=False,
                                     wrap=True, elem_id="regqa-table")
                outline = gr.Markdown(elem_id="regqa-outline")
            with gr.Tab("说明 About", id="about"):
                gr.Markdown(web.asset("about.md"))
        inputs = [chatbot, questions, k, mode, regulations]
        asked = msg.submit(ask, [msg, *inputs], [chatbot, msg, questions], api_visibility="private")
        clicked = examples.click(ask_example, [examples, *inputs], [chatbot, msg, questions],
                                 api_visibility="private")
        linked = go.click(command, [cmd, *inputs], [chatbot, cmd, questions], api_visibility="private")
        clear.click(lambda: [], None, questions, api_visibility="private")
        show_reply = web.asset("show_reply.js")
        for event in (asked, clicked, linked):
            event.then(None, js=show_reply)
        page.load(on_load, None, [regulations, table, status, outline, chatbot, questions],
                  api_visibility="private")
        gr.api(search, api_name="search")
    # Gradio's queue lets more events run than the search pool (shared with the JSON API) admits, so the
    # pool decides: a question beyond it is told at once to try again instead of waiting in Gradio's queue.
    page.max_threads = max(40, 2 * SERVICE.settings.max_inflight)  # read by queue(): events run at once
    page.queue(default_concurrency_limit=None, max_size=4 * SERVICE.settings.max_inflight)
    return page


demo = build()


def page_options(port: int) -> dict[str, Any]:
    """Settings of the page, for `gr.mount_gradio_app` and for `launch` in reload mode."""
    return dict(
        server_name="127.0.0.1", server_port=port, show_error=True,
        allowed_paths=[], blocked_paths=[str(index_dir().resolve()), str((ROOT / "data").resolve())],
        enable_monitoring=False, max_file_size="1mb", ssr_mode=False, pwa=False, mcp_server=False,
        run_history=False, footer_links=["api"], theme=THEME, css_paths=[web.CSS],
        js=web.scripts("copy_citation.js", "feedback.js", "follow_links.js"), head_paths=[web.HEAD])


def server(port: int):
    """One FastAPI app: the JSON API (and its /docs) first, the page mounted at "/" behind it; the guard in front of
    both (host names, other sites' pages, uploads, security headers: `retrieval/serving/guard.py`)."""
    from retrieval.serving.guard import protect
    from retrieval.serving.http_api import build_api

    return protect(gr.mount_gradio_app(build_api(SERVICE), demo, path="/", **page_options(port)))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    try:
        port = int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    except ValueError:
        print("error: GRADIO_SERVER_PORT must be a port number", file=sys.stderr)
        return 2
    if os.environ.get("GRADIO_WATCH_DIRS"):  # `gradio app.py`: the page alone, reloaded on edits
        demo.launch(share=False, **page_options(port))
        return 0
    try:
        ServingSettings.from_env()
        engine()  # load now, so the first question is fast
    except RegQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    import uvicorn

    from retrieval.serving.http_server import json_errors_protocol

    print(f"* Running on http://127.0.0.1:{port} (page), JSON API at /api/search, docs at /docs", flush=True)
    # A page keeps an event stream open; on shutdown give such connections a few seconds, not forever.
    uvicorn.run(server(port), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=5, http=json_errors_protocol())  # unparsable requests: JSON errors too
    return 0


if __name__ == "__main__":
    sys.exit(main())
