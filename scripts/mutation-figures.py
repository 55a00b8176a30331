"""`make mutation`'s figures: mutants, killed, survived and the time, per guard module and in all, then each survivor.

Read from `mutmut results --all true` (mutmut's own listing, one `name: status` line per mutant), so nothing here
depends on how mutmut stores its work. A survivor that `scripts/mutation-equivalents.toml` explains (its function and
the line as the mutant has it, with why no behaviour can tell it apart) is counted as equivalent. Exit 1 while any
other mutant survives, or any has no test run on it: the goal is none.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

MUTMUT = Path(sys.executable).with_name("mutmut")
EQUIVALENTS = Path(__file__).with_name("mutation-equivalents.toml")
KILLED = ("killed", "caught by type check")


def module_of(name: str) -> str:
    """`mailpipe.push.decide.x__draft__mutmut_12` (or `…xǁStateǁmethod__mutmut_3`) -> `mailpipe.push.decide`."""
    return name.rsplit(".", 1)[0]


def function_of(name: str) -> str:
    """`mailpipe.push.decide.x__draft__mutmut_12` -> `mailpipe.push.decide._draft`; a method's name has its class."""
    module, mangled = name.split("__mutmut_")[0].rsplit(".", 1)
    return f"{module}.{mangled[2:].replace('ǁ', '.')}"


def changed_lines(diff: str, sign: str) -> set[str]:
    """The lines `mutmut show`'s unified diff takes out (`-`) or puts in (`+`), stripped."""
    return {line[1:].strip() for line in diff.splitlines() if line[:1] == sign and line[:3] != sign * 3}


def equivalent(name: str, diff: str, explained: list[dict[str, str]]) -> str | None:
    """Why the survivor `name` is equivalent, if the allow-list says so for its function, the line as it is and the
    line as the mutant has it."""
    removed, added = changed_lines(diff, "-"), changed_lines(diff, "+")
    return next(
        (
            e["why"]
            for e in explained
            if e["function"] == function_of(name) and e["original"].strip() in removed and e["mutant"].strip() in added
        ),
        None,
    )


NO_TESTS = (
    "For those without tests, mutmut's record of which tests reach which function names none. It takes that record in "
    "full once, and later only for new tests, so a function added since has none: remove mutants/mutmut-stats.json "
    "and run again. A mutant still without tests then is code no fast test reaches."
)


def unmet(statuses: dict[str, str]) -> dict[str, list[str]]:
    """What keeps the goal unmet: the survivors the allow-list does not explain, and mutants no test was run on."""
    return {status: sorted(n for n, s in statuses.items() if s == status) for status in ("survived", "no tests")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, required=True, help="how long the mutmut run took")
    seconds = parser.parse_args().seconds
    explained = tomllib.loads(EQUIVALENTS.read_text(encoding="utf-8"))["equivalent"]
    listing = subprocess.run([MUTMUT, "results", "--all", "true"], capture_output=True, text=True, check=True).stdout
    statuses = dict(line.strip().rsplit(": ", 1) for line in listing.splitlines() if ": " in line)
    why: dict[str, str] = {}
    for name in (n for n, status in statuses.items() if status == "survived"):
        diff = subprocess.run([MUTMUT, "show", name], capture_output=True, text=True, check=True).stdout
        reason = equivalent(name, diff, explained)
        if reason is not None:
            why[name] = " ".join(reason.split())
            statuses[name] = "equivalent"
    by_module: dict[str, Counter[str]] = defaultdict(Counter)
    for name, status in statuses.items():
        by_module[module_of(name)]["killed" if status in KILLED else status] += 1
    columns = ("killed", "equivalent", "survived")
    print(f"{'module':<32} {'mutants':>8} {'killed':>8} {'equivalent':>11} {'survived':>9} {'other':>6}")
    total: Counter[str] = Counter()
    for module in [*sorted(by_module), "all"]:
        counts = total if module == "all" else by_module[module]
        if module != "all":
            total.update(counts)
        other = sum(counts.values()) - sum(counts[c] for c in columns)
        print(
            f"{module:<32} {sum(counts.values()):>8} {counts['killed']:>8} {counts['equivalent']:>11} "
            f"{counts['survived']:>9} {other:>6}"
        )
    minutes, rest = divmod(seconds, 60)
    others = ", ".join(sorted(set(total) - set(columns))) or "none"
    print(f"time: {minutes} min {rest} s (the mutmut run; other: {others})")
    for name in sorted(why):
        print(f"equivalent: {name}: {why[name]}")
    left = unmet(statuses)
    for status, names in left.items():
        for name in names:
            print(f"{status}: {name}")
    if left["no tests"]:
        print(NO_TESTS)
    return 1 if any(left.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
