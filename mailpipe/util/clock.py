"""The one place mailpipe reads the wall clock for a decision: what "now" means when a command is not told (`--now`,
`--today`, `--from`) and has no sandbox clock to go by.

Tests replace `utc_now` (tests/conftest.py refuses it unless a test sets a time), so that no test depends on the day
it runs. Times kept only for people to read (when a file was set aside, when a lock was taken) are not decisions and
do not come from here.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo


def utc_now() -> dt.datetime:
    """Now, in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def local_date(moment: dt.datetime, timezone: str) -> dt.date:
    """The date it is in `timezone` at `moment`."""
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()


def local_today(timezone: str) -> dt.date:
    """Today's date in the clinic's time zone."""
    return local_date(utc_now(), timezone)
