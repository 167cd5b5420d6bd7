"""法规条文检索 · Ask the regulations: the wiring of the page and the JSON API, nothing else.

Run `python app.py` (or `gradio app.py` to reload the page on edits; that serves the page only). Settings
come from the environment: REGQA_INDEX (index directory, default data/index), REGQA_FEEDBACK_DIR (the
feedback log, default data/feedback; see `retrieval/serving/feedback.py`) and GRADIO_SERVER_PORT
(default 7860); the server binds 127.0.0.1 only; the serving settings (REGQA_MAX_INFLIGHT, ...) are in
`retrieval/serving/service.py`. Programs call the plain JSON API (`retrieval/serving/http_api.py`; docs at /docs):

    curl 'http://127.0.0.1:7860/api/search?q=湖北条例第二十三条&k=3'

or Gradio's `/search` endpoint; both return the same JSON as `python -m retrieval search --json`:

    from gradio_client import Client
    Client("http://127.0.0.1:7860/").predict("湖北条例第二十三条", 5, "hybrid", api_name="/search")

Where each part lives: the chat's handlers (a turn, a link followed in place, the first load, `/search`) in
`retrieval/web/chat.py`; the reply's HTML in `retrieval/web/cards.py` (comparisons: `compare_view.py`); the
citation checker's tab in `retrieval/web/check_tab.py`; the laws tab in `retrieval/web/laws.py`; styles,
scripts and texts beside them in `retrieval/web/`; the loaded model and index in `retrieval/serving/engines.py`;
the search service (batching, cache, pool) in `retrieval/serving/service.py`; the JSON API in
`retrieval/serving/http_api.py`.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import gradio as gr

from ingest import paths
from ingest.errors import RegQAError
from retrieval import web
from retrieval.serving.engines import Engines
from retrieval.serving.feedback import FeedbackLog, feedback_dir
from retrieval.serving.service import SearchService, ServingSettings
from retrieval.settings import DEFAULT_MODE, MODES
from retrieval.web import check_tab, laws
from retrieval.web.browse import Browse
from retrieval.web.chat import CHAT_K, EXAMPLES, MAX_CHAT_K, MODE_LABELS, ChatPage

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio when it would report; never report

log = logging.getLogger("app")

ROOT = Path(__file__).resolve().parent


def index_dir() -> Path:
    """$REGQA_INDEX, else the repository's data/index (whatever the working directory)."""
    return paths.index_dir(base=ROOT)


def serving_settings() -> ServingSettings:
    try:
        return ServingSettings.from_env()
    except RegQAError as exc:  # main() reports it and exits; `gradio app.py` serves with the defaults
        log.error("%s; using the default serving settings", exc)
        return ServingSettings()


if gr.NO_RELOAD:  # `gradio app.py` re-runs this file on every edit; keep what was loaded
    ENGINES = Engines(index_dir, lambda: SERVICE.settings)
    SERVICE = SearchService(ENGINES, serving_settings(), FeedbackLog(feedback_dir(base=ROOT)))
    PAGE = ChatPage(SERVICE)
    BROWSE = Browse(SERVICE)

# Gradio's named API `/search` (the CLI's JSON); a module-level name, as gradio_client and the tests call it.
search = PAGE.search


# -- page ------------------------------------------------------------------------------------------------
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
                gr.HTML(web.asset("skip_link.html"), elem_id="regqa-skip", container=False, padding=False,
                        js_on_load=web.asset("skip_link.js"))
                with gr.Row():
                    levels = gr.Dropdown(
                        choices=[], value=[], multiselect=True, filterable=True, scale=1, min_width=160,
                        label="层级 Level", info="法律、行政法规、地方性法规…", elem_id="regqa-levels")
                    regions = gr.Dropdown(
                        choices=[], value=[], multiselect=True, filterable=True, scale=1, min_width=160,
                        label="地区 Region", info="全国、省、市 · national, province, city", elem_id="regqa-regions")
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
                    as_of = gr.Textbox(label="截至日期 As of", placeholder="YYYY-MM-DD", max_lines=1, max_length=10,
                                       info="检索该日有效的版本，留空为今天 · versions in force that day; blank: today",
                                       elem_id="regqa-asof")
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
                with gr.Row(equal_height=True):
                    laws_q = gr.Textbox(placeholder="输入法规名称，如 产品质量法 · type a name", scale=2, min_width=300,
                                        label="查找法规 Find a regulation", lines=1, max_lines=1,
                                        elem_id="regqa-laws-q")
                    with gr.Column(scale=2, min_width=280), gr.Row():
                        laws_level = gr.Dropdown(choices=[], value=None, label="层级 Level", min_width=120,
                                                 filterable=True, elem_id="regqa-laws-level")
                        laws_region = gr.Dropdown(choices=[], value=None, label="地区 Region", min_width=120,
                                                  filterable=True, elem_id="regqa-laws-region")
                laws_count = gr.Markdown(elem_id="regqa-laws-count")
                table = gr.Dataframe(headers=laws.TABLE_HEADERS, datatype=laws.TABLE_TYPES, interactive=False,
                                     wrap=True, elem_id="regqa-table")
                outline = gr.Markdown(elem_id="regqa-outline")
            with gr.Tab("说明 About", id="about"):
                gr.Markdown(web.asset("about.md"))
        inputs = [chatbot, questions, k, mode, regulations, levels, regions, as_of]
        asked = msg.submit(PAGE.ask, [msg, *inputs], [chatbot, msg, questions], api_visibility="private")
        clicked = examples.click(PAGE.ask_example, [examples, *inputs], [chatbot, msg, questions],
                                 api_visibility="private")
        linked = go.click(PAGE.command, [cmd, *inputs], [chatbot, cmd, questions], api_visibility="private")
        clear.click(lambda: [], None, questions, api_visibility="private")
        chatbot.clear(lambda: [], None, questions, api_visibility="private")  # the chat's own 🗑 icon too
        show_reply = web.asset("show_reply.js")
        for event in (asked, clicked, linked):
            event.then(None, js=show_reply)
        page.load(PAGE.on_load, None, [regulations, table, status, outline, chatbot, questions],
                  api_visibility="private")
        page.load(BROWSE.on_load, None, [levels, regions, laws_level, laws_region, laws_count],
                  api_visibility="private")
        for picker in (levels, regions):
            picker.input(BROWSE.narrow, [levels, regions, regulations], regulations, api_visibility="private")
        browsed = [laws_q, laws_level, laws_region]
        for event in (laws_q.change, laws_q.submit, laws_level.input, laws_region.input):
            event(BROWSE.laws, browsed, [table, laws_count, outline], api_visibility="private",
                  trigger_mode="always_last")
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
        run_history=False, footer_links=["api"], theme=web.theme(), css_paths=[web.CSS],
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
        ENGINES()  # load now, so the first question is fast
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
