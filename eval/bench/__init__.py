"""Benchmarks: `python -m eval.bench.<name>`."""
