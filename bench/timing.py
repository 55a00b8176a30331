"""What the benchmarks share: the median of repeated runs of a function."""

from __future__ import annotations

import statistics
import time


def median_ms(function, runs: int) -> float:
    """Median wall time of `function()` over `runs` runs, in milliseconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
