"""法规条文检索 · Ask the regulations: a chat whose replies are the articles themselves, verbatim and cited.

Run `python app.py` (or `gradio app.py` to reload the page on edits; that serves the page only). Settings
come from the environment: REGQA_INDEX (index directory, default data/index) and GRADIO_SERVER_PORT
(default 7860); the server binds 127.0.0.1 only; the serving settings (REGQA_MAX_INFLIGHT, ...) are in
`retrieval/serving.py`. Programs call the plain JSON API (`retrieval/http_api.py`; docs at /docs):

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
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.errors import RegQAError
from retrieval import cards
from retrieval.serving import SearchService, ServingSettings, as_k, query_embedder

os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"  # read by Gradio when it would report; never report

log = logging.getLogger("app")

ROOT = Path(__file__).resolve().parent
CHAT_K = 3  # articles per chat reply (the slider goes to MAX_CHAT_K)
MAX_CHAT_K = 10
API_K = 5  # the CLI's default, so `/search` with defaults equals `python -m retrieval search --json`
RELATED_K = 3
MAX_HISTORY = 40  # messages kept in a chat; older ones scroll away
INTERNAL_ERROR = "检索时出错，请稍后再试 (something went wrong; please try again)"
MODES = [("混合 hybrid（推荐 recommended）", "hybrid"), ("语义 dense (meaning)", "dense"),
         ("关键词 lexical (words)", "lexical")]
EXAMPLES = [
    "企业要不要配专门管质量的人？",
    "湖北和杭州对首席质量官的规定有什么不同",
    "政府对质量奖励有哪些规定？",
    "湖北条例第二十一条",
    "When does the Hangzhou measure take effect?",
    "What support do small businesses get for quality improvement?",
]


def index_dir() -> Path:
    return Path(os.environ.get("REGQA_INDEX") or ROOT / "data" / "index")


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
    SERVICE = SearchService(lambda: engine(), serving_settings())


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
def render(eng: Engine, response) -> str:
    from ingest.words import to_simplified

    blocks = []
    for rank, r in enumerate(response.results, 1):
        aid = r.article.id
        mask = cards.word_mask(r.article.text, response.words, to_simplified)
        blocks.append(cards.card(rank, r, mask, eng.retriever.context(aid), eng.retriever.related(aid, RELATED_K)))
    return cards.answer(response, blocks)


def reply(message: str, k: int, mode: str | None, regulations: list[str] | None) -> str:
    found = SERVICE.search(message, k, mode, regulations)
    return render(found.engine, found.response)


async def ask(message: str, history: list[dict] | None, k: float, mode: str, regulations: list[str] | None):
    """Chat turn: the question as typed, then the cited articles (or a short error, or "busy, try again")."""
    if not isinstance(message, str) or not message.strip():
        return gr.skip(), gr.skip()
    history = list(history or [])[-(MAX_HISTORY - 2):]
    history.append({"role": "user", "content": cards.user_message(message)})
    try:
        reply_html = await SERVICE.run(reply, message, as_k(k, CHAT_K), mode, regulations)
    except RegQAError as exc:
        reply_html = cards.error_message(str(exc))
    except Exception:
        log.exception("search failed")
        reply_html = cards.error_message(INTERNAL_ERROR)
    history.append({"role": "assistant", "content": reply_html})
    return history, ""


async def ask_example(sample: list[str], history: list[dict] | None, k: float, mode: str,
                      regulations: list[str] | None):
    return await ask(sample[0] if sample else "", history, k, mode, regulations)


def on_load():
    """Fill the regulation filter and list (also loads the model on the first visit in reload mode)."""
    try:
        rows = engine().rows
    except RegQAError as exc:
        return gr.skip(), gr.skip(), f"⚠️ 索引不可用 (index unavailable): {html.escape(str(exc))}", gr.skip()
    rows = sorted(rows, key=lambda r: (-r["articles"], r["title"]))
    choices = [(f"{r['title']}（{r['articles']} 条）", r["id"]) for r in rows]
    table = [[r["title"], r.get("region") or "—", r.get("issuer") or "—", r["articles"], r["chapters"] or "—",
              r.get("adopted") or r.get("promulgated") or "—", r.get("effective") or "—"] for r in rows]
    total = sum(r["articles"] for r in rows)
    status = (f"索引共收录 {len(rows)} 部法规、{total} 条条文 · "
              f"{len(rows)} regulations, {total} articles indexed")
    return gr.Dropdown(choices=choices), table, status, chapter_outline(rows)


def chapter_outline(rows: list[dict[str, Any]]) -> str:
    """Each regulation's chapters with the articles they span, for the laws tab."""
    parts = []
    for r in rows:
        english = r.get("english_names") or []
        head = f"**{html.escape(r['title'])}**" + (f" · {html.escape(english[0])}" if english else "")
        items = [f"- {html.escape(c['chapter'])}（{html.escape(c['first'])}—{html.escape(c['last'])}）"
                 for c in r.get("chapter_list") or []]
        none = f"- 不分章，共 {r['articles']} 条 · no chapters, {r['articles']} articles"
        parts.append("\n".join([head, *(items or [none])]))
    return "\n\n".join(parts)


