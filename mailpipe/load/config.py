"""Site configuration (`mailpipe.yaml`): who the clinic is, how its emails look, where they go."""

from __future__ import annotations

import dataclasses
import datetime
import typing
import zoneinfo
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from mailpipe.errors import InputError, Problem
from mailpipe.load.yamlfile import (
    Colour,
    Count,
    Email,
    HttpsUrl,
    LocalTime,
    NonEmpty,
    ProjectPath,
    TimeZoneName,
    load_file,
    schema,
)

CONFIG_FILE = "mailpipe.yaml"


def e164(phone: str) -> str | None:
    """A phone number as +country code and digits (E.164), which dials from anywhere; None if it cannot be one."""
    digits = "".join(c for c in phone if c.isdigit())
    if phone.strip().startswith("+"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) == 10:
        return "+1" + digits
    return "+" + digits if len(digits) == 11 and digits.startswith("1") else None


def _phone_number(text: str) -> str:
    if e164(text) is None:
        raise ValueError(
            f"{text!r} is not a phone number: expected a US number like (818) 555-0142, or +country code and number"
        )
    return text


CREDENTIALS = {
    "MD": "a physician (Doctor of Medicine)",
    "DO": "a physician (Doctor of Osteopathic Medicine)",
    "NP": "a nurse practitioner",
    "PA": "a physician assistant",
}


@schema
class Prescriber:
    """Who sees people at a migraine consultation and may prescribe: an email that introduces "the provider you will
    see" names them, with the licence they practise under."""

    name: NonEmpty
    credential: Literal["MD", "DO", "NP", "PA"]

    @property
    def licence(self) -> str:
        return CREDENTIALS[self.credential]


@schema
class Consultation:
    """What the consultation every treatment on offer starts with costs: a fact about the clinic, stated once here
    (not in each month's terms) and printed under every month's offers."""

    fee: Annotated[Decimal, Field(ge=0, le=10_000, decimal_places=2)]  # 0 prints "free"
    conditions: NonEmpty  # who it is for, what it commits to: "for existing patients and does not commit you…"

    @property
    def statement(self) -> str:
        cost = "is free" if self.fee == 0 else f"costs ${self.fee:.2f}"
        return f"the consultation {cost} {self.conditions}"


@schema
class Clinic:
    name: NonEmpty
    postal_address: NonEmpty
    phone: Annotated[NonEmpty, AfterValidator(_phone_number)]
    website: HttpsUrl
    logo_url: HttpsUrl
    prescriber: Prescriber
    consultation: Consultation

    @property
    def phone_e164(self) -> str:
        """The number as a tel: link needs it (validated on load, so it always has one)."""
        return e164(self.phone) or self.phone


@schema
class DarkPalette:
    """The colours a dark-mode client uses (Apple Mail, iOS Mail, Outlook.com and apps that honour the layout's dark
    CSS)."""

    text: Colour = "#e9e4ee"
    background: Colour = "#17141a"
    panel: Colour = "#241f29"
    accent: Colour = "#d2b6e6"  # headings, links, prices and the offer cards' rule
    button: Colour = "#7a4f94"  # the button's background; its text stays white


@schema
class Brand:
    primary: Colour
    text: Colour
    background: Colour
    panel: Colour
    dark: DarkPalette = DarkPalette()


@schema
class Sender:
    from_name: NonEmpty
    reply_to: Email


@schema
class Utm:
    source: NonEmpty
    medium: NonEmpty
    # The clinic's own sites: only links to these (and their subdomains) get UTM parameters; empty: the website's
    # domain.
    domains: list[NonEmpty] = dataclasses.field(default_factory=list)


# Words that would make a tag say what a person may be treated for: Mailchimp signs no HIPAA agreement.
HEALTH_WORDS = (
    "migraine",
    "headache",
    "botox",
    "botulinum",
    "patient",
    "consult",
    "treat",
    "therap",
    "pain",
    "diagnos",
    "chronic",
    "aura",
    "inject",
    "neuro",
    "medic",
    "clinic",
    "symptom",
    "condition",
)


