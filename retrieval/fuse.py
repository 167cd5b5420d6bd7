"""Fuse dense and lexical scores: a weighted sum of min-max-normalised scores.

Plain reciprocal-rank fusion does not beat dense alone here because the lexical side is weaker; a weight
chosen on development questions does (see eval/ and the design notes). Calibrated with
`python -m eval calibrate --questions data/questions/dev.jsonl`: MRR@10 on the development questions is flat
between 0.55 and 0.70 (0.646-0.650) and falls off on either side (dense alone 0.602, BM25 alone 0.570).
Tried and not better on the same questions: z-score or max normalisation, weighted RRF (k = 10, 30, 60).
"""

from __future__ import annotations

DEFAULT_DENSE_WEIGHT = 0.6


def _minmax(scores: dict[int, float]) -> dict[int, float]:
    if not scores:
        return {}
    lo, hi = min(scores.values()), max(scores.values())
    if hi - lo < 1e-9:
        return {k: 1.0 for k in scores}
    return {k: (v - lo) / (hi - lo) for k, v in scores.items()}


def fuse(dense: dict[int, float], lexical: dict[int, float],
         dense_weight: float = DEFAULT_DENSE_WEIGHT) -> dict[int, float]:
    """Articles found by either side; one missing from a side scores 0 there."""
    d, lx = _minmax(dense), _minmax(lexical)
    keys = set(d) | set(lx)
    return {k: dense_weight * d.get(k, 0.0) + (1 - dense_weight) * lx.get(k, 0.0) for k in keys}
