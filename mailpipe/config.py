"""Site configuration (`mailpipe.yaml`): who the clinic is, how its emails look, where they go."""
from __future__ import annotations

import zoneinfo
from pathlib import Path

from mailpipe.errors import InputError, Problem
from mailpipe.yamlfile import Colour, Email, HttpsUrl, NonEmpty, TimeZoneName, load_file, schema

CONFIG_FILE = "mailpipe.yaml"


@schema
class Clinic:
    name: NonEmpty
    postal_address: NonEmpty
    phone: NonEmpty
    website: HttpsUrl
    booking_url: HttpsUrl
    logo_url: HttpsUrl


@schema
class Brand:
    primary: Colour
    text: Colour
    background: Colour
    panel: Colour


@schema
class Sender:
    from_name: NonEmpty
    reply_to: Email


@schema
class Utm:
    source: NonEmpty
    medium: NonEmpty


@schema
class SiteConfig:
    clinic: Clinic
    brand: Brand
    timezone: TimeZoneName
    sender: Sender
    utm: Utm
    sample_contact: dict[str, str]

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


def load_config(root: Path) -> SiteConfig:
    """Load and validate `mailpipe.yaml` in the project folder `root`."""
    file = root / CONFIG_FILE
    if not file.is_file():
        raise InputError([Problem(file, 1, "", "the site config file is missing")])
    return load_file(SiteConfig, file, "the site config")
