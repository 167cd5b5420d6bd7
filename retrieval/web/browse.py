"""Finding one's way among many regulations: the chat's level and region pickers (which narrow the regulation
filter's choices), and the laws tab's search box with its level and region, all filtered on the server from the
served index's regulations (retrieval/filters.py); the tab never renders thousands of rows at once."""

from __future__ import annotations

import logging
from typing import Any

import gradio as gr

from ingest.errors import RegQAError
from retrieval.filters import NATIONAL, Facets
from retrieval.serving.service import SearchService
from retrieval.web import laws

log = logging.getLogger(__name__)

ALL = ""  # the laws tab's "every level" / "every region" choice


def _names(value: Any) -> list[str]:
    if value is None or value == ALL:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str) and v]


class Browse:
    """The handlers of the pickers and of the laws tab, answering from the service's loaded index."""

    def __init__(self, service: SearchService) -> None:
        self.service = service

    def _facets(self) -> tuple[Facets, list[dict[str, Any]], Any]:
        eng = self.service.engine()
        return eng.retriever.facets, laws.ordered(eng.rows), eng.retriever

    @staticmethod
    def level_choices(facets: Facets) -> list[tuple[str, str]]:
        return laws.level_choices([(n, len(facets.levels[n])) for n in facets.level_names()])

    @staticmethod
    def region_choices(facets: Facets) -> list[tuple[str, str]]:
        return laws.region_choices([(n, facets.count(n)) for n in facets.region_names()], NATIONAL)

    def on_load(self):
        """The chat's level and region pickers and the laws tab's, filled from the index, and the tab's count."""
        try:
            facets, rows, _ = self._facets()
        except RegQAError:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        levels, regions = self.level_choices(facets), self.region_choices(facets)
        every = [("全部 All", ALL)]
        return (gr.Dropdown(choices=levels), gr.Dropdown(choices=regions),
                gr.Dropdown(choices=every + levels, value=ALL), gr.Dropdown(choices=every + regions, value=ALL),
                laws.shown_line(len(rows), len(rows)))

    def narrow(self, levels: list[str] | None, regions: list[str] | None, chosen: list[str] | None):
        """The regulation filter's choices once levels or regions are picked (the chosen regulations that remain
        stay chosen); every regulation again when none is."""
        try:
            _, rows, retriever = self._facets()
        except RegQAError:
            return gr.skip()
        try:
            within = retriever.regulation_ids(None, _names(levels), _names(regions))
        except RegQAError as exc:  # a level and region no regulation has both: no choices, and why
            gr.Warning(str(exc))
            return gr.update(choices=[], value=[])
        rows = rows if within is None else [r for r in rows if r["id"] in within]
        kept = [c for c in chosen or [] if within is None or c in within]
        return gr.update(choices=laws.filter_choices(rows), value=kept)

    def laws(self, query: str | None, level: str | None, region: str | None):
        """The laws tab for what is typed and chosen: (table rows, count line, chapter outline)."""
        try:
            _, rows, retriever = self._facets()
        except RegQAError:
            return gr.skip(), gr.skip(), gr.skip()
        try:
            within = retriever.regulation_ids(None, _names(level), _names(region))
        except RegQAError as exc:
            return laws.table([]), str(exc), ""
        found = laws.matching(rows, query if isinstance(query, str) else "", within)
        return laws.table(found), laws.shown_line(len(found), len(rows)), laws.chapter_outline(found, every=rows)
