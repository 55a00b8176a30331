"""`mailpipe plan`: the calendar of the next days, offline, each send with its email's sign-off.

At a glance by default: one row per email and day with how many people it goes to, counted from the local copy of the
lead records the last push wrote (offline: Mailchimp is not asked), and every monthly send. `--verbose` names the
people; `--json` has every send slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mailpipe.load.campaigns import Drip
from mailpipe.plan import PlannedSend
from mailpipe.project import Project
from mailpipe.review import ReviewState


@dataclass(frozen=True)
class PlanRow:
    """One row of the plan at a glance: an email going out on a day, to `people` (None: not known yet)."""

    send: PlannedSend
    monthly: bool
    people: tuple[str, ...] | None  # the leads due (a drip step), when a push has recorded them
    steps: str = ""  # a drip day whose leads are not known: which steps may go out


@dataclass(frozen=True)
class Calendar:
    sends: list[PlannedSend]
    sign_offs: dict[str, ReviewState]
    rows: list[PlanRow]
    recorded: bool  # a push has recorded who is in the drips (the people counts are known)

    @property
    def gaps(self) -> list[PlannedSend]:
        """Sends that cannot happen (a month without its special): the run exits non-zero."""
        return [s for s in self.sends if s.problem]


def plan(project: Project, start: dt.date | None = None, days: int = 14, sandbox: bool = False) -> Calendar:
    """`days` days from `start` (default: today in the clinic's time zone); who is due is read from the local copy of
    the real account's pushes (with `sandbox`, the embedded sandbox's)."""
    from mailpipe.plan import plan as make_plan
    from mailpipe.plan.keys import DripKey, key_of_title
    from mailpipe.push.record import LeadLog
    from mailpipe.push.state import recorded_lead_logs
    from mailpipe.push.target import embedded_sandbox_state
    from mailpipe.util.paths import inside_project

    rendered = project.rendered()
    site = rendered.site
    campaigns = project.campaigns
    first = start or project.today()
    sends = make_plan(campaigns, rendered.content, {e.id for e in rendered.emails}, first, days)
    state = (
        embedded_sandbox_state(project.root, site)
        if sandbox
        else inside_project(project.root, site.mailchimp.state_path, "mailchimp.state_path")
    )
    logs = recorded_lead_logs(state)
    drips = {c.name: c for c in campaigns if isinstance(c, Drip)}
    rows: list[PlanRow] = []
    for send in sends:
        drip = drips.get(send.campaign)
        if drip is None:
            rows.append(PlanRow(send, True, None))
            continue
        if logs is None:
            continue  # one row per drip day below
        key = key_of_title(send.key)
        assert isinstance(key, DripKey)  # a drip's send is named by its DripKey
        step = drip.steps[key.step - 1]
        entered = send.local_time.date() - dt.timedelta(days=step.delay_days)
        records = logs.get(site.audiences[drip.audience].list_id, {})
        due = tuple(sorted(e for e, v in records.items() if LeadLog.parse(v).starts.get(drip.code) == entered))
        if due:
            rows.append(PlanRow(send, False, due))
    if logs is None:
        seen: set[tuple[str, dt.date]] = set()
        for send in sends:
            drip = drips.get(send.campaign)
            if drip and (drip.name, send.local_time.date()) not in seen:
                seen.add((drip.name, send.local_time.date()))
                rows.append(PlanRow(send, False, None, f"steps 1–{len(drip.steps)}"))
    rows.sort(key=lambda r: (r.send.utc_time, not r.monthly, r.send.key))
    return Calendar(sends, project.sign_offs, rows, logs is not None)
