"""Links: https to real hosts, no shorteners, honest link text; with --online, every link and image answers."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from mailpipe.checks import ERROR, WARNING, Context, Issue, quote, rule

SHORTENERS = {
    "bit.ly",
    "tinyurl.com",
    "t.co",
    "goo.gl",
    "ow.ly",
    "is.gd",
    "buff.ly",
    "cutt.ly",
    "rebrand.ly",
    "tiny.cc",
    "shorturl.at",
}
PLACEHOLDER_HOSTS = {"localhost", "example.com", "example.org", "example.net"}
VAGUE = {"click here", "here", "read more", "learn more", "link", "more"}
ONLINE_TIMEOUT = 8


def _web_links(ctx: Context) -> list[tuple[Any, str, str]]:
    return [
        (a, href, text)
        for a, href, text in ctx.links
        if "*|" not in href and not href.startswith(("mailto:", "tel:", "#"))
    ]


@rule("LINK-HTTPS", ERROR, "Links must be https to a real host: no http, localhost, IP addresses or example domains.")
def https_links(ctx: Context) -> Iterator[Issue]:
    for _, href, text in _web_links(ctx):
        parts = urlsplit(href)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https":
            yield Issue(f"the link {quote(text)} goes to {quote(href)}, not https", "use an https:// link")
        elif (
            not host
            or host in PLACEHOLDER_HOSTS
            or host.endswith((".example", ".test", ".invalid", ".local"))
            or _is_ip(host)
        ):
            yield Issue(f"the link {quote(text)} goes to a placeholder or local host {host!r}", "link to the real page")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


@rule("SPAM-SHORTENER", ERROR, "Shortened links hide their target and are a strong spam signal.")
def shorteners(ctx: Context) -> Iterator[Issue]:
    for _, href, _ in _web_links(ctx):
        host = (urlsplit(href).hostname or "").lower().removeprefix("www.")
        if host in SHORTENERS:
            yield Issue(f"the link {quote(href)} uses the shortener {host}", "link to the full address")


@rule(
    "SPAM-LINK-MISMATCH",
    ERROR,
    "Link text that looks like an address must go to that address (phishing filters check it).",
)
def link_text_mismatch(ctx: Context) -> Iterator[Issue]:
    for _, href, text in _web_links(ctx):
        shown = re.match(r"^(?:https?://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(/\S*)?$", text.strip().lower())
        target = (urlsplit(href).hostname or "").lower()
        if shown and shown.group(1).removeprefix("www.") != target.removeprefix("www."):
            yield Issue(
                f"the link text {quote(text)} shows {shown.group(1)} but goes to {target}",
                "make the text match the target",
            )


@rule("A11Y-LINK-TEXT", WARNING, "'Click here' says nothing out of context; link text should say where it goes.")
def vague_links(ctx: Context) -> Iterator[Issue]:
    for _, _href, text in ctx.links:
        if text.lower().strip(" .!") in VAGUE:
            yield Issue(
                f"the link text {quote(text)} does not say where it goes",
                "describe the destination, e.g. 'Book a consultation'",
            )


@rule(
    "LINK-ONLINE", WARNING, "With --online, every link and image is requested once: a broken one is a broken promise."
)
def links_answer(ctx: Context) -> Iterator[Issue]:
    if not ctx.online:
        return
    targets = sorted(
        {href for _, href, _ in _web_links(ctx)}
        | {img.get("src", "") for img in ctx.images if img.get("src", "").startswith("http")}
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        for url, problem in zip(targets, pool.map(_fetch_problem, targets), strict=True):
            if problem:
                yield Issue(f"{quote(url, 80)} {problem}", "fix or replace the link")


def _fetch_problem(url: str) -> str | None:
    import requests  # only `check --online` asks the web: every other run starts without it

    try:
        answer = requests.head(url, allow_redirects=True, timeout=ONLINE_TIMEOUT)
        if answer.status_code in (405, 501):
            answer = requests.get(url, allow_redirects=True, timeout=ONLINE_TIMEOUT, stream=True)
        return None if answer.status_code < 400 else f"answered {answer.status_code}"
    except requests.RequestException as err:
        return f"could not be reached ({type(err).__name__})"
