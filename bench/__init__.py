"""Benchmarks: `python -m bench` measures speed, memory and quality and writes the results."""
