"""A small real library index for the filter, checker and page tests: the library branch's fixed sample of real files
(tests/library_sample.py) plus two provinces' product-quality regulations, with the two regulations, built with the
fake embedder (or any embedder given). Nothing unpacked is committed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.conftest import REGULATIONS, FakeEmbedder
from tests.library_sample import SAMPLE, extract_sample

ZHEJIANG_QUALITY = "DLC/浙江地方法规/地方性法规/浙江/浙江省产品质量监督条例(2009-11-27).md"
SHANGHAI_QUALITY = "DLC/上海地方法规/地方性法规/上海/上海市产品质量条例(2012-04-19).md"
EXTRA = (ZHEJIANG_QUALITY, "DLC/上海地方法规/db.sqlite3", SHANGHAI_QUALITY)


def build_small_library(dest: Path, embedder: Any = None) -> Path:
    """Extract the sample into dest/src and build dest/index from it and the two regulations; returns the index."""
    from ingest.build import build_index

    library = extract_sample(dest / "src", SAMPLE + EXTRA)
    out = dest / "index"
    build_index([library, REGULATIONS], out, embedder or FakeEmbedder(), progress=False)
    return out
