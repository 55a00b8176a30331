"""Campaign definitions (`campaigns/*.yaml`): who gets which email when, validated where they enter."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import Field

from mailpipe.errors import InputError, Problem
from mailpipe.load.config import QuietHours, SiteConfig
from mailpipe.load.yamlfile import (
    Code,
    Count,
    LocalTime,
    NonEmpty,
    Slug,
    TimeZoneName,
    YamlDocument,
    field_name,
    parse_yaml,
    read_text,
    schema,
    validate,
)

PROBE_CODE = "mpprobe"  # the drip code `mailpipe doctor --probe` tries on the account: no campaign file may take it
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)


@schema
class DripStep:
    content: Slug
    delay_days: Annotated[Count, Field(ge=1, le=365)]


@schema
class DripFile:
    name: NonEmpty
    kind: Literal["drip"]
    code: Code
    audience: NonEmpty
    send_time: LocalTime
    steps: Annotated[list[DripStep], Field(min_length=1, max_length=20)]
    max_late_days: Annotated[Count, Field(ge=0, le=60)] = 7
    exit_tags: list[NonEmpty] | None = None
    timezone: TimeZoneName | None = None


@schema
class MonthlyRule:
    weekday: Weekday
    nth: Annotated[Count, Field(ge=1, le=4)]
    time: LocalTime


@schema
class MonthlyFile:
    name: NonEmpty
    kind: Literal["monthly"]
    code: Code
    audience: NonEmpty
    schedule: MonthlyRule
    content: Literal["specials", "newsletter"]
    timezone: TimeZoneName | None = None


@dataclass(frozen=True)
class Drip:
    """An education drip: step k goes to a lead `delay_days` after they entered it, at the local send time,
    at most `max_late_days` late; a lead with one of `exit_tags` gets no further step."""

    slug: str
    code: str
    name: str
    audience: str
    send_time: str
    timezone: str
    steps: tuple[DripStep, ...]
    max_late_days: int
    exit_tags: tuple[str, ...]
    source: Path
    quiet_hours: QuietHours = QuietHours()


@dataclass(frozen=True)
class Monthly:
    """A monthly email (the month's specials, or the newsletter wrapping them) on a rule like 'first Tuesday'."""

    slug: str
    code: str
    name: str
    audience: str
    rule: MonthlyRule
    content: str
    timezone: str
    source: Path
    quiet_hours: QuietHours = QuietHours()

    def content_id(self, month: str) -> str:
        return f"{self.content}-{month}"


Campaign = Drip | Monthly


UNSCHEDULED = "mp-unscheduled"  # the utm_campaign of an email no campaign sends


def tracking_codes(campaigns: list[Campaign], email_ids: set[str]) -> dict[str, str]:
    """The name each email's links carry to the clinic's site as utm_campaign: the opaque code push names its campaign
    by (`mp-e1-s05` for step 5 of drip e1, `mp-m1-2024-06` for a monthly email), never the email's id, which names its
    topic ("how-botox-helps…") and would tell the site's analytics, and any ad pixel there, a health topic per
    visitor. An email no campaign sends (a standalone special, a proof) gets `mp-unscheduled`."""
    codes: dict[str, str] = {}
    for campaign in campaigns:
        if isinstance(campaign, Drip):
            for number, step in enumerate(campaign.steps, 1):
                codes.setdefault(step.content, f"mp-{campaign.code}-s{number:02d}")
        else:
            prefix = f"{campaign.content}-"
            for email_id in sorted(email_ids):
                if email_id.startswith(prefix):
                    codes.setdefault(email_id, f"mp-{campaign.code}-{email_id[len(prefix) :]}")
    return {email_id: codes.get(email_id, UNSCHEDULED) for email_id in email_ids}


def load_campaigns(campaigns_dir: Path, site: SiteConfig, email_ids: set[str]) -> list[Campaign]:
    """Every campaign file, checked against the config's audiences and the emails that exist."""
    problems: list[Problem] = []
    campaigns: list[Campaign] = []
    for file in sorted(p for p in campaigns_dir.glob("*.yaml") if p.is_file()):
        try:
            doc = parse_yaml(read_text(file), file)
        except InputError as err:
            problems += err.problems
            continue
        kind = doc.data.get("kind") if isinstance(doc.data, dict) else None
        if kind not in ("drip", "monthly"):
            problems.append(Problem(file, doc.line_of(("kind",)), "kind", f"expected drip or monthly, got {kind!r}"))
            continue
        audience = doc.data.get("audience")
        if isinstance(audience, str) and audience not in site.audiences:
            problems.append(
                Problem(
                    file,
                    doc.line_of(("audience",)),
                    "audience",
                    f"unknown audience {audience!r}; expected one of: {', '.join(sorted(site.audiences))} (see "
                    "mailpipe.yaml)",
                )
            )
        parsed, found = validate(DripFile if kind == "drip" else MonthlyFile, doc, "a campaign")
        problems += found
        if parsed and parsed.code == PROBE_CODE:
            problems.append(
                Problem(file, doc.line_of(("code",)), "code", f"{PROBE_CODE!r} is mailpipe's own; use another")
            )
        elif parsed:
            found = _step_problems(parsed, doc, email_ids) + _quiet_problems(parsed, doc, site.quiet_hours)
            problems += found
            if not found and parsed.audience in site.audiences:
                campaigns.append(_campaign(parsed, file, site))
    problems += _shared_codes(campaigns) + _same_sends(campaigns) + _log_space(campaigns, site)
    if problems:
        raise InputError(problems)
    return campaigns


LOG_LIMIT = 255  # characters in a Mailchimp text merge field: a lead's MPLOG (push/record.py) must fit


def log_length(drips: list[Drip]) -> int:
    """The longest MPLOG these drips give one lead: `|`, then `code@YYYYMMDD|` per drip and `code.S.DDD|` per step,
    one entry per step at most (push/record.py's encoding, where a step given again replaces its void entry;
    tests/test_campaigns.py checks the two agree, and a five-year run of three drips stays within it)."""
    return 1 + sum(len(d.code) + 10 + len(d.steps) * (len(d.code) + 7) for d in drips)


def _log_space(campaigns: list[Campaign], site: SiteConfig) -> list[Problem]:
    """The drips of one Mailchimp audience share each lead's MPLOG: more than it holds, and a lead would get nothing."""
    by_list: dict[str, list[Drip]] = {}
    for campaign in campaigns:
        if isinstance(campaign, Drip):
            by_list.setdefault(site.audiences[campaign.audience].list_id, []).append(campaign)
    problems = []
    for list_id, drips in by_list.items():
        if (length := log_length(drips)) > LOG_LIMIT:
            problems.append(
                Problem(
                    drips[-1].source,
                    1,
                    "steps",
                    f"the drips of audience {list_id} ({', '.join(d.code for d in drips)}) need up to {length} "
                    f"characters in each lead's MPLOG, more than Mailchimp's {LOG_LIMIT}: use fewer steps or "
                    "shorter codes",
                )
            )
    return problems


def _sends(campaign: Campaign) -> set[str]:
    return {step.content for step in campaign.steps} if isinstance(campaign, Drip) else {f"{campaign.content}-*"}


def _same_sends(campaigns: list[Campaign]) -> list[Problem]:
    """Two campaigns that send one email to one audience (a Finder copy with a new code) would send it twice."""
    problems = []
    for index, campaign in enumerate(campaigns):
        for earlier in campaigns[:index]:
            shared = _sends(campaign) & _sends(earlier)
            if campaign.audience == earlier.audience and shared:
                problems.append(
                    Problem(
                        campaign.source,
                        1,
                        "",
                        f"sends {', '.join(sorted(shared))} to {campaign.audience} as {earlier.source} "
                        "does: everyone would get it twice; remove one of the files",
                    )
                )
    return problems


def _shared_codes(campaigns: list[Campaign]) -> list[Problem]:
    """Two files with one code (a copied file) would send the same emails twice: name both."""
    first: dict[str, Campaign] = {}
    problems = []
    for campaign in campaigns:
        if campaign.code in first:
            problems.append(
                Problem(
                    campaign.source,
                    1,
                    "code",
                    f"the code {campaign.code!r} is also used by {first[campaign.code].source}; "
                    "each campaign file needs its own code",
                )
            )
        first.setdefault(campaign.code, campaign)
    return problems


def _step_problems(parsed: DripFile | MonthlyFile, doc: YamlDocument, email_ids: set[str]) -> list[Problem]:
    found: list[Problem] = []
    if isinstance(parsed, DripFile):
        previous = 0
        for index, step in enumerate(parsed.steps):
            loc = ("steps", index)
            if step.content not in email_ids:
                found.append(
                    Problem(
                        doc.file,
                        doc.line_of((*loc, "content")),
                        field_name((*loc, "content")),
                        f"no article has id {step.content!r}",
                    )
                )
            if step.delay_days <= previous:
                found.append(
                    Problem(
                        doc.file,
                        doc.line_of((*loc, "delay_days")),
                        field_name((*loc, "delay_days")),
                        f"each step must come later than the one before (after day {previous})",
                    )
                )
            previous = step.delay_days
        contents = [s.content for s in parsed.steps]
        if len(set(contents)) != len(contents):
            found.append(
                Problem(doc.file, doc.line_of(("steps",)), "steps", "an article may be sent only once in a drip")
            )
    return found


def _quiet_problems(parsed: DripFile | MonthlyFile, doc: YamlDocument, quiet: QuietHours) -> list[Problem]:
    """A campaign's own time inside the quiet hours of mailpipe.yaml would never go out on its day."""
    where = ("send_time",) if isinstance(parsed, DripFile) else ("schedule", "time")
    time = parsed.send_time if isinstance(parsed, DripFile) else parsed.schedule.time
    if not quiet.hold(time):
        return []
    return [
        Problem(
            doc.file,
            doc.line_of(where),
            field_name(where),
            f"{time} is in the quiet hours of mailpipe.yaml ({quiet.start} to {quiet.end}), when no email goes out: "
            "choose a time outside them",
        )
    ]


def _campaign(parsed: DripFile | MonthlyFile, file: Path, site: SiteConfig) -> Campaign:
    timezone = parsed.timezone or site.timezone
    if isinstance(parsed, DripFile):
        own = site.audiences[parsed.audience].tag
        exits = (
            parsed.exit_tags
            if parsed.exit_tags is not None
            else sorted({a.tag for a in site.audiences.values() if a.tag and a.tag != own})
        )
        return Drip(
            file.stem,
            parsed.code,
            parsed.name,
            parsed.audience,
            parsed.send_time,
            timezone,
            tuple(parsed.steps),
            parsed.max_late_days,
            tuple(exits),
            file,
            site.quiet_hours,
        )
    return Monthly(
        file.stem,
        parsed.code,
        parsed.name,
        parsed.audience,
        parsed.schedule,
        parsed.content,
        timezone,
        file,
        site.quiet_hours,
    )
