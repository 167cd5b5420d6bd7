"""Evaluation: question sets in, retrieval metrics (ranx), abstention, latency, reports and calibration out.

`python -m eval run --questions data/questions/test.jsonl --mode all --report reports/latest`
`python -m eval calibrate --questions data/questions/dev.jsonl`
"""

from __future__ import annotations
