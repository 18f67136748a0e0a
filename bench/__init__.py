"""Benchmarks of the tracker at scale: ``python -m bench.run`` (see bench/run.py)."""