# -- API -------------------------------------------------------------------------------------------------
async def search(question: str, k: int = API_K, mode: str = "hybrid", regulations: list[str] | None = None) -> dict:
    """Find the articles that answer a question.

    Returns {"query", "abstained", "results": [{"title", "article", "number", "chapter", "text", "score",
    "citation", ...}]}, the JSON of `python -m retrieval search --json`. `mode` is hybrid, dense or lexical;
    `regulations` limits the search (ids, titles or short names of regulations)."""
    try:
        found = await SERVICE.search_async(question, as_k(k, API_K), mode, regulations)
    except RegQAError as exc:
        raise gr.Error(html.escape(str(exc), quote=False), print_exception=False) from None
    except Exception:
        log.exception("search failed")
        raise gr.Error(INTERNAL_ERROR, print_exception=False) from None
    return found.response.to_json()


# -- page ------------------------------------------------------------------------------------------------
CSS = """
.gradio-container { max-width: 1100px !important; margin: 0 auto; }
#regqa-chat .regqa-card { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 10px 12px; margin: 10px 0; background: var(--background-fill-primary); }
#regqa-chat .regqa-head { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
#regqa-chat h3.regqa-cite { font-size: 1.05em; font-weight: 650; margin: 0 !important; flex: 1 1 14em; }
#regqa-chat .regqa-rank { min-width: 1.6em; height: 1.6em; line-height: 1.6em; text-align: center;
  border-radius: 50%; background: var(--color-accent-soft); font-size: .85em; font-weight: 600; }
#regqa-chat button.regqa-copy { font-size: .8em; padding: 2px 8px;
  border: 1px solid var(--border-color-primary); border-radius: 6px;
  background: var(--button-secondary-background-fill); color: var(--body-text-color); cursor: pointer; }
#regqa-chat .regqa-meta, #regqa-chat .regqa-note { color: var(--body-text-color-subdued); font-size: .85em; }
#regqa-chat .regqa-text { line-height: 1.75; margin-top: 6px; }
#regqa-chat mark.regqa-hit { background: #fff0a0; color: #1f2937; border-radius: 2px; padding: 0 1px; }
.dark #regqa-chat mark.regqa-hit { background: #665500; color: #f9fafb; }
#regqa-chat strong.regqa-word { font-weight: 700; text-decoration: underline; text-decoration-color: #d97706;
  text-underline-offset: 3px; }
#regqa-chat details { margin-top: 8px; }
#regqa-chat details > summary { cursor: pointer; color: var(--link-text-color); font-size: .9em; }
#regqa-chat .regqa-ctx-art, #regqa-chat .regqa-rel-art { margin: 6px 0; padding: 6px 8px; border-radius: 6px;
  border-left: 3px solid var(--border-color-primary); }
#regqa-chat .regqa-ctx-me { border-left-color: var(--color-accent); background: var(--color-accent-soft); }
#regqa-chat .regqa-ctx-label, #regqa-chat .regqa-rel-head .regqa-cite { font-weight: 600; }
#regqa-chat .regqa-none strong { color: #b45309; }
#regqa-chat .regqa-error { color: #b91c1c; }
#regqa-chat .regqa-q { white-space: pre-wrap; word-break: break-word; }
.tab-container { flex-wrap: wrap; min-width: 0; }
@media (max-width: 640px) {
  #regqa-chat .regqa-card { padding: 8px; }
}
"""

# Custom CSS only reaches inside the app's content box; narrow screens also need the outer margins smaller.
HEAD = """<style>@media (max-width: 640px) {
  .gradio-container .main { padding-left: 6px !important; padding-right: 6px !important; } }</style>"""

# Copy buttons inside chat messages: the sanitiser strips inline handlers, so one delegated listener.
JS = """
() => {
  if (window.__regqaCopy) return;
  window.__regqaCopy = true;
  document.addEventListener('click', async (ev) => {
    const b = ev.target && ev.target.closest ? ev.target.closest('button.regqa-copy') : null;
    if (!b) return;
    ev.preventDefault();
    const holder = b.closest('.regqa-head, .regqa-rel-head');
    const cite = holder ? holder.querySelector('.regqa-cite') : null;
    const text = cite ? cite.textContent.trim() : '';
    let ok = false;
    try { await navigator.clipboard.writeText(text); ok = true; } catch (e) {
      const ta = document.createElement('textarea');
      ta.value = text; ta.setAttribute('readonly', ''); ta.style.position = 'fixed'; ta.style.opacity = '0';
      document.body.appendChild(ta); ta.select();
      try { ok = document.execCommand('copy'); } catch (e2) { ok = false; }
      ta.remove();
    }
    const label = b.textContent;
    b.textContent = ok ? '已复制 Copied' : '复制失败 Copy failed';
    setTimeout(() => { b.textContent = label; }, 1500);
  });
}
"""

