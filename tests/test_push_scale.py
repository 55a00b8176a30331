"""Push reads what can be due, not the account: its API calls do not grow with the audience or with history."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import TEST_KEY, copy_project
from mailpipe.load.campaigns import Drip, load_campaigns
from mailpipe.plan import local_to_utc
from mailpipe.project import Project, render_project
from mailpipe.push import push, refusals
from mailpipe.push.leads import Lead, import_leads
from mailpipe.push.mailchimp import Connection, Mailchimp
from mailpipe.push.state import State
from mailpipe.push.target import provision
from mailpipe.record import LOG_FIELD
from mailpipe.sandbox.server import RunningSandbox
from mailpipe.vocabulary import subscriber_hash

TZ = "America/Los_Angeles"
START = dt.date(2026, 3, 2)


def _pad(store, count: int, list_id: str, lead_tag_id: int, patient_tag_id: int) -> None:
    """Members of earlier years, last changed long ago: patients, and leads who finished the drip (a full MPLOG)."""
    old = "2024-01-15T12:00:00+00:00"
    rows, tags = [], []
    for n in range(count):
        email, lead = f"past{n:05d}@example.com", n % 5 == 0
        log = "|e1@20240110|e1.1.20240110|e1.2.20240117|e1.3.20240124|e1.4.20240131|" if lead else ""
        rows.append((list_id, subscriber_hash(email), email, "subscribed", json.dumps({LOG_FIELD: log}), old, old, old, f"p{n}"))
        tags.append((lead_tag_id if lead else patient_tag_id, subscriber_hash(email), old))
    with store.transaction() as db:
        db.executemany("INSERT INTO members VALUES (?,?,?,?,?,?,?,?,?)", rows)
        db.executemany("INSERT INTO segment_members VALUES (?,?,?)", tags)


def _two_weeks(tmp_path: Path, padding: int) -> list[tuple[int, list[tuple[str, str]]]]:
    """A daily push for 14 days with two new leads a day, on an audience `padding` members larger: (calls, outcomes) per day."""
    root = copy_project(tmp_path / f"project-{padding}")
    rendered = render_project(Project(root))
    site = rendered.site
    campaigns = load_campaigns(root / "campaigns", site, {e.id for e in rendered.emails})
    drips = [c for c in campaigns if isinstance(c, Drip)]
    refused = refusals(rendered.emails, site, allow_examples=True)
    days = []
    with RunningSandbox(tmp_path / f"sandbox-{padding}.sqlite3") as sandbox:
        store = sandbox.store
        store.set_clock(local_to_utc(START, "05:00", TZ))
        provision(store, site)
        mailchimp = Mailchimp(Connection(TEST_KEY, sandbox.url))
        list_id = site.audiences["new-consult"].list_id
        import_leads(mailchimp, site.audiences["existing-patient"], [Lead(0, "patient@example.com", "P", "", None)], store.now())
        import_leads(mailchimp, site.audiences["new-consult"], [Lead(0, "first@example.com", "L", "", None)], store.now(), drips)
        tag_ids = mailchimp.tag_ids(list_id, ["mp-a", "mp-b"])
        _pad(store, padding, list_id, tag_ids["mp-a"], tag_ids["mp-b"])
        state = State(tmp_path / f"state-{padding}.sqlite3", sandbox.url)
        for offset in range(14):
            now = local_to_utc(START + dt.timedelta(days=offset), "06:00", TZ)
            store.advance(now)
            leads = [Lead(0, f"day{offset}-{n}@example.com", "L", "", now - dt.timedelta(hours=3)) for n in range(2)]
            import_leads(mailchimp, site.audiences["new-consult"], leads, now, drips)
            result = push(mailchimp, state, site, campaigns, rendered.emails, rendered.content, refused, now)
            days.append((result.api_calls, sorted((o.action, o.detail) for o in result.outcomes)))
        state.close()
    return days


def test_push_makes_the_same_calls_to_the_same_effect_whatever_the_audience_size(tmp_path):
    small, large = _two_weeks(tmp_path, 0), _two_weeks(tmp_path, 3_000)
    assert [calls for calls, _ in small] == [calls for calls, _ in large]
    assert [outcomes for _, outcomes in small] == [outcomes for _, outcomes in large]
    assert sum(1 for _, outcomes in small for action, _ in outcomes if action == "created") >= 14  # the drip ran
