"""Small helpers to time calls: medians and p95 after a warm-up."""
from __future__ import annotations

import timeit
from typing import Callable

import numpy as np


def time_calls(function: Callable[[], object], calls: int = 50, warmup: int = 5) -> dict:
    """Median and p95 wall time in milliseconds of `calls` calls, after `warmup` calls
    (`timeit.repeat`, one call per sample, the garbage collector off as timeit keeps it)."""
    timer = timeit.Timer(function)
    timer.repeat(repeat=warmup, number=1)
    samples = np.array(timer.repeat(repeat=calls, number=1)) * 1000.0
    return {"median_ms": round(float(np.median(samples)), 3), "p95_ms": round(float(np.percentile(samples, 95)), 3),
            "calls": calls}
