"""The emails lay out at phone (375 px) and desktop (600 px) widths in a real Chromium."""

from __future__ import annotations

import pytest

from conftest import REPO
from mailpipe.project import Project

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "tests" / "artifacts"


@pytest.mark.parametrize("width", [375, 600])
def test_every_email_fits_the_screen_without_sideways_scrolling(browser, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.route("**/*", lambda route: route.abort() if route.request.url.startswith("http") else route.continue_())
    ARTIFACTS.mkdir(exist_ok=True)
    for email in Project(REPO).rendered().emails:
        page.set_content(email.html, wait_until="load")
        assert page.evaluate("document.documentElement.scrollWidth") <= width, email.id
        button = page.locator("a", has_text=email.source.item.front.cta.label).first
        box = button.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, email.id
        assert box["height"] >= 44, f"{email.id}: the call to action must be a comfortable touch target"
        columns = page.evaluate(
            "[...document.querySelectorAll('.mj-column-per-100')].map(c => c.getBoundingClientRect().width)"
        )
        assert columns and max(columns) <= min(width, 600), email.id
    page.screenshot(path=str(ARTIFACTS / f"newsletter-{width}.png"), full_page=True)
    page.close()
