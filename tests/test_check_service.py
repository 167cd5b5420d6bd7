"""CitationChecks on a fake engine: the catalogue follows the engine's loaded index (a switched-in build is
used at once), one instance per service, and the check runs in the search pool."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from ingest.errors import ServiceBusy
from retrieval.checker.catalogue import Catalogue
from retrieval.serving.check_service import CitationChecks
from retrieval.serving.service import SearchService, ServingSettings
from tests.conftest import REGULATIONS

DRAFT = "湖北条例第四十九条；杭州办法第二十七条。"


@pytest.fixture(scope="module")
def texts() -> Catalogue:
    return Catalogue.from_sources([REGULATIONS])


def _engine(regulations, articles) -> SimpleNamespace:
    return SimpleNamespace(retriever=SimpleNamespace(index=SimpleNamespace(regulations=regulations,
                                                                             articles=articles)), rows=[])


def test_the_catalogue_follows_the_loaded_build(texts: Catalogue) -> None:
    both = _engine(texts.regulations, texts.articles)
    hubei_only = _engine(tuple(r for r in texts.regulations if r.id.startswith("hubei")),
                         tuple(a for a in texts.articles if a.regulation_id.startswith("hubei")))
    current = {"engine": both}
    checks = CitationChecks(SearchService(lambda: current["engine"], ServingSettings(max_inflight=2)))
    first = checks.catalogue()
    assert checks.catalogue() is first  # the same build: made once
    assert [c.verdict for c in checks.check(DRAFT).citations] == ["found", "found"]
    current["engine"] = hubei_only  # a rebuild without the Hangzhou measure is switched in
    assert checks.catalogue() is not first
    assert [c.verdict for c in checks.check(DRAFT).citations] == ["found", "unknown_regulation"]


def test_one_instance_per_service_and_a_full_pool_refuses(texts: Catalogue) -> None:
    service = SearchService(lambda: _engine(texts.regulations, texts.articles), ServingSettings(max_inflight=1))
    checks = CitationChecks.of(service)
    assert CitationChecks.of(service) is checks
    assert CitationChecks.of(SearchService(service.engine)) is not checks

    async def run() -> None:
        with service.pool.slot():  # another request holds the only slot
            with pytest.raises(ServiceBusy):
                await checks.check_async(DRAFT)
        report = await checks.check_async(DRAFT)
        assert report.ok

    asyncio.run(run())
