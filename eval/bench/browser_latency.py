"""Time from pressing Enter to the answer showing: `python -m eval.bench.browser_latency [--rounds N]`.

Starts the real app (`python app.py`) on a free port with the given index, opens it in headless Debian
Chromium and, for each question, types it, presses Enter and waits until the new reply is in the page
(each round starts a fresh chat: ten questions, as one person might ask). The clock runs in the page:
from the Enter keydown to the first animation frame after the reply is in the DOM. For comparison it times
the `/search` API from gradio_client (k=3, no HTML). Prints one JSON object, in milliseconds. Run it on
an otherwise idle machine: the figures are wall-clock times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from eval.bench.common import default_index, machine

QUESTIONS = [
    "个体工商户的债务怎么承担？",
    "每天工作时间最多几个小时？",
    "销售假冒注册商标的商品会判几年？",
    "民法典第五十六条",
    "著作权保护期多长",
    "劳动者提前多少天通知可以解除劳动合同",
    "What is the maximum working hours per day?",
    "How long does copyright protection last?",
    "今天杭州天气怎么样",
    "商标法第六十条",
]
REPLY = "#regqa-chat .regqa-answer, #regqa-chat .regqa-error"
LOADED = "(document.querySelector('#regqa-status')?.innerText || '').includes('indexed')"
# Arms an in-page stopwatch: starts at the Enter keydown, stops at the frame after a new reply appears.
ARM = """(selector) => {
  const before = document.querySelectorAll(selector).length;
  const box = document.querySelector('#regqa-input textarea');
  window.__regqaLatency = new Promise((resolve) => {
    let t0 = null;
    box.addEventListener('keydown', (e) => { if (e.key === 'Enter' && t0 === null) t0 = performance.now(); },
                         {capture: true, once: true});
    const seen = new MutationObserver(() => {
      if (document.querySelectorAll(selector).length > before) {
        seen.disconnect();
        requestAnimationFrame(() => resolve(performance.now() - t0));
      }
    });
    seen.observe(document.body, {childList: true, subtree: true});
  });
}"""


def _summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 1),
            "p90_ms": round(ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))], 1),
            "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1), "n": len(ordered)}


def browser_times(url: str, questions: list[str], rounds: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    from eval.app_server import launch_browser

    times: list[float] = []
    with sync_playwright() as p:
        browser = launch_browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        for n in range(rounds + 1):  # the first pass warms up the browser and the server; not counted
            page.goto(url)
            page.wait_for_function(LOADED, timeout=120_000)
            box = page.locator("#regqa-input textarea")
            for q in questions:
                box.fill(q)
                page.evaluate(ARM, REPLY)
                box.press("Enter")
                elapsed = page.evaluate("window.__regqaLatency")
                if n:
                    times.append(float(elapsed))
        browser.close()
    return times


def api_times(url: str, questions: list[str], rounds: int) -> list[float]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict("warm up", api_name="/search")
    times = []
    for _ in range(rounds):
        for q in questions:
            start = time.perf_counter()
            client.predict(q, 3, "hybrid", api_name="/search")
            times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench.browser_latency",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--index", type=Path, default=None,
                        help="index the started app serves (default: $REGQA_INDEX, else data/index)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the question list (default 3)")
    args = parser.parse_args(argv)
    from eval.app_server import running_app

    with running_app((args.index or default_index()).resolve()) as url:
        browser = browser_times(url, QUESTIONS, args.rounds)
        api = api_times(url, QUESTIONS, args.rounds)
    print(json.dumps({
        "enter_to_answer": _summary(browser),
        "api_search_k3": _summary(api),
        "questions": len(QUESTIONS), "rounds": args.rounds,
        "machine": machine(),
    }, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
