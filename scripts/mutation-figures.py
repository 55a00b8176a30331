"""`make mutation`'s figures: mutants, killed, survived and the time, per guard module and in all, then each survivor.

Read from `mutmut results --all true` (mutmut's own listing, one `name: status` line per mutant), so nothing here
depends on how mutmut stores its work. Exit 1 while any mutant survives: the goal is none, each equivalent one marked
`# pragma: no mutate` at its line with the reason.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = Path(sys.executable).with_name("mutmut")
KILLED = ("killed", "caught by type check")


def module_of(name: str) -> str:
    """`mailpipe.push.decide.x__draft__mutmut_12` (or `…xǁStateǁmethod__mutmut_3`) -> `mailpipe.push.decide`."""
    return name.rsplit(".", 1)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, required=True, help="how long the mutmut run took")
    seconds = parser.parse_args().seconds
    listing = subprocess.run([MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    statuses = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses.items():
        by_module[module_of(name)]["killed" if status in KILLED else status] += 1
    print(f"{'module':<32} {'mutants':>8} {'killed':>8} {'survived':>9} {'other':>6}")
    total: Counter[str] = Counter()
    for module in sorted(by_module):
        counts = by_module[module]
        total.update(counts)
        other = sum(counts.values()) - counts["killed"] - counts["survived"]
        print(f"{module:<32} {sum(counts.values()):>8} {counts['killed']:>8} {counts['survived']:>9} {other:>6}")
    other = sum(total.values()) - total["killed"] - total["survived"]
    print(f"{'all':<32} {sum(total.values()):>8} {total['killed']:>8} {total['survived']:>9} {other:>6}")
    minutes, rest = divmod(seconds, 60)
    others = ", ".join(sorted(set(total) - {"killed", "survived"})) or "none"
    print(f"time: {minutes} min {rest} s (the mutmut run; other: {others})")
    survivors = sorted(name for name, status in statuses.items() if status == "survived")
    for name in survivors:
        print(f"survived: {name}")
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main())
