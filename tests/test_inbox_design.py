"""The emails as recipients' inboxes show them, in a real Chromium at phone (375 px) and desktop (600 px)
widths: light, dark, images blocked (Outlook's default) and head styles stripped (Gmail's apps for
non-Google accounts); and SpamAssassin's verdict on each as a recipient's server receives it.

Screenshots of each view go to tests/artifacts/ (inbox-<view>-<width>.png).
"""

from __future__ import annotations

import base64
import html
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import formatdate

import lxml.html
import official_mjml
import pytest

from conftest import REPO, edit
from mailpipe.checks.report import check_emails
from mailpipe.preview.merge import fill
from mailpipe.project import Project

ARTIFACTS = REPO / "tests" / "artifacts"
WIDTHS = [375, 600]
# A 1x1 PNG: with images on, every image request gets it (there is no internet here).
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
SPAMASSASSIN = shutil.which("spamassassin")


@pytest.fixture(scope="module")
def rendered():
    return Project(REPO).rendered()


def rgb(colour: str) -> str:
    return f"rgb({int(colour[1:3], 16)}, {int(colour[3:5], 16)}, {int(colour[5:7], 16)})"


def as_received(email, site) -> str:
    """The HTML as a recipient gets it: merge tags filled as Mailchimp fills them for the sample contact."""
    return fill(email.html, site, as_html=True, preview_text=email.preheader)


def open_email(browser, html: str, width: int, *, dark: bool = False, images: bool = True, strip_styles: bool = False):
    context = browser.new_context(viewport={"width": width, "height": 900}, color_scheme="dark" if dark else "light")
    page = context.new_page()

    def route(request_route):
        if images and request_route.request.resource_type == "image":
            return request_route.fulfill(status=200, content_type="image/png", body=PIXEL)
        return request_route.abort() if request_route.request.url.startswith("http") else request_route.continue_()

    page.route("**/*", route)
    page.set_content(html, wait_until="load")
    if strip_styles:
        page.evaluate("document.querySelectorAll('style').forEach(s => s.remove())")
    return page


