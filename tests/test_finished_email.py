"""The finished email in a real Chromium at 320, 375 and 600 px, light, dark and with images blocked (issue 26): no
button wraps, the logo's alt text stays on one line and its plate stays light, the newsletter's featured article has its
own button after a break from the offers, the offer cards stand clear of the screen's edge with a price that stands
out, and the Important Safety Information is scannable (its height share is a measured figure).

Screenshots of the June newsletter in each mode and width go to tests/artifacts/finished-<mode>-<width>.png.
"""

from __future__ import annotations

import pytest
from test_inbox_design import ARTIFACTS, as_received, email_named, open_email, rgb, style_of

from conftest import REPO
from mailpipe.project import Project

pytestmark = pytest.mark.browser
WIDTHS = [320, 375, 600]
MODES = ["light", "dark", "images-off"]
BUTTON_LINE = 20  # px: the button's line height (16 px bold type); one line of label makes a 48 px button
LOGO_LINE = 26  # px: one line of the logo's alt text (20 px Georgia, line height 1.3)


@pytest.fixture(scope="module")
def rendered():
    return Project(REPO).rendered()


def open_in(browser, email, site, width: int, mode: str):
    return open_email(browser, as_received(email, site), width, dark=mode == "dark", images=mode != "images-off")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_button_wraps_and_the_logo_alt_fits_one_line_at_every_width_and_mode(browser, rendered, width, mode):
    for email in rendered.emails:
        page = open_in(browser, email, rendered.site, width, mode)
        for label, height, right in page.evaluate(
            "[...document.querySelectorAll('.mp-button a')].map(a => { const r = a.getBoundingClientRect(); "
            "return [a.innerText, r.height, r.right]; })"
        ):
            assert height < 2 * BUTTON_LINE + 28, f"{email.id} at {width}px: {label!r} wraps ({height}px tall)"
            assert height >= 44 and right <= width, (email.id, label)
        logo = page.locator(".mp-logo img").bounding_box()
        assert logo and logo["x"] >= 0 and logo["x"] + logo["width"] <= width
        if mode == "images-off":
            assert page.locator(".mp-logo img").evaluate("i => i.complete && i.naturalWidth") == 0
            assert logo["height"] < 2 * LOGO_LINE, f"{email.id} at {width}px: the logo's alt text wraps"
        if email.id == "newsletter-2024-06":
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"finished-{mode}-{width}.png"), full_page=True)
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_logo_sits_on_a_light_plate_in_dark_mode_too(browser, rendered, width):
    site = rendered.site
    email = email_named(rendered, "newsletter-2024-05")
    for dark in (False, True):
        page = open_email(browser, as_received(email, site), width, dark=dark)
        plate, alt = style_of(page, ".mp-logo a", "background-color")[0], style_of(page, ".mp-logo img", "color")[0]
        assert (plate, alt) == (rgb(site.brand.panel), rgb(site.brand.primary)), dark
        assert style_of(page, "body", "background-color") == (
            rgb(site.brand.dark.background if dark else site.brand.background),
        )
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_newsletters_featured_article_has_its_own_button_after_a_break_from_the_offers(browser, rendered, width):
    for email in (e for e in rendered.emails if e.kind == "newsletter"):
        page = open_email(browser, as_received(email, rendered.site), width)
        labels = page.evaluate("[...document.querySelectorAll('.mp-button a')].map(a => a.innerText)")
        assert labels == [email.source.item.front.cta.label, email.source.featured.front.cta.label], email.id
        tops = page.evaluate(
            """() => {
            const y = e => e.getBoundingClientRect().top;
            const label = [...document.querySelectorAll('p')].find(p => p.innerText.includes('FROM OUR MIGRAINE SERIES')
                || p.textContent.includes('From our migraine series'));
            const buttons = [...document.querySelectorAll('.mp-button a')];
            const bands = [...document.querySelectorAll('.mp-bg')].filter(b => y(b) > y(buttons[0]) && y(b) < y(label));
            return {offers: y(buttons[0]), label: y(label), featured: y(buttons[1]), bands: bands.length}; }"""
        )
        assert tops["offers"] < tops["label"] < tops["featured"], (email.id, tops)
        assert tops["bands"] == 1, f"{email.id}: a band of the page colour between the offers and the article"
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_offer_cards_stand_clear_of_the_edge_with_a_price_that_stands_out_in_light_and_dark(browser, rendered, width):
    site, dark = rendered.site, rendered.site.brand.dark
    email = email_named(rendered, "specials-2024-06")
    for is_dark in (False, True):
        page = open_email(browser, as_received(email, site), width, dark=is_dark)
        card = page.locator(".mp-offer").first.bounding_box()
        assert card and card["x"] >= 16 and card["x"] + card["width"] <= width - 16, "the card is inset from the edge"
        rule = page.evaluate(
            "getComputedStyle(document.querySelector('.mp-offer > table > tbody > tr > td')).borderLeftColor"
        )
        assert rule == rgb(dark.accent if is_dark else site.brand.primary)
        size, colour = style_of(page, ".mp-price", "font-size", "color")
        body = style_of(page, ".mp-offer p:last-child", "font-size")[0]
        assert float(size[:-2]) >= 1.5 * float(body[:-2]), (size, body)
        assert colour == rgb(dark.accent if is_dark else site.brand.primary)
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_headline_comes_before_the_greeting_and_footer_links_are_thumb_sized(browser, rendered, width):
    items = 0
    for email in rendered.emails:
        page = open_email(browser, as_received(email, rendered.site), width)
        order = page.evaluate(
            "(() => { const h = document.querySelector('h1'); const hi = [...document.querySelectorAll('div')]"
            ".find(d => d.children.length === 0 && d.textContent.trim().startsWith('Hi ')); "
            "return [h.getBoundingClientRect().top, hi.getBoundingClientRect().top]; })()"
        )
        assert order[0] < order[1], email.id
        for link in ("Unsubscribe", "Update your preferences"):
            found = page.locator(".footer a", has_text=link)
            box = found.bounding_box()
            assert box and box["height"] >= 44, (email.id, link, box)
            assert found.evaluate("a => getComputedStyle(a).fontSize") == "16px", (email.id, link)
        spacing = page.evaluate(
            "[...document.querySelectorAll('li')].map(li => parseFloat(getComputedStyle(li).marginBottom))"
        )
        assert not spacing or min(spacing) >= 4, email.id
        items += len(spacing)
        page.context.close()
    assert items > 50  # list items, each with space below it


