"""Start the real web app (`python app.py`) in a subprocess on a free port, for tests and benchmarks.

Both import it from here (`from eval.app_server import running_app`), without touching sys.path."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}gradio_api/info", timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_app(index_dir: Path, timeout: float = 180.0, env: dict[str, str] | None = None) -> Iterator[str]:
    """Yield the base URL (ending in "/") of the app serving `index_dir`; stop it afterwards.

    The app loads the model and index before it starts listening, so once the URL answers, questions are fast.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    child_env = {**os.environ, "REGQA_INDEX": str(index_dir), "GRADIO_SERVER_PORT": str(port),
                 "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **(env or {})}
    child_env.pop("GRADIO_WATCH_DIRS", None)
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen([sys.executable, str(ROOT / "app.py")], cwd=ROOT, env=child_env,
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _ready(url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    output = log.read().decode("utf-8", "replace")[-4000:]
                    raise RuntimeError(f"the app did not start (exit code {proc.poll()}):\n{output}")
                time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
