"""Break each guarantee of push/decide.py in one line, in turn, and run tests/test_decide.py against it: every break
must fail a test (issue 22). Restores the file whatever happens.

    .venv/bin/python scripts/mutate-decide.py
"""

import re
import subprocess
from pathlib import Path

PATH = Path("mailpipe/push/decide.py")
MUTANTS = [
    (
        "no re-send: a sent step is void",
        '    if found.status == "sent":\n        return StepState.SENT',
        '    if found.status == "sent":\n        return StepState.VOID',
    ),
    (
        "never before due",
        "if lead.exited or due_day > self.today or start > self.today:",
        "if lead.exited or start > self.today:",
    ),
    (
        "one step a day",
        "if any(k.code == code and k.day == self.today for k in log.assigned) or key in self.made_today:",
        "if key in self.made_today:",
    ),
    (
        "lateness cap moved by a minute",
        "        if self.send_at > deadline:\n            return log, StepState.SKIPPED",
        "        if self.send_at >= deadline:\n            return log, StepState.SKIPPED",
    ),
    (
        "exit tags ignored",
        "if lead.exited or due_day > self.today or start > self.today:",
        "if due_day > self.today or start > self.today:",
    ),
    (
        "next step does not wait",
        "            if state not in (StepState.SENT, StepState.SKIPPED):",
        "            if state not in (StepState.SENT, StepState.SKIPPED, StepState.PENDING):",
    ),
    ("held campaign not said", "    if holding or isinstance(key, MonthlyKey):", "    if isinstance(key, MonthlyKey):"),
    (
        "deleted campaign counted as pending",
        "        return StepState.PENDING if key.day == today and not made else StepState.VOID",
        "        return StepState.PENDING",
    ),
    ("refused email given anyway", "        if step.content in self.refusals:", "        if False:"),
    (
        "refused draft scheduled",
        "    if plan.email.id in refusals:\n        return Notice(key, Action.REFUSED,",
        "    if False:\n        return Notice(key, Action.REFUSED,",
    ),
    (
        "too-late draft scheduled",
        "    if too_late:\n        return Delete(",
        "    if False:\n        return Delete(",
    ),
    (
        "a draft with no record of making it adopted",
        "    if known is None:\n        return Notice(key, Action.HELD, UNKNOWN_DRAFT, True)",
        "    if False:\n        return Notice(key, Action.HELD, UNKNOWN_DRAFT, True)",
    ),
    ("changed campaign not updated", "        if current != plan.email.content_hash:", "        if False:"),
    (
        "refused version updated in place",
        "            if plan.email.id in refusals:\n                decision.steps.append(\n",
        "            if False:\n                decision.steps.append(\n",
    ),
    ("sent campaign updated", '    if found.status == "schedule":', '    if found.status in ("schedule", "sent"):'),
    ("36 h lead moved: made only within less", "or send - now > MONTHLY_LEAD or", "or send - now >= MONTHLY_LEAD or"),
    (
        "36 h lead moved: made a minute earlier",
        "or send - now > MONTHLY_LEAD or",
        "or send - now > MONTHLY_LEAD + dt.timedelta(minutes=1) or",
    ),
    (
        "week's lateness moved: a minute later",
        "or now - send > MONTHLY_LATE:",
        "or now - send > MONTHLY_LATE + dt.timedelta(minutes=1):",
    ),
    ("week's lateness moved: less than a week", "or now - send > MONTHLY_LATE:", "or now - send >= MONTHLY_LATE:"),
    (
        "offers' end moved by a day",
        "    return special is not None and special.front.valid_until < today",
        "    return special is not None and special.front.valid_until <= today",
    ),
    ("campaign made before its leads' records", "WriteLog: 2, Delete: 3", "WriteLog: 7, Delete: 3"),
]
source = PATH.read_text()
killed = 0
try:
    for name, old, new in MUTANTS:
        assert source.count(old) == 1, (name, source.count(old))
        PATH.write_text(source.replace(old, new))
        run = [".venv/bin/python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_decide.py"]
        out = subprocess.run(run, capture_output=True, text=True).stdout
        failed = sorted(
            {re.sub(r"\[.*| - .*", "", line.split("::")[1]) for line in out.splitlines() if "FAILED" in line}
        )
        killed += bool(failed)
        print(f"{'killed  ' if failed else 'SURVIVED'} {name}: {', '.join(failed)}", flush=True)
finally:
    PATH.write_text(source)
print(f"{killed} of {len(MUTANTS)} killed")
