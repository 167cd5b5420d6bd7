"""Where the index lives: one resolver for every command, the app, the evaluation and the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

INDEX_ENV = "REGQA_INDEX"
DEFAULT_INDEX = Path("data") / "index"
INDEX_HELP = f"index directory (default: ${INDEX_ENV}, else {DEFAULT_INDEX.as_posix()})"


def resolve_dir(given: Path | str | None, env_name: str, default: Path, base: Path | None = None) -> Path:
    """A directory setting: the one given, else the environment variable, else `default` under `base` (the
    working directory when None)."""
    if given is not None and str(given).strip():
        return Path(given)
    env = os.environ.get(env_name, "").strip()
    if env:
        return Path(env).expanduser()
    return base / default if base is not None else default


def index_dir(given: Path | str | None = None, base: Path | None = None) -> Path:
    """The index directory: the one given, else $REGQA_INDEX, else data/index under `base` (the
    working directory when None; the app passes its repository, so it serves the same index from anywhere)."""
    return resolve_dir(given, INDEX_ENV, DEFAULT_INDEX, base)
