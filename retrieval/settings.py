"""How a search ranks and when it abstains: one frozen SearchSettings, and the search modes.

A Retriever takes its defaults from the index it loads (an index calibrated on its own corpus's questions
stores them in its manifest under "search"; see `SearchSettings.from_manifest`), else from the defaults in
retrieval/fuse.py and retrieval/abstain.py. `Retriever.search(..., settings=...)` overrides them for one
call, which is how calibration tries many settings on one loaded Retriever without changing it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from retrieval.abstain import AbstainRule
from retrieval.fuse import DEFAULT_DENSE_WEIGHT

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "lexical")
DEFAULT_MODE = "hybrid"
MANIFEST_KEY = "search"


NARROW_ARTICLES = 2_000  # a search filtered to at most this many articles (a few regulations) is "narrow"


@dataclass(frozen=True)
class SearchSettings:
    dense_weight: float = DEFAULT_DENSE_WEIGHT  # share of the dense side in hybrid fusion (0..1)
    abstain_rule: AbstainRule = field(default_factory=AbstainRule)
    # The rule for a narrow search (see NARROW_ARTICLES), when the index was calibrated for one: the closest
    # article among a few regulations' is less close than among a library's, for an answerable question as for
    # an unanswerable one, so floors fitted on library-wide searches abstain too often inside a few regulations.
    narrow_rule: AbstainRule | None = None

    def rule_for(self, allowed_articles: int | None) -> AbstainRule:
        """The rule for a search that may return `allowed_articles` articles (None: no filter)."""
        narrow = allowed_articles is not None and allowed_articles <= NARROW_ARTICLES
        return self.narrow_rule if narrow and self.narrow_rule is not None else self.abstain_rule

    def to_json(self) -> dict[str, Any]:
        out = {"dense_weight": self.dense_weight, "abstain_rule": asdict(self.abstain_rule)}
        if self.narrow_rule is not None:
            out["narrow_rule"] = asdict(self.narrow_rule)
        return out

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> SearchSettings:
        """The settings an index was calibrated with (manifest["search"], as `to_json` writes it); the
        defaults for whatever is missing. Malformed values are ignored with a warning, never guessed."""
        stored = manifest.get(MANIFEST_KEY)
        if not isinstance(stored, dict):
            return cls()
        defaults = cls()
        weight = stored.get("dense_weight", defaults.dense_weight)
        if not isinstance(weight, int | float) or not 0.0 <= weight <= 1.0:
            log.warning("ignoring the index's dense_weight %r (not between 0 and 1)", weight)
            weight = defaults.dense_weight
        rule = _rule(stored.get("abstain_rule"), defaults.abstain_rule)
        narrow = stored.get("narrow_rule")
        return cls(float(weight), rule, _rule(narrow, rule) if isinstance(narrow, dict) else None)


def _rule(raw: Any, base: AbstainRule) -> AbstainRule:
    """An AbstainRule from its JSON: `base` for whatever is missing; malformed values ignored with a warning."""
    if not isinstance(raw, dict):
        return base
    known = {f.name for f in fields(AbstainRule)}
    values = {k: v for k, v in raw.items() if k in known and isinstance(v, int | float)}
    if len(values) != len(raw):
        log.warning("ignoring unknown or non-numeric abstain settings in the index: %s", sorted(set(raw) - set(values)))
    return AbstainRule(**{**asdict(base), **{k: float(v) for k, v in values.items()}})
