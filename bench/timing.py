"""Small helpers to time calls: medians and p95 after a warm-up."""
from __future__ import annotations

import time
from typing import Callable

import numpy as np


def time_calls(function: Callable[[], object], calls: int = 50, warmup: int = 5) -> dict:
    """Median and p95 wall time in milliseconds of `calls` calls, after `warmup` calls."""
    for _ in range(warmup):
        function()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000.0)
    return {"median_ms": round(float(np.median(samples)), 3), "p95_ms": round(float(np.percentile(samples, 95)), 3),
            "calls": calls}
