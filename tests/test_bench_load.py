"""The load benchmark's simulated users speak each route's real protocol: against the real app, every route
answers a real question, so a change to the page's chat event or the API cannot silently turn the
benchmark's figures into a table of errors (it did once: the chat event gained an input, and every page
request failed while the API's figures still looked fine)."""

from __future__ import annotations

import pytest

from eval.bench.load import PageUser, QuestionSource, RssMonitor, closed_loop, load_questions, make_user


@pytest.mark.parametrize("route", ["api", "page", "gradio"])
def test_each_route_answers_a_real_question(app_url, route):
    chat_event = PageUser.find_chat_event(app_url) if route == "page" else None
    user = make_user(route, app_url, 120, chat_event)
    try:
        assert user.ask("企业要配备专职质量管理人员吗", 5) == ("ok", "")
    finally:
        user.close()


def test_an_empty_question_is_refused_not_counted_as_an_error(app_url):
    user = make_user("api", app_url, 120, None)
    try:
        outcome, detail = user.ask("   ", 5)
    finally:
        user.close()
    assert outcome == "refused" and "HTTP 400" in detail


def test_a_short_closed_loop_level_on_the_page_route_answers_every_request(app_url):
    source = QuestionSource(load_questions()[:40])
    monitor = RssMonitor(None)
    try:
        row = closed_loop(app_url, "page", 2, 2.0, source, 120, PageUser.find_chat_event(app_url), monitor)
    finally:
        monitor.close()
    assert row["requests"] >= 2 and row["ok"] + row["refused"] == row["requests"], row["messages"]
    assert row["ok"] >= 1 and row["errors"] == 0
