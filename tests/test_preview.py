"""The live preview in real Chromium: index, an email at both widths, plain text, live edits, errors."""

from __future__ import annotations

import socket
import threading
import urllib.request

import pytest

from conftest import REPO, edit
from mailpipe.preview import PreviewModel
from mailpipe.preview.server import RunningPreview
from mailpipe.project import Project

ARTIFACTS = REPO / "tests" / "artifacts"
ARTICLE = "content/articles/01-what-causes-migraine.md"


@pytest.fixture
def preview(project):
    with RunningPreview(PreviewModel(Project(project))) as running:
        yield running, project


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, ""


def test_the_server_listens_on_loopback_only_and_serves_nothing_but_its_pages(preview):
    running, _ = preview
    host, port = running.server.server_address
    assert host == "127.0.0.1"
    for path in (
        "/render/../../mailpipe.yaml",
        "/render/%2e%2e/%2e%2e/etc/passwd",
        "/../../etc/passwd",
        "/content/articles/01-what-causes-migraine.md",
        "/email/..%2f..%2fmailpipe.yaml",
        "/render/no-such-email.html",
        "/static/../cli.py",
    ):
        with socket.create_connection((host, port), timeout=5) as raw:  # sent as-is: no client normalises the path
            raw.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 404"), path
        assert b"clinic:" not in answer and b"root:" not in answer
    assert get(running.url)[0] == 200


def test_merge_tags_are_filled_with_the_sample_contact_or_shown_raw(preview):
    running, _ = preview
    status, sample = get(running.url + "render/what-causes-migraine.html")
    assert status == 200 and "Hi Jordan," in sample and "*|" not in sample
    _, raw = get(running.url + "render/what-causes-migraine.html?tags=raw")
    assert "*|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*" in raw


@pytest.mark.browser
def test_staff_browse_switch_views_and_see_edits_and_errors_live(preview, browser):
    running, project = preview
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(
        viewport={"width": 1280, "height": 900}, bypass_csp=True
    )  # Playwright polls with eval; CSP is tested on its own
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(running.url) else route.abort())
    page.goto(running.url)
    assert page.locator("h2", has_text="Migraine education series (new-consult)").is_visible()
    steps = page.locator("table").first.locator("tr td:first-child").all_inner_texts()
    assert steps[:3] == ["Step 1 · day 1", "Step 2 · day 4", "Step 3 · day 8"]
    assert page.locator("h2", has_text="Monthly specials (existing-patient)").is_visible()
    assert "2024-05" in page.locator("table").nth(1).inner_text()

    page.click("text=what-causes-migraine")
    page.wait_for_selector("#frame-desktop")
    assert page.locator("#inbox .from").inner_text() == "AIVI Aesthetics"
    assert page.locator("#inbox .subject").inner_text() == "What is really behind a migraine?"
    desktop = page.frame_locator("#frame-desktop")
    assert "Hi Jordan," in desktop.locator("body").inner_text()
    assert page.locator("#frame-desktop").get_attribute("width") == "640"
    page.screenshot(path=str(ARTIFACTS / "preview-desktop-and-mobile.png"), full_page=True)

    page.click("#view-mobile")
    page.wait_for_selector("#frame-mobile")
    assert page.locator("#frame-desktop").count() == 0 and page.locator("#frame-mobile").get_attribute("width") == "375"
    page.locator("#frame-mobile").screenshot(path=str(ARTIFACTS / "preview-mobile.png"))
    page.click("#theme-dark")
    page.wait_for_selector("#frame-mobile")
    # the email's own dark palette (mailpipe.yaml brand.dark), as Apple Mail shows it; not an inversion
    dark_body = page.frame_locator("#frame-mobile").locator("body")
    dark_body.locator("h1").wait_for()
    assert dark_body.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(23, 20, 26)"
    assert dark_body.locator("h1").evaluate("h => getComputedStyle(h).color") == "rgb(210, 182, 230)"
    page.click("#part-text")
    assert "Hi Jordan," in page.locator("#plain-text").inner_text()
    page.click("#tags-raw")
    assert "*|UNSUB|*" in page.locator("#plain-text").inner_text()
    page.click("#part-html")
    page.wait_for_selector("#frame-mobile")

    edit(
        project / ARTICLE, "subject: What is really behind a migraine?", "subject: Migraine, explained in five minutes"
    )
    page.wait_for_function(
        "document.querySelector('#inbox .subject')?.innerText === 'Migraine, explained in five minutes'", timeout=5000
    )
    assert "tags=raw" in page.url and "view=mobile" in page.url, "the chosen view survives the reload"

    edit(project / ARTICLE, "id: what-causes-migraine", "id: what-causes-migraine\nsubject: [broken")
    page.wait_for_selector("#errors", timeout=5000)
    problem = page.locator("#errors").inner_text()
    assert "01-what-causes-migraine.md:4: is not valid YAML" in problem and "starts at line 3" in problem
    assert (
        page.locator("#inbox .subject").inner_text() == "Migraine, explained in five minutes"
    )  # the last good version

    edit(project / ARTICLE, "id: what-causes-migraine\nsubject: [broken", "id: what-causes-migraine")
    page.wait_for_selector("#errors", state="detached", timeout=5000)
    assert page.locator("#inbox .subject").inner_text() == "Migraine, explained in five minutes"
    page.close()


