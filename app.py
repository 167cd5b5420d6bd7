"""法规条文检索 · Ask the regulations: a chat whose replies are the articles themselves, verbatim and cited.

Run `python app.py` (or `gradio app.py` to reload on edits). Settings come from the environment:
REGQA_INDEX (index directory, default data/index) and GRADIO_SERVER_PORT (default 7860); the server
binds 127.0.0.1 only. Programs call the `/search` endpoint, which returns the same JSON as
`python -m retrieval search --json`:

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
from pathlib import Path
from typing import Any

import gradio as gr

from ingest import paths
from ingest.errors import QueryError, RegQAError
from retrieval import web
from retrieval.settings import DEFAULT_MODE, MODES
from retrieval.web import cards, laws

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio when it would report; never report

log = logging.getLogger("app")

ROOT = Path(__file__).resolve().parent
CHAT_K = 3  # articles per chat reply (the slider goes to MAX_CHAT_K)
MAX_CHAT_K = 10
API_K = 5  # the CLI's default, so `/search` with defaults equals `python -m retrieval search --json`
RELATED_K = 3
MAX_HISTORY = 40  # messages kept in a chat; older ones scroll away
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
    retriever: Any  # retrieval.retriever.Retriever
    rows: list[dict[str, Any]]  # `python -m ingest list --json` rows
    lock: threading.Lock  # one search at a time: the model uses both cores by itself


if gr.NO_RELOAD:  # `gradio app.py` re-runs this file on every edit; keep what was loaded
    _ENGINES: dict[str, Engine] = {}
    _ENGINES_LOCK = threading.Lock()


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
        # A newer build reuses the loaded model when it was made with the same one (the usual rebuild).
        retriever = current.retriever.reloaded() if current is not None else Retriever(path)
        _ENGINES[key] = Engine(retriever, regulation_rows(retriever.index), threading.Lock())
        return _ENGINES[key]


def _as_k(k: Any, default: int) -> int:
    if k is None or k == "":
        return default
    try:
        return round(float(k))
    except (TypeError, ValueError, OverflowError):
        raise QueryError("k 必须是整数 (k must be a whole number)") from None


def _search(question: Any, k: int, mode: str | None, regulations: list[str] | None):
    eng = engine()
    with eng.lock:
        response = eng.retriever.search(question, k=k, mode=mode or DEFAULT_MODE, regulations=regulations or None)
    return eng, response


# -- chat ------------------------------------------------------------------------------------------------
def render(eng: Engine, response) -> str:
    from ingest.words import to_simplified

    blocks = []
    for rank, r in enumerate(response.results, 1):
        aid = r.article.id
        mask = cards.word_mask(r.article.text, response.words, to_simplified)
        blocks.append(cards.card(rank, r, mask, eng.retriever.context(aid), eng.retriever.related(aid, RELATED_K)))
    return cards.answer(response, blocks)


def ask(message: str, history: list[dict] | None, k: float, mode: str, regulations: list[str] | None):
    """Chat turn: the question as typed, then the cited articles (or a short error)."""
    if not isinstance(message, str) or not message.strip():
        return gr.skip(), gr.skip()
    history = list(history or [])[-(MAX_HISTORY - 2):]
    history.append({"role": "user", "content": cards.user_message(message)})
    try:
        eng, response = _search(message, _as_k(k, CHAT_K), mode, regulations)
        reply = render(eng, response)
    except RegQAError as exc:
        reply = cards.error_message(str(exc))
    except Exception:
        log.exception("search failed")
        reply = cards.error_message(INTERNAL_ERROR)
    history.append({"role": "assistant", "content": reply})
    return history, ""


def ask_example(sample: list[str], history: list[dict] | None, k: float, mode: str,
                regulations: list[str] | None):
    return ask(sample[0] if sample else "", history, k, mode, regulations)


def on_load():
    """Fill the regulation filter and list (also loads the model on the first visit in reload mode)."""
    try:
        rows = engine().rows
    except RegQAError as exc:
        return gr.skip(), gr.skip(), f"⚠️ 索引不可用 (index unavailable): {html.escape(str(exc))}", gr.skip()
    rows = laws.ordered(rows)
    choices = gr.Dropdown(choices=laws.filter_choices(rows))
    return choices, laws.table(rows), laws.status(rows), laws.chapter_outline(rows)


# -- API -------------------------------------------------------------------------------------------------
def search(question: str, k: int = API_K, mode: str = DEFAULT_MODE, regulations: list[str] | None = None) -> dict:
    """Find the articles that answer a question.

    Returns {"query", "abstained", "results": [{"title", "article", "number", "chapter", "text", "score",
    "citation", ...}]}, the JSON of `python -m retrieval search --json`. `mode` is hybrid, dense or lexical;
    `regulations` limits the search (ids, titles or short names of regulations)."""
    try:
        _, response = _search(question, _as_k(k, API_K), mode, regulations)
    except RegQAError as exc:
        raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
    except Exception:
        log.exception("search failed")
        raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
    return response.to_json()


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
                gr.ClearButton([chatbot, msg], value="清空对话 Clear", size="sm")
            with gr.Tab("法规 Laws", id="regulations"):
                table = gr.Dataframe(headers=laws.TABLE_HEADERS, datatype=laws.TABLE_TYPES, interactive=False,
                                     wrap=True, elem_id="regqa-table")
                outline = gr.Markdown(elem_id="regqa-outline")
            with gr.Tab("说明 About", id="about"):
                gr.Markdown(web.asset("about.md"))
        inputs = [chatbot, k, mode, regulations]
        asked = msg.submit(ask, [msg, *inputs], [chatbot, msg], api_visibility="private")
        clicked = examples.click(ask_example, [examples, *inputs], [chatbot, msg], api_visibility="private")
        show_reply = web.asset("show_reply.js")
        for event in (asked, clicked):
            event.then(None, js=show_reply)
        page.load(on_load, None, [regulations, table, status, outline], api_visibility="private")
        gr.api(search, api_name="search")
    page.queue(default_concurrency_limit=2, max_size=32)
    return page


demo = build()


def launch_options(port: int) -> dict[str, Any]:
    return dict(
        server_name="127.0.0.1", server_port=port, share=False, show_error=True,
        allowed_paths=[], blocked_paths=[str(index_dir().resolve()), str((ROOT / "data").resolve())],
        enable_monitoring=False, max_file_size="1mb", ssr_mode=False, pwa=False, mcp_server=False,
        run_history=False, footer_links=["api"], theme=THEME, css_paths=[web.CSS],
        js=web.asset("copy_citation.js"), head_paths=[web.HEAD])


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    try:
        port = int(os.environ.get("GRADIO_SERVER_PORT") or 7860)
    except ValueError:
        print("error: GRADIO_SERVER_PORT must be a port number", file=sys.stderr)
        return 2
    if not os.environ.get("GRADIO_WATCH_DIRS"):  # plain `python app.py`: load now; the first question is fast
        try:
            engine()
        except RegQAError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    demo.launch(**launch_options(port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
