"""The `/search` endpoint as programs use it: gradio_client against the real app, real index and model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import require

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def client(app_url: str):
    return require("gradio_client").Client(app_url, verbose=False)


def _cli(index: Path, *args: str) -> dict:
    command = [sys.executable, "-m", "retrieval", "search", "--index", str(index), "--json", *args]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout)


def test_only_search_is_public(client) -> None:
    api = client.view_api(print_info=False, return_format="dict")
    assert list(api["named_endpoints"]) == ["/search"]
    assert [p["parameter_name"] for p in api["named_endpoints"]["/search"]["parameters"]] == [
        "question", "k", "mode", "regulations"]


def test_search_returns_the_same_json_as_the_command_line(client, real_index: Path) -> None:
    questions = ["湖北条例第二十三条", "有人假冒我们的商标怎么办", "今天杭州天气怎么样"]
    for q in questions:
        via_api = client.predict(q, 3, "hybrid", api_name="/search")
        via_cli = _cli(real_index, "-k", "3", "--mode", "hybrid", q)
        assert via_api == via_cli, q


def test_question_alone_uses_the_command_line_defaults(client) -> None:
    r = client.predict("湖北条例第二十三条", api_name="/search")
    assert set(r) >= {"query", "abstained", "results"}
    assert len(r["results"]) == 5
    top = r["results"][0]
    assert (top["title"], top["article"]) == ("湖北省质量促进条例", "第二十三条")
    assert top["citation"] == "《湖北省质量促进条例》第二十三条（第三章 创新驱动）"
    assert top["chapter"] == "第三章 创新驱动"
    assert top["text"].startswith("企业应当保障创新有效投入")
    assert r["abstained"] is False


def test_out_of_scope_question_abstains(client) -> None:
    assert client.predict("今天杭州天气怎么样", api_name="/search")["abstained"] is True


def test_regulations_limit_the_search(client) -> None:
    only = ["杭州办法"]
    r = client.predict("首席质量官", 3, "hybrid", only, api_name="/search")
    assert r["results"] and {x["title"] for x in r["results"]} == {"杭州市质量促进办法"}


@pytest.mark.parametrize(("args", "message"), [
    (("劳" * 1001,), "问题太长"),
    (("   ",), "请输入问题"),
    (("试用期", 3, "fuzzy"), "unknown mode"),
    (("试用期", 0), "k must be between"),
    (("试用期", 1.5), "whole number"),
    (("试用期", 3, "hybrid", ["没有这部法规"]), "none of the chosen regulations"),
])
def test_bad_requests_get_one_clear_message(client, args: tuple, message: str) -> None:
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as caught:
        client.predict(*args, api_name="/search")
    text = str(caught.value)
    assert message in text
    assert "Traceback" not in text and "File \"" not in text


def test_markup_comes_back_as_plain_data(client) -> None:
    r = client.predict("<img src=x onerror=alert(1)>", 3, api_name="/search")
    assert r["query"] == "<img src=x onerror=alert(1)>"  # JSON is data: returned as given, not escaped or run
