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


@dataclass(frozen=True)
class SearchSettings:
    dense_weight: float = DEFAULT_DENSE_WEIGHT  # share of the dense side in hybrid fusion (0..1)
    abstain_rule: AbstainRule = field(default_factory=AbstainRule)

    def to_json(self) -> dict[str, Any]:
        return {"dense_weight": self.dense_weight, "abstain_rule": asdict(self.abstain_rule)}

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
        rule = defaults.abstain_rule
        raw = stored.get("abstain_rule")
        if isinstance(raw, dict):
            known = {f.name for f in fields(AbstainRule)}
            values = {k: v for k, v in raw.items() if k in known and isinstance(v, int | float)}
            if len(values) != len(raw):
                log.warning("ignoring unknown or non-numeric abstain settings in the index: %s",
                            sorted(set(raw) - set(values)))
            rule = AbstainRule(**{**asdict(rule), **{k: float(v) for k, v in values.items()}})
        return cls(float(weight), rule)
