"""A simulated clinic: leads arriving over weeks, pushes like cron's and a person's, and a marketer clicking around
in Mailchimp between them. It drives the real push through the real client against the sandbox over HTTP.

Seeded: the same seed gives the same run. The marketer's actions are the ones push must survive: tags deleted (all,
or on one contact), campaigns renamed, moved, paused, unscheduled, canceled or deleted before sending, the folder
renamed, the local state lost or restored from an old backup, leads becoming patients (the exit tag).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import multiprocessing
import os
import random
import shutil
import signal
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

from conftest import findings_of
from mailpipe.load.campaigns import Drip, load_campaigns
from mailpipe.plan import local_to_utc
from mailpipe.plan.keys import DripKey, MonthlyKey
from mailpipe.project import Project
from mailpipe.push import push, refusals
from mailpipe.push.leads import Lead, import_leads
from mailpipe.push.mailchimp import Connection, Mailchimp, MailchimpError, RetryPolicy
from mailpipe.push.record import LOG_FIELD, LeadLog, key_of
from mailpipe.push.state import State
from mailpipe.push.target import provision
from mailpipe.sandbox.server import FaultPlan, RunningSandbox
from mailpipe.util.vocabulary import subscriber_hash

TZ = "America/Los_Angeles"
ZONE = zoneinfo.ZoneInfo(TZ)
KEY = "simulation-key-us9"
LIST = "aivi-main"
LEAD_TAG, PATIENT_TAG = "mp-a", "mp-b"
PATIENTS = [
    Lead(2 + n, f"patient{n}@example.com", f"P{n}", "", dt.datetime(2023, 6, 1, 12, tzinfo=dt.UTC)) for n in range(4)
]
MARKETER_ACTIONS = (
    "delete-tag",
    "untag-one",
    "rename",
    "move",
    "pause",
    "unschedule",
    "cancel",
    "delete",
    "rename-folder",
    "lose-state",
    "restore-old-state",
    "becomes-patient",
    "resume-or-delete",
    "rename-tag",  # the drip's tag renamed, and renamed back a little later
    "move-start",  # a lead's drip start moved earlier or later in MPLOG
    "tag-and-untag",  # a new contact tagged by hand while another lead is untagged, the same minute
    "two-checkouts",  # a second checkout (its own state file) pushing at the same minute as this one
    "edit-article",  # an article (featured in a newsletter, sent in the drip) edited
)


def add_specials(root: Path, months: list[str]) -> None:
    """Write a month's specials (from the May 2024 example) for each month the simulation crosses."""
    template = (root / "content/specials/2024-05.md").read_text()
    for month in months:
        year, number = map(int, month.split("-"))
        last = (dt.date(year + number // 12, number % 12 + 1, 1) - dt.timedelta(days=1)).day
        name = calendar.month_name[number]
        text = (
            template.replace("month: 2024-05", f"month: {month}")
            .replace("valid_from: 2024-05-01", f"valid_from: {month}-01")
            .replace("valid_until: 2024-05-31", f"valid_until: {month}-{last:02d}")
            .replace("Specials May 2024", f"Specials {month}")
            .replace("May 1 to May 31, 2024", f"{name} 1 to {name} {last}, {year}")
            .replace("May 1 to May 31", f"{name} 1 to {name} {last}")
            .replace("bought by May 31", f"bought by {name} {last}")
            .replace("Your May specials", f"Your {name} specials")
            .replace(" for summer.", ".")
            .replace("Spring is a good time to give your skin some care.", "A good month to give your skin some care.")
        )
        (root / f"content/specials/{month}.md").write_text(text)


def add_articles(root: Path, count: int) -> None:
    """Grow a project to `count` articles: copies of the shipped ones under new ids, each with a paragraph of its own
    (a project with years of issues, for the scale benchmark and the large-project output)."""
    shipped = sorted((root / "content/articles").glob("*.md"))
    for number in range(len(shipped), count):
        source = shipped[number % len(shipped)].read_text()
        original = source.split("\nid: ", 1)[1].split("\n", 1)[0]
        text = source.replace(f"\nid: {original}\n", f"\nid: {original}-{number:04d}\n", 1)
        text += f"\n\nIssue {number}: a note on keeping a headache diary, week {number % 52 + 1} of the year.\n"
        (root / f"content/articles/{number + 1:04d}-{original}.md").write_text(text)


def monday_template(folder: Path, monday: dt.datetime, leads: list[Lead]) -> tuple[Path, object, list, Path]:
    """A copy of the project and a sandbox file, ready for a push at `monday`: `leads` imported into the drip the day
    before, and a patient. Copied for each case by the tests that push from it."""
    from conftest import copy_project

    root = copy_project(folder / "project")
    rendered = Project(root).rendered()
    campaigns = load_campaigns(root / "campaigns", rendered.site, {e.id for e in rendered.emails})
    template = root / "template.sqlite3"
    with RunningSandbox(template) as sandbox:
        sandbox.store.set_clock(monday - dt.timedelta(days=7))
        provision(sandbox.store, rendered.site)
        mc = Mailchimp(Connection(KEY, sandbox.url), RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01))
        drips = [c for c in campaigns if isinstance(c, Drip)]
        import_leads(mc, rendered.site.audiences["new-consult"], leads, monday - dt.timedelta(days=1), drips)
        import_leads(mc, rendered.site.audiences["existing-patient"], [Lead(9, "p@example.com", "P", "", None)], monday)
        sandbox.store.set_clock(monday)
    return root, rendered, campaigns, template


def push_once(url: str, state_path: Path, rendered, campaigns: list, now: dt.datetime):
    """One push of the project's emails (none refused but for check errors) to the sandbox at `url`, with its own
    state file: what each of two checkouts, or a run after a crash, does."""
    state = State(state_path, url)
    try:
        return push(
            Mailchimp(Connection(KEY, url), RetryPolicy(attempts=4, base_delay=0.001, max_delay=0.01)),
            state,
            rendered.site,
            campaigns,
            rendered.emails,
            rendered.content,
            refusals(rendered.emails, findings_of(rendered.emails, rendered.site), {}, real_account=False),
            now,
        )
    finally:
        state.close()


def make_leads(start: dt.date, days: int, per_week: float, rng: random.Random) -> list[Lead]:
    """Leads at a steady rate on random local times, some at 23:59, some around the daylight-saving change."""
    leads = []
    for n in range(int(days * per_week / 7)):
        day = start + dt.timedelta(days=rng.randrange(0, days))
        hour, minute = (23, 59) if n % 5 == 0 else (rng.randrange(0, 24), rng.randrange(0, 60))
        leads.append(
            Lead(
                n + 2, f"lead{n:03d}@example.com", f"Lead{n}", "", dt.datetime.combine(day, dt.time(hour, minute), ZONE)
            )
        )
    return leads


@dataclass
class Simulation:
    root: Path
    start: dt.date
    days: int
    seed: int = 7
    per_week: float = 14
    fault_rate: float = 0.0
    marketer_rate: float = 0.35  # chance of a marketer action each day
    skip_rate: float = 0.08  # chance a day has no push at all
    extra_push_rate: float = 0.4  # chance of another push later the same day (a person, on top of cron)
    late_push_rate: float = 0.2  # chance of a push late in the evening or at night (after an outage)
    dry_run_rate: float = 0.4  # chance of a dry run at a random moment of the day
    kill_rate: float = 0.1  # chance a push is killed with kill -9 mid-run
    ui_tagged_share: float = 0.3  # leads tagged by hand in Mailchimp's UI instead of imported
    condition_form: str = "as-written"  # how the sandbox answers segment conditions (`internal`: merge0, mergeN)
    segment_timing: str = "create"  # when the sandbox resolves a campaign's segment (`send`: Free and Essentials)
    # what happened, for the assertions
    actions: list[tuple[dt.datetime, str, str]] = field(default_factory=list)
    exits: dict[str, dt.datetime] = field(default_factory=dict)
    dry_runs: int = 0
    dry_run_writes: int = 0
    twice: int = 0  # pushes run from two checkouts at the same minute
    twins_deleted: int = 0
    kills: int = 0
    pushes: int = 0
    touched_months: set[str] = field(default_factory=set)
    tagged_on: dict[str, dt.date] = field(default_factory=dict)
    made_patients: dict[str, dt.datetime] = field(default_factory=dict)
    hand_tagged: list[Lead] = field(default_factory=list)  # contacts a marketer tagged by hand (leads too)
    moved_starts: dict[str, dt.date] = field(default_factory=dict)  # lead -> the start a person wrote in MPLOG
    _cycle: list[str] = field(default_factory=list)

    def run(self) -> dict:
        rng = random.Random(self.seed)
        rendered = Project(self.root).rendered()
        self.site = site = rendered.site
        campaigns = load_campaigns(self.root / "campaigns", site, {e.id for e in rendered.emails})
        self.drip = next(c for c in campaigns if isinstance(c, Drip))
        leads = make_leads(self.start, self.days, self.per_week, rng)
        ui_tagged = {lead.email for lead in leads if rng.random() < self.ui_tagged_share}
        faults = FaultPlan(rate=self.fault_rate, seed=self.seed, retry_after=0) if self.fault_rate else None
        self._dry = False
        self._kill_pid: int | None = None
        self._kill_after = 0
        state_path = self.root / "var/state.sqlite3"
        backup = self.root / "var/state-backup.sqlite3"
        with RunningSandbox(self.root / "var/sim-sandbox.sqlite3", faults=faults, recorder=self._record) as sandbox:
            self.store = store = sandbox.store
            store.set_clock(local_to_utc(self.start, "05:00", TZ))
            store.set_condition_form(self.condition_form)
            store.set_segment_timing(self.segment_timing)
            provision(store, site)
            retry = RetryPolicy(attempts=12, base_delay=0.001, max_delay=0.01)
            mc = Mailchimp(Connection(KEY, sandbox.url), retry)
            imported: set[str] = set()
            refused = refusals(rendered.emails, findings_of(rendered.emails, site), {}, real_account=False)
            self._args = (sandbox.url, retry, state_path, campaigns, rendered, refused)
            for number in range(self.days):
                day = self.start + dt.timedelta(days=number)
                self._clock(local_to_utc(day, "05:30", TZ))
                for audience, people in (("existing-patient", PATIENTS), ("new-consult", leads)):
                    due = [p for p in people if p.email not in imported and p.joined <= store.now()]
                    by_hand = [p for p in due if p.email in ui_tagged]
                    self._retry(
                        lambda audience=audience, due=due, by_hand=by_hand: import_leads(
                            mc,
                            site.audiences[audience],
                            [p for p in due if p not in by_hand],
                            store.now(),
                            [c for c in campaigns if isinstance(c, Drip) and c.audience == audience],
                        )
                    )
                    for person in by_hand:
                        email, tag = person.email, site.audiences[audience].tag
                        self._retry(lambda email=email: mc.upsert_member(LIST, email))
                        self._retry(lambda email=email, tag=tag: mc.set_tags(LIST, email, active=[tag]))
                    imported |= {p.email for p in due}
                    self.tagged_on.update({p.email: day for p in due})
                if number == self.days // 3:
                    shutil.copy(state_path, backup) if state_path.exists() else None
                times = [] if rng.random() < self.skip_rate else [local_to_utc(day, "06:00", TZ)]
                if rng.random() < self.extra_push_rate:
                    times.append(local_to_utc(day, f"{rng.randrange(7, 21):02d}:{rng.choice([0, 7, 15, 40]):02d}", TZ))
                if rng.random() < self.late_push_rate:  # 20:40 to 04:40: runs whose sends would fall in quiet hours
                    hour = rng.choice([20, 21, 22, 23, 0, 1, 2, 3, 4])
                    late_day = day + dt.timedelta(days=1) if hour < 5 else day
                    times.append(local_to_utc(late_day, f"{hour:02d}:{rng.choice([31, 40, 50]):02d}", TZ))
                if rng.random() < self.marketer_rate:
                    # mostly between the morning push and the 09:30 send, when campaigns wait in Mailchimp
                    hour = rng.choice([6, 7, 8, 9]) if rng.random() < 0.8 else rng.randrange(10, 20)
                    times.append(("marketer", local_to_utc(day, f"{hour:02d}:{rng.choice([10, 25]):02d}", TZ)))
                if rng.random() < self.dry_run_rate:
                    times.append(
                        ("dry", local_to_utc(day, f"{rng.randrange(5, 22):02d}:{rng.choice([5, 20, 50]):02d}", TZ))
                    )
                for moment in sorted(times, key=lambda t: t[1] if isinstance(t, tuple) else t):
                    if isinstance(moment, tuple):
                        kind, when = moment
                        self._clock(when)
                        if kind == "marketer":
                            self._marketer(rng, mc, state_path, backup)
                        else:
                            self._push(mc, dry_run=True)
                        continue
                    self._clock(moment)
                    if getattr(self, "_twice_next", False):
                        self._twice_next = False
                        self._two_checkouts(mc, state_path)
                        self.twice += 1
                    elif rng.random() < self.kill_rate:
                        self._killed_push(rng.randrange(3, 25))
                    else:
                        self._push(mc)
            end = local_to_utc(self.start + dt.timedelta(days=self.days), "05:00", TZ)
            self._clock(end)
            self._push(mc)  # writes back what a person moved since the last run
            final = self._push(mc, dry_run=True)
            deliveries = store.deliveries()
            made = [
                {**c, "written_key": written_key(store, c)} for c in store.list_campaigns({"count": 1000})["campaigns"]
            ]
            members = store.list_members(LIST, {"count": 1000})["members"]
        starts = {
            m["email_address"]: LeadLog.parse(m["merge_fields"].get(LOG_FIELD, "")).starts.get(self.drip.code)
            for m in members
        }
        return {
            "leads": leads + self.hand_tagged,
            "end": end,
            "deliveries": deliveries,
            "campaigns": made,
            "final": final,
            "drip": self.drip,
            "starts": starts,
            "ui_tagged": ui_tagged | {lead.email for lead in self.hand_tagged},
            "tagged_on": self.tagged_on,
        }

    # -- the moving parts ----------------------------------------------------------------------
    def _clock(self, moment: dt.datetime) -> None:
        if moment > self.store.now():
            self.store.advance(moment)

    def _record(self, request: dict, status: int, answer: object) -> None:
        if self._dry and request["method"] != "GET":
            self.dry_run_writes += 1
        if self._kill_pid is not None and request["method"] != "GET":
            self._kill_after -= 1
            if self._kill_after <= 0:
                os.kill(self._kill_pid, signal.SIGKILL)
                self._kill_pid = None

    def _retry(self, action) -> None:
        for _ in range(8):
            try:
                action()
                return
            except MailchimpError:
                continue
        raise AssertionError("a set-up call failed eight times in a row")

    def _push(self, mc: Mailchimp, dry_run: bool = False):
        url, retry, state_path, campaigns, rendered, refused = self._args
        state = State(state_path, url, read_only=dry_run)
        reader = Mailchimp(Connection(KEY, url), retry, read_only=True) if dry_run else mc
        self._dry = dry_run
        try:
            result = push(
                reader,
                state,
                self.site,
                campaigns,
                rendered.emails,
                rendered.content,
                refused,
                self.store.now(),
            )
            self.dry_runs += dry_run
            self.pushes += not dry_run
            return result
        except MailchimpError:
            return None  # like a cron run that died: the next run converges
        finally:
            self._dry = False
            state.close()

    def _rename_back(self, store, tag_id: int) -> None:
        """The tag gets its name back; when a lead import made a new one of that name meanwhile, the person moves the
        renamed tag's members into it and deletes the renamed one (Mailchimp keeps tag names unique)."""
        tags = store.list_segments(LIST, {"count": 1000, "type": "static"})["segments"]
        made = next((s for s in tags if s["name"] == LEAD_TAG), None)
        if made is None:
            store.update_segment(LIST, str(tag_id), {"name": LEAD_TAG})
            return
        for member in store.segment_members(LIST, str(tag_id), {"count": 1000})["members"]:
            store.set_member_tags(
                LIST, subscriber_hash(member["email_address"]), {"tags": [{"name": LEAD_TAG, "status": "active"}]}
            )
        store.delete_segment(LIST, str(tag_id))

    def _two_checkouts(self, mc: Mailchimp, state_path: Path) -> None:
        """This checkout and an old one (its own state file) push at the same minute: both read before either
        writes (the worst interleaving), then each applies what it decided."""
        from mailpipe.push import read_and_decide
        from mailpipe.push.apply import apply

        url, _, _, campaigns, rendered, refused = self._args
        states = [State(state_path, url), State(state_path.with_name("other-checkout.sqlite3"), url)]
        try:
            decided = [
                read_and_decide(
                    mc, state, self.site, campaigns, rendered.emails, rendered.content, refused, self.store.now()
                )
                for state in states
            ]
            for state, (world, decision) in zip(states, decided, strict=True):
                said = apply(decision, world, mc, state)
                self.twins_deleted += sum(o.action == "deleted" and "made twice" in o.detail for o in said)
        except MailchimpError:
            pass  # like a run that died: the next one converges
        finally:
            for state in states:
                state.close()

    def _killed_push(self, after_writes: int) -> None:
        """A push in another process, killed with SIGKILL right after its Nth write reached the server."""
        url, retry, state_path, campaigns, rendered, refused = self._args
        now = self.store.now()

        def child() -> None:
            state = State(state_path, url)
            push(
                Mailchimp(Connection(KEY, url), retry),
                state,
                self.site,
                campaigns,
                rendered.emails,
                rendered.content,
                refused,
                now,
            )
            os._exit(0)

        process = multiprocessing.get_context("fork").Process(target=child)
        self._kill_after = after_writes
        process.start()
        self._kill_pid = process.pid
        process.join(120)
        self._kill_pid = None
        self.kills += process.exitcode == -signal.SIGKILL

    def _marketer(self, rng: random.Random, mc: Mailchimp, state_path: Path, backup: Path) -> None:
        """One thing a person does in Mailchimp's UI (or to the server), chosen at random."""
        store, now = self.store, self.store.now()
        if not self._cycle:  # every action comes up, in a seeded order
            self._cycle = rng.sample(MARKETER_ACTIONS, len(MARKETER_ACTIONS))
        action = self._cycle.pop()
        if getattr(self, "_pending_rename", None):  # the renamed tag is given its name back first
            self._rename_back(store, self._pending_rename)
            self._pending_rename = None
        ours = [c for c in store.list_campaigns({"count": 1000})["campaigns"] if written_key(store, c)]
        scheduled = [c for c in ours if c["status"] == "schedule"]
        detail = ""
        if action == "delete-tag":
            tag = next(
                (s for s in store.list_segments(LIST, {"count": 1000})["segments"] if s["name"] == LEAD_TAG), None
            )
            if tag:
                members = [
                    m["email_address"] for m in store.segment_members(LIST, tag["id"], {"count": 1000})["members"]
                ]
                store.delete_segment(LIST, tag["id"])
                self._pending_retag = members  # the marketer notices and tags them again a little later
                detail = f"{len(members)} leads lost their tag"
        elif action == "untag-one":
            tagged = [
                m
                for m in store.list_members(LIST, {"count": 1000})["members"]
                if LEAD_TAG in {t["name"] for t in m["tags"]}
            ]
            if tagged:
                member = rng.choice(tagged)
                store.set_member_tags(
                    LIST, subscriber_hash(member["email_address"]), {"tags": [{"name": LEAD_TAG, "status": "inactive"}]}
                )
                detail = member["email_address"]
                self.exits.setdefault(member["email_address"], now)  # out of the drip while untagged
        elif action == "becomes-patient":
            tagged = [
                m
                for m in store.list_members(LIST, {"count": 1000})["members"]
                if LEAD_TAG in {t["name"] for t in m["tags"]}
            ]
            if tagged:
                member = rng.choice(tagged)
                store.set_member_tags(
                    LIST,
                    subscriber_hash(member["email_address"]),
                    {"tags": [{"name": PATIENT_TAG, "status": "active"}]},
                )
                self.exits.setdefault(member["email_address"], now)
                self.made_patients[member["email_address"]] = now
                detail = member["email_address"]
        elif action in ("rename", "move", "pause", "unschedule", "cancel", "delete") and scheduled:
            campaign = rng.choice(scheduled)
            detail = campaign["settings"]["title"]
            key = written_key(store, campaign)
            if isinstance(key, MonthlyKey):
                self.touched_months.add(key.month)
            if action == "rename":
                store.update_campaign(campaign["id"], {"settings": {"title": f"Renamed {rng.random():.3f}"}})
            elif action == "move":
                store.update_campaign(campaign["id"], {"settings": {"folder_id": ""}})
            elif action == "pause":
                store.pause(campaign["id"])
            elif action == "unschedule":
                store.unschedule(campaign["id"])
            elif action == "cancel":
                store.cancel_send(campaign["id"])
            else:
                store.delete_campaign(campaign["id"])
        elif action == "resume-or-delete":
            stuck = [c for c in ours if c["status"] in ("paused", "save", "canceled")]
            if stuck:
                campaign = rng.choice(stuck)
                detail = campaign["settings"]["title"]
                if campaign["status"] == "paused" and rng.random() < 0.5:
                    store.resume(campaign["id"])
                else:
                    store.delete_campaign(campaign["id"])
        elif action == "rename-tag":
            tag = next(s for s in store.list_segments(LIST, {"count": 1000})["segments"] if s["name"] == LEAD_TAG)
            store.update_segment(LIST, str(tag["id"]), {"name": f"{LEAD_TAG} (old)"})
            self._pending_rename = tag["id"]  # noticed (push says so) and renamed back a little later
            detail = "renamed"
        elif action == "move-start":
            state = State(state_path, self._args[0], read_only=True) if state_path.exists() else None
            known = state.lead_logs(LIST) if state else {}
            if state:
                state.close()
            members = [
                m
                for m in store.list_members(LIST, {"count": 1000})["members"]
                if m["email_address"].lower() in known and f"|{self.drip.code}@" in m["merge_fields"].get(LOG_FIELD, "")
            ]
            if members:  # the local copy knows their start (a lost state file and an edited MPLOG is not survived)
                member = rng.choice(members)
                log = LeadLog.parse(member["merge_fields"][LOG_FIELD])
                moved = log.starts[self.drip.code] + dt.timedelta(days=rng.choice([-4, -2, 3]))
                store.patch_member(
                    LIST,
                    subscriber_hash(member["email_address"]),
                    {"merge_fields": {LOG_FIELD: log.with_start(self.drip.code, moved).render()}},
                )
                self.moved_starts[member["email_address"]] = moved
                detail = f"{member['email_address']} -> {moved}"
        elif action == "tag-and-untag":
            tagged = [
                m["email_address"]
                for m in store.list_members(LIST, {"count": 1000})["members"]
                if LEAD_TAG in {t["name"] for t in m["tags"]}
            ]
            newcomer = Lead(900 + len(self.hand_tagged), f"walkin{len(self.hand_tagged)}@example.com", "W", "", now)
            store.upsert_member(
                LIST,
                subscriber_hash(newcomer.email),
                {"email_address": newcomer.email, "status_if_new": "subscribed"},
            )
            store._db.execute(  # an old contact: their record last changed long before the look-back
                "UPDATE members SET last_changed=? WHERE list_id=? AND hash=?",
                ("2023-01-01T00:00:00+00:00", LIST, subscriber_hash(newcomer.email)),
            )
            store.set_member_tags(
                LIST, subscriber_hash(newcomer.email), {"tags": [{"name": LEAD_TAG, "status": "active"}]}
            )
            self.hand_tagged.append(newcomer)
            self.tagged_on[newcomer.email] = now.astimezone(ZONE).date()
            if tagged:
                untagged = rng.choice(tagged)
                store.set_member_tags(
                    LIST, subscriber_hash(untagged), {"tags": [{"name": LEAD_TAG, "status": "inactive"}]}
                )
                self.exits.setdefault(untagged, now)
            detail = newcomer.email
        elif action == "two-checkouts":
            self._twice_next = True  # the next push (a morning's, with work to do) runs from two checkouts at once
            detail = "next push from two checkouts"
        elif action == "edit-article":
            article = sorted((self.root / "content/articles").glob("*.md"))[rng.randrange(7)]
            article.write_text(article.read_text() + f"\n\nUpdated on {now:%Y-%m-%d}.\n")
            rendered = Project(self.root).rendered()
            url, retry, state_path_, campaigns, _, _ = self._args
            refused = refusals(rendered.emails, findings_of(rendered.emails, self.site), {}, real_account=False)
            self._args = (url, retry, state_path_, campaigns, rendered, refused)
            detail = article.name
        elif action == "rename-folder":
            for folder in store.folders({"count": 100})["folders"]:
                store.rename_folder(folder["id"], {"name": f"{folder['name']} (old {rng.random():.3f})"})
        elif action == "lose-state":
            for leftover in state_path.parent.glob(state_path.name + "*"):
                leftover.unlink()
        elif action == "restore-old-state" and backup.exists():
            shutil.copy(backup, state_path)
        self.actions.append((now, action, detail))
        if getattr(self, "_pending_retag", None) and action != "delete-tag":
            for email in self._pending_retag:
                if email not in self.exits:
                    store.set_member_tags(
                        LIST, subscriber_hash(email), {"tags": [{"name": LEAD_TAG, "status": "active"}]}
                    )
            self._pending_retag = None


def written_key(store, campaign: dict) -> DripKey | MonthlyKey | None:
    """The key of a campaign by the conditions push wrote (the sandbox's own record of them, whichever form it answers
    in): how the test knows a campaign whatever push recognises."""
    row = store._db.execute("SELECT recipients FROM campaigns WHERE id=?", (campaign["id"],)).fetchone()
    options = json.loads(row["recipients"]).get("segment_opts") or {}
    return key_of(
        (c.get("condition_type", ""), c.get("field", ""), c.get("op", ""), str(c.get("value", "")))
        for c in options.get("conditions", [])
    )


def check_guarantees(sim: Simulation, facts: dict) -> dict:
    """No email arrived in the quiet hours; every lead got every due step at most once, in order, never early, within
    max_late_days, at most one per local day; a step never delivered was skipped or is held or the lead left; exits
    stopped the drip; dry runs wrote nothing."""
    drip: Drip = facts["drip"]
    order = [s.content for s in drip.steps]
    late = dt.timedelta(days=drip.max_late_days)
    received: dict[str, list[tuple[dt.datetime, DripKey | MonthlyKey]]] = {}
    campaigns = {c["id"]: c["written_key"] for c in facts["campaigns"]}
    by_title = {c["settings"]["title"]: c["id"] for c in facts["campaigns"]}
    for delivery in facts["deliveries"]:
        key = campaigns.get(delivery["campaign_id"]) or campaigns.get(by_title.get(delivery["title"], ""))
        assert key is not None, f"a delivery of a campaign mailpipe did not make: {delivery}"
        received.setdefault(delivery["email"], []).append((dt.datetime.fromisoformat(delivery["delivered_at"]), key))
    quiet = [
        d
        for d in facts["deliveries"]
        if sim.site.quiet_hours.hold(f"{dt.datetime.fromisoformat(d['delivered_at']).astimezone(ZONE):%H:%M}")
    ]
    assert not quiet, f"emails delivered in the quiet hours: {quiet}"
    progress = {p.email: p.steps for p in facts["final"].decision.progress} if facts["final"] else {}
    counts = {"delivered": 0, "skipped": 0, "held": 0}
    for newcomer in sim.hand_tagged:  # tagged by hand (while another lead was untagged): push must know them
        if newcomer.email not in sim.exits and newcomer.joined < facts["end"] - dt.timedelta(days=2):
            assert newcomer.email in progress or newcomer.email in received, f"{newcomer.email} was never found"
    for lead in facts["leads"]:
        everything = sorted(received.get(lead.email, []), key=lambda r: r[0])
        monthly = [(w, k) for w, k in everything if isinstance(k, MonthlyKey)]
        assert not monthly or lead.email in sim.made_patients, f"{lead.email} got a monthly email as a lead"
        assert all(w >= sim.made_patients[lead.email] for w, _ in monthly), (
            f"{lead.email} got a monthly email before becoming a patient"
        )
        got = [(w, k) for w, k in everything if isinstance(k, DripKey)]
        steps = [k.step for _, k in got]
        assert len(steps) == len(set(steps)), f"{lead.email} got a step twice: {got}"
        assert steps == sorted(steps), f"{lead.email} got steps out of order: {got}"
        days = [when.astimezone(ZONE).date() for when, _ in got]
        assert len(days) == len(set(days)), f"{lead.email} got two steps on one local day: {got}"
        joined = lead.joined.astimezone(ZONE).date()
        entered = facts["starts"].get(lead.email)
        if entered is None:
            assert not got, f"{lead.email} got emails but has no recorded start"
            continue
        if lead.email in facts["ui_tagged"]:  # tagged by hand: the drip starts when the tag was added (or re-added)
            assert joined <= entered, (lead.email, joined, entered)
        else:
            assert entered == joined, (
                f"{lead.email} entered the drip on {entered}, not on the day they joined ({joined})"
            )
        for when, key in got:
            due = local_to_utc(entered + dt.timedelta(days=drip.steps[key.step - 1].delay_days), drip.send_time, TZ)
            assert when >= due, f"{lead.email} got step {key.step} early: {when} < {due}"
            assert when - due <= late, f"{lead.email} got step {key.step} more than {late} late: {when}"
            if lead.email in sim.exits:
                assert when.astimezone(ZONE).date() <= sim.exits[lead.email].astimezone(ZONE).date(), (
                    f"{lead.email} got step {key.step} after leaving the drip"
                )
        counts["delivered"] += len(got)
        final = progress.get(lead.email, {})
        waiting = next((n for n in sorted(final) if final[n] in ("held", "pending", "assigned")), None)
        for number in range(1, len(order) + 1):
            due = local_to_utc(entered + dt.timedelta(days=drip.steps[number - 1].delay_days), drip.send_time, TZ)
            overdue = due + late < facts["end"] - dt.timedelta(days=1)
            if overdue and number not in steps and final.get(number) != "skipped" and lead.email in progress:
                assert lead.email in sim.exits or (waiting is not None and waiting <= number), (
                    f"{lead.email} never got step {number} (due {due}), and push neither skipped it nor says what "
                    f"holds it: {final}"
                )
            status = final.get(number)
            if number in steps:
                assert status in ("sent", None), (
                    f"{lead.email} step {number} was delivered yet is {status} in push's record"
                )
            elif status == "skipped":
                counts["skipped"] += 1
            elif status == "sent":
                raise AssertionError(f"{lead.email} step {number} is recorded as sent but was never delivered")
            elif status == "held":
                counts["held"] += 1
    for patient in [p.email for p in PATIENTS] + list(sim.made_patients):
        months = [k.month for _, k in received.get(patient, []) if isinstance(k, MonthlyKey)]
        assert len(months) == len(set(months)), f"{patient} got a month twice: {months}"
    assert sim.dry_run_writes == 0, f"dry runs made {sim.dry_run_writes} requests other than GET"
    return counts
