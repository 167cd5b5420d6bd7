"""The page's handlers (retrieval/web/chat.py, wired by app.py) called directly, on the fake-embedder index (no
model, no server): the `/search` JSON keeps markup as plain data, the chat shows it as text, errors are escaped.
The served page itself is tested in tests/test_app_api.py and tests/test_app_browser.py."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.conftest import FakeEmbedder

SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def app_module(fake_index: Path):
    """app.py with its engine preloaded on the fake index, as if the index at $REGQA_INDEX had been loaded."""
    import app
    from ingest.catalog import regulation_rows
    from retrieval.retriever import Retriever
    from retrieval.serving.engines import Engine

    mp = pytest.MonkeyPatch()
    mp.setenv("REGQA_INDEX", str(fake_index))
    retriever = Retriever(fake_index, embedder=FakeEmbedder())
    key = str(app.index_dir().resolve())
    mp.setitem(app.ENGINES.loaded, key, Engine(retriever, regulation_rows(retriever.index)))
    yield app
    mp.undo()


def test_search_returns_markup_in_the_question_as_plain_data(app_module):
    body = asyncio.run(app_module.search(f"{SCRIPT} 企业应当配备专职质量管理人员", k=2))
    assert body["query"] == f"{SCRIPT} 企业应当配备专职质量管理人员"  # as typed: the client escapes what it shows
    assert body["results"][0]["citation"] == "《示例省质量促进条例》第三条（第二章 质量发展）"
    assert json.loads(json.dumps(body, ensure_ascii=False)) == body  # plain JSON data, nothing rendered
    assert all("<" not in r["text"] for r in body["results"])  # article text verbatim, no markup added


def test_search_errors_are_escaped_messages(app_module):
    import gradio as gr

    with pytest.raises(gr.Error) as caught:
        asyncio.run(app_module.search("质量", mode=SCRIPT))
    assert "&lt;script&gt;" in caught.value.message and "<script>" not in caught.value.message
    with pytest.raises(gr.Error, match="please type a question"):
        asyncio.run(app_module.search("   "))


def test_the_chat_shows_markup_as_text(app_module):
    history, cleared, asked = asyncio.run(
        app_module.PAGE.ask(f"{SCRIPT} 企业应当配备专职质量管理人员", [], [], 2, "hybrid", None))
    question, reply = history[-2]["content"], history[-1]["content"]
    assert cleared == "" and [m["role"] for m in history] == ["user", "assistant"]
    assert asked == [f"{SCRIPT} 企业应当配备专职质量管理人员"]  # the conversation keeps the question as typed
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in question and "<script" not in question
    assert "<script" not in reply and "企业应当配备专职质量管理人员" in reply.replace('<strong class="regqa-word">', "")


def test_a_chat_error_is_shown_escaped(app_module):
    history, _, _ = asyncio.run(app_module.PAGE.ask("质量", [], [], 2, SCRIPT, None))
    reply = history[-1]["content"]
    assert 'class="regqa-error"' in reply and "&lt;script&gt;" in reply and "<script" not in reply