def _opaque_tag(tag: str | None) -> str | None:
    if tag is not None and any(word in tag.lower() for word in HEALTH_WORDS):
        raise ValueError(
            f"the tag {tag!r} would tell Mailchimp, on every person who has it, something about their health; "
            "use an opaque code like mp-a and keep its meaning in mailpipe.yaml"
        )
    return tag


@schema
class Audience:
    """A logical audience: a Mailchimp audience (list) id and the tag that marks its members (an opaque code)."""

    list_id: NonEmpty
    tag: Annotated[NonEmpty | None, AfterValidator(_opaque_tag)] = None


@schema
class MailchimpSettings:
    folder: NonEmpty = "mailpipe"
    state_path: ProjectPath = "var/state.sqlite3"
    sandbox_path: ProjectPath = "var/sandbox.sqlite3"


@schema
class QuietHours:
    """No email goes out from `start` until `end`, local time (across midnight when `start` is the later): a late run
    sends the next day instead. The same two times: no quiet hours."""

    start: LocalTime = "21:00"
    end: LocalTime = "07:00"

    def hold(self, hh_mm: str) -> bool:
        """Whether a local wall-clock time (HH:MM) falls in the quiet hours."""
        if self.start <= self.end:
            return self.start <= hh_mm < self.end
        return hh_mm >= self.start or hh_mm < self.end


@schema
class Demo:
    """The sample run `make run` does against a fresh sandbox, the same on any day it runs."""

    start: datetime.date
    days: Annotated[Count, Field(ge=1, le=400)]
    leads_csv: ProjectPath
    patients_csv: ProjectPath
    run_time: LocalTime = "06:00"


Role = Literal["medical", "legal"]
EmailKind = Literal["article", "special", "newsletter"]


def _every_kind_reviewed(roles: dict[str, list[str]]) -> dict[str, list[str]]:
    """Every kind of email is signed off by someone: a kind left out (or `roles: {}`) would go out unreviewed."""
    unreviewed = [kind for kind in typing.get_args(EmailKind) if not roles.get(kind)]
    if unreviewed:
        raise ValueError(
            f"expected at least one role (medical or legal) for each kind of email; none for: {', '.join(unreviewed)}"
        )
    return roles


@schema
class ReviewSettings:
    """Which sign-offs an email needs before push sends it to a real account (`mailpipe review`)."""

    # every article is health education: medical; an offer: legal (its price and terms)
    roles: Annotated[dict[EmailKind, list[Role]], AfterValidator(_every_kind_reviewed)] = dataclasses.field(
        default_factory=lambda: {"article": ["medical"], "special": ["legal"], "newsletter": ["legal"]}
    )
    names_treatment: list[Role] = dataclasses.field(
        default_factory=lambda: ["medical"]
    )  # added to any email that names a drug or treatment


@schema
class SiteConfig:
    clinic: Clinic
    brand: Brand
    timezone: TimeZoneName
    sender: Sender
    utm: Utm
    sample_contact: dict[str, str]
    audiences: dict[str, Audience]
    mailchimp: MailchimpSettings = MailchimpSettings()
    quiet_hours: QuietHours = QuietHours()
    review: ReviewSettings = dataclasses.field(default_factory=ReviewSettings)
    demo: Demo | None = None

    @property
    def own_domains(self) -> tuple[str, ...]:
        """The domains whose links get UTM parameters (another site's analytics are none of ours)."""
        return tuple(d.lower().lstrip(".") for d in self.utm.domains) or (urlsplit(self.clinic.website).hostname or "",)

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_config(root: Path) -> SiteConfig:
    """Load and validate `mailpipe.yaml` in the project folder `root`."""
    file = root / CONFIG_FILE
    if not file.is_file():
        raise InputError([Problem(file, 1, "", "the site config file is missing")])
    return load_file(SiteConfig, file, "the site config")


def unconfirmed_values(root: Path) -> list[str]:
    """The lines of mailpipe.yaml still marked CONFIRM (values nobody has checked yet): a real account refuses them."""
    lines = (root / CONFIG_FILE).read_text(encoding="utf-8").splitlines()
    return [
        f"{CONFIG_FILE}:{n}: {line.split('#')[0].strip()}"
        for n, line in enumerate(lines, 1)
        if "CONFIRM" in line and not line.lstrip().startswith("#")
    ]