def style_of(page, selector: str, *properties: str) -> tuple:
    return tuple(
        page.locator(selector).first.evaluate(f"e => getComputedStyle(e).getPropertyValue('{p}')") for p in properties
    )


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def email_named(rendered, email_id: str):
    return next(e for e in rendered.emails if e.id == email_id)


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_with_images_off_the_header_still_reads_as_the_clinic(browser, rendered, width):
    site = rendered.site
    for email in rendered.emails:
        page = open_email(browser, as_received(email, site), width, images=False)
        logo = page.locator(".mp-logo img")
        assert logo.evaluate("i => i.complete && i.naturalWidth") == 0, "the image really is blocked"
        colour, size, family, weight = style_of(
            page, ".mp-logo img", "color", "font-size", "font-family", "font-weight"
        )
        assert (colour, size, weight) == (rgb(site.brand.primary), "20px", "700") and family.startswith("Georgia"), (
            email.id
        )
        assert style_of(page, ".mp-logo a", "text-decoration-line") == ("none",)
        assert logo.get_attribute("alt") == site.clinic.name
        if email.id == "newsletter-2024-05":
            shoot(page, f"inbox-images-off-{width}.png")
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_dark_mode_uses_the_designed_dark_palette_and_light_mode_the_brand(browser, rendered, width):
    site, dark = rendered.site, rendered.site.brand.dark
    email = email_named(rendered, "newsletter-2024-05")
    for is_dark in (True, False):
        page = open_email(browser, as_received(email, site), width, dark=is_dark)
        background = dark.background if is_dark else site.brand.background
        assert style_of(page, "body", "background-color") == (rgb(background),)
        assert style_of(page, ".mp-body", "background-color") == (rgb(background),)
        assert style_of(page, ".mp-panel", "background-color") == (rgb(dark.panel if is_dark else site.brand.panel),)
        assert style_of(page, ".mp-copy p", "color") == (rgb(dark.text if is_dark else site.brand.text),)
        assert style_of(page, "h1", "color") == (rgb(dark.accent if is_dark else site.brand.primary),)
        assert style_of(page, 'a[href^="tel:"]', "color") == (rgb(dark.accent if is_dark else site.brand.primary),)
        assert style_of(page, ".mp-button a", "background-color", "color") == (
            rgb(dark.button if is_dark else site.brand.primary),
            "rgb(255, 255, 255)",
        )
        shoot(page, f"inbox-{'dark' if is_dark else 'light'}-{width}.png")
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_without_head_styles_the_brand_is_still_there(browser, rendered, width):
    """Gmail's apps for non-Google accounts and Gmail's mobile web drop every <style>: what carries the brand is
    inline."""
    site = rendered.site
    for email in rendered.emails:
        page = open_email(browser, as_received(email, site), width, strip_styles=True)
        assert page.evaluate("document.querySelectorAll('style').length") == 0
        assert style_of(page, "h1", "color", "font-size") == (rgb(site.brand.primary), "26px"), email.id
        assert style_of(page, ".mp-copy p", "color", "font-size") == (rgb(site.brand.text), "16px"), email.id
        assert style_of(page, ".mp-button a", "background-color", "color", "padding-top", "padding-left") == (
            rgb(site.brand.primary),
            "rgb(255, 255, 255)",
            "14px",
            "28px",
        ), email.id
        links = page.locator(".mp-copy a:not(.mp-button a)")
        colours = {links.nth(i).evaluate("a => getComputedStyle(a).color") for i in range(links.count())}
        assert colours <= {rgb(site.brand.primary), rgb(site.brand.text)} and rgb(site.brand.primary) in colours, (
            email.id
        )
        if email.kind == "newsletter":
            assert style_of(page, "h2", "color", "font-size") == (rgb(site.brand.primary), "20px")
            shoot(page, f"inbox-no-head-styles-{width}.png")
        page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_safety_information_reads_as_part_of_the_email_with_the_weight_of_the_benefit_copy(
    browser, rendered, width, figure
):
    email = email_named(rendered, "how-botox-helps-prevent-migraine")
    page = open_email(browser, as_received(email, rendered.site), width)
    copy = "td.mp-copy:not(.isi):not(.footer) p"  # the email's own copy (its summary, then its body)
    assert style_of(page, ".isi p", "font-size", "line-height", "color") == style_of(
        page, copy, "font-size", "line-height", "color"
    )
    left = page.evaluate(
        f"[document.querySelector('.isi p'), document.querySelector('{copy}')].map(p => p.getBoundingClientRect().left)"
    )
    assert left[0] == left[1], "the safety text lines up with the copy above it"
    borders = page.evaluate("""() => {
        const out = []; let e = document.querySelector('.isi');
        while (e && !e.classList.contains('mp-panel')) { const s = getComputedStyle(e);
            out.push(s.borderLeftWidth, s.borderRightWidth, s.borderTopWidth, s.borderBottomWidth);
            e = e.parentElement; }
        return out; }""")
    assert set(borders) == {"0px"}, "no box around the safety information"
    height = page.locator(".isi").bounding_box()["height"]
    figure(
        f"safety information at {width}px: {height:.0f}px tall, text {style_of(page, '.isi p', 'font-size')[0]} "
        "like the copy"
    )
    shoot(page, f"inbox-safety-information-{width}.png")
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_the_whole_button_is_the_link_in_browsers_and_in_outlooks_vml(browser, rendered, width):
    for email in rendered.emails:
        page = open_email(browser, as_received(email, rendered.site), width)
        buttons = page.locator(".mp-button a")
        for index in range(buttons.count()):  # a newsletter has two: the offers' and the featured article's
            button = buttons.nth(index)
            button.scroll_into_view_if_needed()
            box = button.bounding_box()
            assert box["height"] >= 44
            corners = [(box["x"] + 2, box["y"] + 2), (box["x"] + box["width"] - 2, box["y"] + box["height"] - 2)]
            hits = [
                page.evaluate(
                    f"document.elementFromPoint({x}, {y}).closest('.mp-button a') === "
                    f"document.querySelectorAll('.mp-button a')[{index}]"
                )
                for x, y in corners
            ]
            assert hits == [True, True], f"{email.id}: the button's corners are part of the link"
        page.context.close()
        vml = re.findall(r'<!--\[if mso\]><v:roundrect [^>]*href="([^"]+)"[^>]*fillcolor="([^"]+)"', email.html)
        assert vml and vml == [(href, rendered.site.brand.primary) for href in button_hrefs(email)], email.id


def button_hrefs(email) -> list[str]:
    return re.findall(r'<!--\[if !mso\]><!--><a href="([^"]+)"', email.html)


def test_the_footer_names_the_clinic_once_where_the_address_tag_prints_it(rendered):
    """Mailchimp's address tag prints the audience's company name and address; the template adds no second name line."""
    for email in rendered.emails:
        footer = email.html[email.html.index('class="footer') :]
        address = next(p for p in re.findall(r"<p[^>]*>(.*?)</p>", footer, re.DOTALL) if "LIST_ADDRESS_HTML" in p)
        assert address.strip() == "*|HTML:LIST_ADDRESS_HTML|*", email.id
        received = as_received(email, rendered.site)
        line = next(
            p
            for p in re.findall(r"<p[^>]*>(.*?)</p>", received[received.index('class="footer') :], re.DOTALL)
            if "Agoura Hills" in p
        )
        assert line.count(rendered.site.clinic.name) == 1, email.id