def test_a_large_project_is_served_at_once_and_rendered_on_demand_and_in_the_background(project):
    """More emails than a reload renders at once (50): the index lists them all before any is checked, an email asked
    for is rendered there and then, and the background thread checks the rest, then tells open pages once."""
    from mailpipe.preview import RENDER_AT_ONCE
    from simulation import add_articles

    add_articles(project, RENDER_AT_ONCE)  # 50 articles, 2 specials, 2 newsletters: 54 emails
    model = PreviewModel(Project(project), background=False)
    assert len(model.snapshot.sources) == 54 and model.snapshot.pending == 54
    with RunningPreview(model) as running:
        status, index = get(running.url)
        assert status == 200 and index.count("checking…") == 54 and "what-causes-migraine-0049" in index
        status, page = get(running.url + "email/what-causes-migraine-0049")
        assert status == 200 and 'id="frame-desktop"' in page and model.snapshot.pending == 53
        status, html = get(running.url + "render/four-stages-of-migraine.html")
        assert status == 200 and "<html" in html and model.snapshot.pending == 52
        assert get(running.url + "email/no-such-email")[0] == 404
    version = model.snapshot.version
    background = PreviewModel(Project(project))
    for _ in range(600):
        if background.snapshot.pending == 0 and background.snapshot.version > version:
            break
        threading.Event().wait(0.05)
    assert background.snapshot.pending == 0 and len(background.snapshot.findings) == 54


@pytest.mark.parametrize("articles, pending", [(7, 0), (46, 0), (47, 51)])
def test_up_to_fifty_emails_are_rendered_before_the_first_page(project, articles, pending):
    from simulation import add_articles

    add_articles(project, articles)  # and 4 emails of specials
    model = PreviewModel(Project(project), background=False)
    assert len(model.snapshot.sources) == articles + 4 and model.snapshot.pending == pending


def test_a_save_re_reads_that_file_only(project):
    """The preview's content cache: an unchanged file is not parsed again; a saved one is, and so is one the watcher
    reports even when its time and size look unchanged (a save within the clock's granularity)."""
    import os

    from mailpipe.load.content import ContentCache, load_content

    cache = ContentCache()
    first = load_content(project / "content", cache)
    again = load_content(project / "content", cache)
    assert all(a is b for a, b in zip(first.articles, again.articles, strict=True))
    path = project / ARTICLE
    path.write_text(path.read_text().replace("What is really behind a migraine?", "What is truly behind a migraine?!"))
    saved = load_content(project / "content", cache)
    assert saved.articles[0] is not first.articles[0] and "truly" in saved.articles[0].front.subject
    assert all(a is b for a, b in zip(first.articles[1:], saved.articles[1:], strict=True))
    before = path.stat()
    path.write_text(path.read_text().replace("truly", "TRULY"))  # the same size and, put back, the same time
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert "truly" in load_content(project / "content", cache).articles[0].front.subject  # looks unchanged
    cache.forget({path})
    assert "TRULY" in load_content(project / "content", cache).articles[0].front.subject