@pytest.mark.parametrize("width", WIDTHS)
def test_the_safety_information_is_scannable_and_its_height_share_is_measured(browser, rendered, width, figure):
    for email in (e for e in rendered.emails if e.mentions_botox):
        page = open_email(browser, as_received(email, rendered.site), width)
        structure = page.evaluate(
            """() => {
            const isi = document.querySelector('.isi');
            const first = isi.querySelector('h2 + p');
            const bold = [...isi.querySelectorAll('strong')];
            const leadIns = bold.every(b => { const block = b.closest('p, li');
                return block.textContent.trimStart().startsWith(b.textContent.trim()); });
            return {first: first.querySelector('strong').textContent, leadIns, lists: isi.querySelectorAll('ul').length,
                    items: isi.querySelectorAll('li').length, height: isi.getBoundingClientRect().height,
                    total: document.documentElement.scrollHeight}; }"""
        )
        assert structure["first"] == "BOTOX may cause serious side effects that can be life threatening."
        assert structure["leadIns"], f"{email.id}: bold only on lead-ins"
        assert structure["lists"] == 3 and structure["items"] == 9
        share = structure["height"] / structure["total"]
        figure(f"ISI at {width}px, {email.id}: {structure['height']:.0f} of {structure['total']} px ({share:.0%})")
        page.context.close()


def test_every_email_that_names_botox_points_to_the_safety_information_from_its_own_copy(rendered):
    from mailpipe.checks import Context

    named = [e for e in rendered.emails if e.mentions_botox]
    assert {e.id for e in named} == {
        "how-botox-helps-prevent-migraine",
        "what-treatment-looks-like",
        "personalized-migraine-care",
        "newsletter-2024-06",
    }
    for email in named:
        assert "Important Safety Information" in Context(email, rendered.site).copy_text, email.id


def test_ios_is_told_not_to_reformat_the_email_or_link_dates_addresses_and_phones(rendered):
    for email in rendered.emails:
        head = email.html[: email.html.index("</head>")]
        assert '<meta name="x-apple-disable-message-reformatting"' in head, email.id
        assert 'name="format-detection" content="telephone=no, date=no, address=no, email=no, url=no"' in head


def test_an_offer_may_carry_a_picture_with_alt_text_at_the_cards_width(browser, project):
    from conftest import edit

    edit(
        project / "content/specials/2024-06.md",
        "    unit: per session\n    description: Microneedling",
        "    unit: per session\n    image:\n      url: https://www.aiviaesthetics.com/images/microneedling@2x.jpg\n"
        "      alt: A provider at work on a patient's cheek\n    description: Microneedling",
    )
    rendered = Project(project).rendered()
    email = email_named(rendered, "specials-2024-06")
    page = open_email(browser, as_received(email, rendered.site), 375)
    image = page.locator('.mp-offer img[alt="A provider at work on a patient\'s cheek"]')
    box, card = image.bounding_box(), page.locator(".mp-offer").first.bounding_box()
    assert box and card and box["width"] >= card["width"] - 8 and box["x"] >= card["x"]
    page.context.close()