def test_the_inbox_snippet_is_the_preheader_once_then_nothing_of_the_body(rendered):
    for email in rendered.emails:
        received = as_received(email, rendered.site)
        assert received.count(html.escape(email.preheader)) == 1, email.id
        text = lxml.html.document_fromstring(received).find("body").text_content()
        after = text[text.index(email.preheader) + len(email.preheader) :]
        padding = len(after) - len(after.lstrip(" \n\t\u034f\u200c\xa0"))
        assert padding >= 200, f"{email.id}: only {padding} invisible characters keep the body out of the snippet"


def test_the_dark_palette_is_checked_for_contrast(project):
    edit(project / "mailpipe.yaml", 'text: "#e9e4ee"', 'text: "#4a4452"')
    rendered = Project(project).rendered()
    findings = [
        f for r in check_emails(rendered.emails, rendered.site, False) for f in r.findings if f.rule == "A11Y-CONTRAST"
    ]
    assert findings and all(f.message.startswith("in dark mode, ") and "is #4a4452 on #" in f.message for f in findings)
    assert any("#4a4452 on #241f29" in f.message for f in findings)  # the copy on the dark panel
    assert {f.severity for f in findings} == {"error"}
    shipped = Project(REPO).rendered()
    assert not [
        f for r in check_emails(shipped.emails, shipped.site, False) for f in r.findings if f.rule == "A11Y-CONTRAST"
    ]


@pytest.mark.parametrize("written", ["+1 818 555 0142", "1-818-555-0142", "818.555.0142"])
def test_the_phone_link_is_e164_however_the_number_is_written(project, written):
    edit(project / "mailpipe.yaml", 'phone: "(818) 555-0142"', f'phone: "{written}"')
    email = Project(project).rendered().emails[0]
    assert 'href="tel:+18185550142"' in email.html and f">{written}</a>" in email.html


def test_a_phone_number_that_cannot_become_a_tel_link_is_refused(project, run_cli):
    edit(project / "mailpipe.yaml", 'phone: "(818) 555-0142"', 'phone: "555-0142"')
    result = run_cli(project, "build")
    assert (
        result.exit_code == 1
        and "phone" in result.stderr
        and "expected a US number like (818) 555-0142" in result.stderr
    )
    assert "Traceback" not in result.stderr


@pytest.mark.browser
@pytest.mark.node
@pytest.mark.skipif(not official_mjml.available(), reason="npm mjml is not installed (make node-mjml)")
@pytest.mark.parametrize("width", WIDTHS)
def test_mrml_draws_every_email_exactly_as_official_mjml(browser, rendered, width):
    official = official_mjml.compile_all([e.mjml for e in rendered.emails], validation_level="strict")["results"]
    different = []
    for email, result in zip(rendered.emails, official, strict=True):
        assert result["errors"] == [], email.id
        shots = []
        for drawn in (email.html, result["html"]):
            page = open_email(browser, drawn, width, images=False)
            shots.append(page.screenshot(full_page=True))
            page.context.close()
        if shots[0] != shots[1]:
            different.append(email.id)
    assert different == []


def spam_score(email, site) -> tuple[float, str]:
    message = EmailMessage()
    message["From"] = f"{site.sender.from_name} <{site.sender.reply_to}>"
    message["Reply-To"] = site.sender.reply_to
    message["To"] = f"{site.sample_contact['FNAME']} {site.sample_contact['LNAME']} <{site.sample_contact['EMAIL']}>"
    message["Subject"] = email.subject
    message["Date"] = formatdate(1_714_300_000)
    message["Message-ID"] = f"<{email.id}.1714300000@aiviaesthetics.com>"
    message.set_content(fill(email.text, site, as_html=False, preview_text=email.preheader))
    message.add_alternative(as_received(email, site), subtype="html")
    report = subprocess.run(
        [SPAMASSASSIN, "--test-mode", "--local", "--cf=dns_available no"],
        input=message.as_bytes(),
        capture_output=True,
        check=False,
        timeout=120,
    ).stdout.decode("utf-8", "replace")
    score = re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, re.MULTILINE)
    assert score, report[-2000:]
    hits = re.findall(r"^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)\s", report.split("Content analysis details:")[-1], re.MULTILINE)
    return float(score.group(1)), ", ".join(f"{name} {points}" for points, name in hits if float(points) != 0)


@pytest.mark.spamassassin
@pytest.mark.skipif(
    SPAMASSASSIN is None, reason="spamassassin is not installed (make test installs Debian's spamassassin)"
)
def test_spamassassin_scores_every_email_below_one(rendered, figure):
    with ThreadPoolExecutor(max_workers=4) as pool:
        scores = dict(
            zip(
                [e.id for e in rendered.emails],
                pool.map(lambda e: spam_score(e, rendered.site), rendered.emails),
                strict=True,
            )
        )
    figure("SpamAssassin: " + ", ".join(f"{email_id} {score:.1f}" for email_id, (score, _) in scores.items()))
    assert {email_id: hits for email_id, (score, hits) in scores.items() if score >= 1.0} == {}
