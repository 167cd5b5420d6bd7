"""Bad questions through the web app's `/search` API (a real `python app.py` in a subprocess): each gets
a clear message or a normal answer, in bounded time, never a traceback or internals.

Questions a client library cannot even encode (lone surrogates) or that are not text go over plain HTTP
as JSON, the way any program could send them. The browser side (what the page shows) is tested with the
app's own browser tests.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import require
from tests.test_bad_queries import BAD_QUERIES

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HANG_BOUND_S = 120  # a search takes well under a second; this only catches hangs
INTERNALS = re.compile(r"Traceback|File \"|object at 0x|\.py\b|Exception\b|Error:")


@pytest.fixture(scope="module")
def client(app_url: str):
    return require("gradio_client").Client(app_url, verbose=False)


@pytest.fixture(scope="module")
def corpus(real_index: Path) -> set[str]:
    from ingest.stores.index_io import load_index

    return {a.text for a in load_index(real_index, verify=False).articles}


def _assert_clear(message: str) -> None:
    assert message and len(message) < 300, message
    assert not INTERNALS.search(message), f"internals leak to the user: {message!r}"


def _assert_answer(body: dict, corpus: set[str]) -> None:
    assert set(body) >= {"query", "abstained", "results"}
    assert body["results"], "an answered question lists the nearest articles"
    for r in body["results"]:
        assert r["text"] in corpus  # verbatim articles, never an echo of the question
        assert r["citation"].startswith("《")


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@pytest.mark.parametrize("name", [n for n, (q, _) in BAD_QUERIES.items() if _encodable(q)])
def test_api_answers_or_refuses_clearly(client, corpus, name):
    from gradio_client.exceptions import AppError

    question, expected = BAD_QUERIES[name]
    job = client.submit(question, api_name="/search")
    try:
        body = job.result(timeout=HANG_BOUND_S)
    except AppError as exc:
        assert expected in ("refuse", "either"), f"{name}: refused ({exc}) but should be answered"
        _assert_clear(str(exc))
        return
    assert expected in ("answer", "either"), f"{name}: answered but should be refused"
    _assert_answer(body, corpus)
    if name.startswith(("html", "markdown")):
        assert body["query"] == question.strip()  # returned as data, exactly as typed


def _call(app_url: str, data: list) -> tuple[str, object]:
    """POST to the API the way any HTTP client can; returns ("complete", value) or ("error", message)."""
    body = json.dumps({"data": data}).encode("ascii")  # lone surrogates travel as \\udXXX escapes
    request = urllib.request.Request(f"{app_url}gradio_api/call/search", data=body,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=HANG_BOUND_S) as r:
        event_id = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{app_url}gradio_api/call/search/{event_id}", timeout=HANG_BOUND_S) as r:
        stream = r.read().decode("utf-8")
    events = re.findall(r"^event: (\w+)\ndata: (.*)$", stream, flags=re.MULTILINE)
    kind, payload = events[-1]
    value = json.loads(payload)
    if kind == "complete":
        return kind, value[0]
    return kind, (value or {}).get("error") if isinstance(value, dict) else value


@pytest.mark.parametrize("data, expected", [
    (["企业\ud800质量\udfff管理", 5, "hybrid", None], "answer"),  # lone surrogates
    (["\ud83d", 5, "hybrid", None], "refuse"),
    (["企业\x00质量\x1b[31m管理", 5, "hybrid", None], "answer"),  # NUL and an escape sequence
    (["质" * 2_000_000, 5, "hybrid", None], "refuse"),  # a 6 MB question
    ([None, 5, "hybrid", None], "refuse"),
    ([12345, 5, "hybrid", None], "refuse"),
    ([["企业", "质量"], 5, "hybrid", None], "refuse"),
    ([{"$ne": ""}, 5, "hybrid", None], "refuse"),
    (["企业质量", 10**12, "hybrid", None], "refuse"),
    (["企业质量", -1, "hybrid", None], "refuse"),
    (["企业质量", "NaN", "hybrid", None], "refuse"),
    (["企业质量", 5, "'; DROP TABLE articles; --", None], "refuse"),
    (["企业质量", 5, "hybrid", ["<script>alert(1)</script>"]], "refuse"),
])
def test_raw_http_bad_values_get_a_clear_message_or_an_answer(app_url, corpus, data, expected):
    kind, value = _call(app_url, data)
    if expected == "refuse":
        assert kind == "error", value
        assert isinstance(value, str)
        _assert_clear(value)
        assert "<script>" not in value  # an echoed value would be escaped, never live markup
    else:
        assert kind == "complete", value
        assert isinstance(value, dict)
        _assert_answer(value, corpus)
        assert all(ord(ch) >= 32 and not 0xD800 <= ord(ch) <= 0xDFFF for ch in value["query"])


def test_the_app_still_answers_normally_after_the_bad_input(client, corpus):
    body = client.predict("企业要不要配专门管质量的人？", api_name="/search")
    _assert_answer(body, corpus)
    assert body["results"][0]["citation"] == "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"