# After a reply, show its question at the top of the chat (Gradio would scroll to the end of the last card).
SHOW_REPLY_JS = """
() => {
  const show = (tries) => {
    const qs = document.querySelectorAll('#regqa-chat .regqa-q');
    const q = qs[qs.length - 1];
    if (!q) { if (tries > 0) setTimeout(() => show(tries - 1), 50); return; }
    const row = q.closest('.message-row') || q;
    const chat = document.getElementById('regqa-chat');
    let box = row.parentElement;
    while (box && box !== chat && box.scrollHeight <= box.clientHeight + 1) box = box.parentElement;
    if (box && box !== chat) {
      box.scrollTop += row.getBoundingClientRect().top - box.getBoundingClientRect().top - 28;
    }
  };
  setTimeout(() => show(10), 50);
}
"""

# Local fonts only: the default theme would fetch web fonts, and the page must work offline.
THEME = gr.themes.Default(
    font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "system-ui", "sans-serif"],
    font_mono=["Noto Sans Mono CJK SC", "ui-monospace", "monospace"])

INTRO = """## 法规条文检索 · Ask the regulations
用日常语言提问，回答即法规原文与准确引用，不改写、不生成。Ask in Chinese or English; each reply lists the
articles themselves, verbatim, with their citations."""

ABOUT = """### 使用说明 · How it works
- 回答中的每一条都是索引中的**原文**；黄色标出最匹配的句子，下划线标出问题中的词语。
  Every reply quotes the articles verbatim; the best-matching sentence is marked, query words are underlined.
- 没有条文直接回答时，会明确说明“未找到直接相关的条文”，最接近的条文折叠在下方。
  When nothing answers, the reply says so, and the nearest articles are folded below it.
- 可按条号查询，例如“湖北条例第二十三条”“杭州办法第12条”“第十二条”。
  You can ask for an article by number: "Article 12 of the Hangzhou measures".
- 程序接口 API: `GET /api/search?q=…&k=…`（说明见 `/docs`），或
  `Client(url).predict(question, k, mode, api_name="/search")`；均返回与
  `python -m retrieval search --json` 相同的 JSON。
- 本工具只检索条文，不构成法律意见。This tool finds articles; it is not legal advice."""


def build() -> gr.Blocks:
    with gr.Blocks(title="法规条文检索 · Regulation search", analytics_enabled=False) as page:
        gr.Markdown(INTRO, elem_id="regqa-intro")
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
                    mode = gr.Radio(MODES, value="hybrid", label="检索方式 Search mode", elem_id="regqa-mode")
                examples = gr.Dataset(components=[msg], samples=[[q] for q in EXAMPLES],
                                      label="示例问题 Examples（点击即检索 click to ask）",
                                      elem_id="regqa-examples")
                gr.ClearButton([chatbot, msg], value="清空对话 Clear", size="sm")
            with gr.Tab("法规 Laws", id="regulations"):
                table = gr.Dataframe(
                    headers=["法规 Regulation", "地区 Region", "制定机关 Issuer", "条文数 Articles",
                             "章数 Chapters", "通过/公布 Adopted or promulgated", "施行 Effective"],
                    datatype=["str", "str", "str", "number", "str", "str", "str"], interactive=False, wrap=True,
                    elem_id="regqa-table")
                outline = gr.Markdown(elem_id="regqa-outline")
            with gr.Tab("说明 About", id="about"):
                gr.Markdown(ABOUT)
        inputs = [chatbot, k, mode, regulations]
        asked = msg.submit(ask, [msg, *inputs], [chatbot, msg], api_visibility="private")
        clicked = examples.click(ask_example, [examples, *inputs], [chatbot, msg], api_visibility="private")
        for event in (asked, clicked):
            event.then(None, js=SHOW_REPLY_JS)
        page.load(on_load, None, [regulations, table, status, outline], api_visibility="private")
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
        run_history=False, footer_links=["api"], theme=THEME, css=CSS, js=JS, head=HEAD)


def server(port: int):
    """One FastAPI app: the JSON API (and its /docs) first, the page mounted at "/" behind it."""
    from retrieval.http_api import build_api

    return gr.mount_gradio_app(build_api(SERVICE), demo, path="/", **page_options(port))


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

    print(f"* Running on http://127.0.0.1:{port} (page), JSON API at /api/search, docs at /docs", flush=True)
    # A page keeps an event stream open; on shutdown give such connections a few seconds, not forever.
    uvicorn.run(server(port), host="127.0.0.1", port=port, log_level="warning", access_log=False,
                timeout_graceful_shutdown=5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
