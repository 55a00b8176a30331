"""Loaded only by `make test-days`, which runs the whole suite under Debian's faketime (libfaketime 0.9.10, every
Python process of the run seeing another date). That libfaketime answers Python's time.sleep (a clock_nanosleep to a
deadline on the monotonic clock) with EINVAL once the monotonic clock is left real (--exclude-monotonic), and with the
monotonic clock faked every lock wait with a timeout hangs. A sleep here waits on an Event instead, which works."""

import threading
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    threading.Event().wait(seconds)


time.sleep = _sleep
