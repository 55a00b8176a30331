"""Every content file renders to a responsive email whose merge tags, escaping and links are right."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest

from conftest import REPO, edit, rendered_email
from mailpipe.errors import RenderError
from mailpipe.project import Project

FOOTER_TAGS_HTML = ['href="*|UNSUB|*"', 'href="*|UPDATE_PROFILE|*"', "*|HTML:LIST_ADDRESS_HTML|*"]
GREETING = "*|IF:FNAME|**|FNAME|**|ELSE:|*there*|END:IF|*"


@pytest.fixture(scope="module")
def emails():
    return Project(REPO).rendered().emails


def test_every_content_file_becomes_an_email(emails):
    sources = {e.source.item.source.name for e in emails}
    on_disk = {p.name for p in (REPO / "content").rglob("*.md")}
    assert sources == on_disk
    kinds = [e.kind for e in emails]
    assert 6 <= kinds.count("article") <= 8
    assert {"specials-2024-05", "newsletter-2024-05"} <= {e.id for e in emails}
    for email in emails:
        assert email.html.startswith("<!doctype html>")
        assert f"<title>{email.subject.replace('&', '&amp;')}</title>" in email.html
        # the preheader is the campaign's preview text (push sets it); Mailchimp puts it where this tag is, once
        assert email.html.count("*|MC_PREVIEW_TEXT|*") == 1 and email.preheader not in email.html
        assert len(email.text) > 500


def test_merge_tags_survive_byte_for_byte(emails):
    for email in emails:
        for tag in FOOTER_TAGS_HTML + [GREETING]:
            assert email.html.count(tag) == 1, (email.id, tag)
        for tag in ["*|UNSUB|*", "*|UPDATE_PROFILE|*", "*|LIST:ADDRESSLINE|*", GREETING]:
            assert tag in email.text, (email.id, tag)


def test_a_merge_tag_written_in_markdown_is_not_taken_for_emphasis(project):
    edit(project / "content/articles/04-prevention-tips.md", "Here are seven", "*|FNAME|*, here are seven")
    email = rendered_email(project, "migraine-prevention-tips")
    assert "*|FNAME|*, here are seven" in email.html
    assert "<em>|FNAME|</em>" not in email.html


def test_text_values_are_escaped_and_read_as_text(project):
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "title: What is really behind a migraine?",
        'title: "Migraine <b>& you</b>: 5 < 10"',
    )
    edit(
        project / "content/articles/01-what-causes-migraine.md",
        "A migraine is more than",
        "A migraine <script>alert(1)</script> is more than",
    )
    email = rendered_email(project, "what-causes-migraine")
    assert "<b>& you</b>" not in email.html and "<script>" not in email.html
    visible = lxml.html.document_fromstring(email.html).text_content()
    assert "Migraine <b>& you</b>: 5 < 10" in visible
    assert "A migraine <script>alert(1)</script> is more than" in visible


# utm_campaign of each email's links: the opaque code push names its campaign by (step N of drip e1, monthly m1's
# month), never the email's id, which names a health topic the clinic's site analytics would learn per visitor.
TRACKING = {
    "what-causes-migraine": "mp-e1-s01",
    "four-stages-of-migraine": "mp-e1-s02",
    "chronic-vs-episodic-migraine": "mp-e1-s03",
    "migraine-prevention-tips": "mp-e1-s04",
    "how-botox-helps-prevent-migraine": "mp-e1-s05",
    "what-treatment-looks-like": "mp-e1-s06",
    "personalized-migraine-care": "mp-e1-s07",
    "specials-2024-05": "mp-unscheduled",
    "newsletter-2024-05": "mp-m1-2024-05",
    "specials-2024-06": "mp-unscheduled",
    "newsletter-2024-06": "mp-m1-2024-06",
}


def test_links_to_the_clinics_own_site_carry_utm_parameters_and_nothing_else_is_touched(emails):
    """Only the clinic's own domains (utm.domains; by default the website's) are tagged: the manufacturer's
    prescribing information and the FDA's MedWatch are someone else's site and analytics."""
    assert sorted(e.id for e in emails) == sorted(TRACKING)
    third_party = 0
    for email in emails:
        hrefs = [a.get("href") for a in lxml.html.document_fromstring(email.html).iter("a")]
        web = [h for h in hrefs if h.startswith(("http://", "https://"))]
        assert web, email.id
        for href in web:
            query = parse_qs(urlsplit(href).query)
            if urlsplit(href).hostname == "www.aiviaesthetics.com":
                assert query["utm_source"] == ["mailchimp"] and query["utm_medium"] == ["email"], href
                assert query["utm_campaign"] == [TRACKING[email.id]], href
                topic = set(email.id.split("-")) - {"2024", "05", "06"}
                assert not topic & set(query["utm_campaign"][0].split("-")), href
            else:
                third_party += 1
                assert urlsplit(href).hostname in ("www.rxabbvie.com", "www.fda.gov") and not query, href
        others = [h for h in hrefs if h not in web]
        assert "*|UNSUB|*" in others and "*|UPDATE_PROFILE|*" in others
        assert all("utm_" not in h for h in others), others
        assert "tel:+18185550142" in others  # E.164: dials from anywhere
    assert third_party >= 6  # the prescribing information and medication guide of each Botox email


def test_plain_text_is_readable_text_with_the_links_spelled_out(emails):
    for email in emails:
        assert "<" not in email.text.replace("<", "", 0) or "</" not in email.text, email.id
        assert "display:none" not in email.text
        assert email.preheader not in email.text.split("\n\n")[0]
        long_lines = [line for line in email.text.splitlines() if len(line) > 78 and "://" not in line]
        assert not long_lines, (email.id, long_lines)
        booking = [line for line in email.text.splitlines() if "book-consultation?utm_source=mailchimp" in line]
        assert booking, email.id


def test_safety_information_appears_exactly_where_botox_is_named(emails):
    for email in emails:
        has_isi = "Important Safety Information" in email.html and "Important Safety Information" in email.text
        names_botox = "botox" in (email.subject + email.source.item.body).lower() or (
            email.source.featured is not None and "botox" in email.source.featured.body.lower()
        )
        assert has_isi == names_botox == email.mentions_botox, email.id


def test_promotional_emails_say_they_are_advertisements(emails):
    for email in emails:
        assert ("Advertisement from AIVI Aesthetics." in email.text) == (
            email.kind != "article" or email.mentions_botox
        ), email.id


def test_a_missing_template_variable_names_the_template_and_line(project):
    edit(project / "templates/partials/cta.mjml.j2", "{{ cta.label }}</a>", "{{ cta.lable }}</a>")
    line = next(
        n
        for n, text in enumerate((project / "templates/partials/cta.mjml.j2").read_text().splitlines(), 1)
        if "lable" in text
    )
    with pytest.raises(RenderError, match=rf"template partials/cta\.mjml\.j2:{line}: .*'lable'"):
        Project(project).rendered()


def test_a_template_edited_between_two_renders_in_one_process_is_rendered_as_edited(project):
    """Compiled templates are kept per process (the preview renders again on every save): an edit, even one that keeps
    the file's size, is seen by the next render."""
    template = project / "templates/partials/cta.mjml.j2"
    before = Project(project).rendered().emails[0]
    edit(template, "{{ cta.label }}</a>", "{{ cta.label | upper }}</a>")
    after = Project(project).rendered().emails[0]
    assert before.source.item.front.cta.label in before.html
    assert before.source.item.front.cta.label.upper() in after.html and before.html != after.html


def test_a_template_syntax_error_names_the_template_and_line(project, run_cli):
    edit(project / "templates/article.mjml.j2", "{% endif %}", "{% endfi %}")
    result = run_cli(project, "build")
    assert result.exit_code == 1
    assert "template article.mjml.j2:9:" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_mjml_fails_cleanly_naming_the_email_and_template(project, run_cli):
    edit(
        project / "templates/special.mjml.j2",
        "    <mj-section>\n      <mj-column>",
        "    <mj-section>\n      <mj-column",
    )
    result = run_cli(project, "build")
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    line = next(
        n
        for n, text in enumerate((project / "templates/special.mjml.j2").read_text().splitlines(), 1)
        if text.endswith("<mj-column")
    )
    assert (
        f"error: specials-2024-05: the MJML is not valid:\n  special.mjml.j2:{line}: <mj-column> is missing its "
        "closing '>': "
        "the next tag, <mj-text, is read as one of its attributes"
    ) in result.stderr
    assert not (project / "build").exists()


def test_body_links_get_utm_keep_their_own_query_and_their_own_utm(project):
    """No shipped article has a link in its body: a marketer's links get the same tracking as the template's."""
    edit(
        project / "content/articles/04-prevention-tips.md",
        "Here are seven",
        "See [the trigger diary](https://www.aiviaesthetics.com/diary?lang=es&page=2), "
        "[our partner](https://example.org/guide?utm_source=partner&utm_campaign=spring), "
        "[a look-alike](https://notaiviaesthetics.com/x), [the shop](https://shop.aiviaesthetics.com/gift) and "
        "[call us](tel:+18185550142). Here are seven",
    )
    email = rendered_email(project, "migraine-prevention-tips")
    hrefs = [a.get("href") for a in lxml.html.document_fromstring(email.html).iter("a")]
    diary = parse_qs(urlsplit(next(h for h in hrefs if "/diary" in h)).query)
    assert diary == {
        "lang": ["es"],
        "page": ["2"],
        "utm_source": ["mailchimp"],
        "utm_medium": ["email"],
        "utm_campaign": ["mp-e1-s04"],
    }
    partner = parse_qs(urlsplit(next(h for h in hrefs if "example.org" in h)).query)
    assert partner == {"utm_source": ["partner"], "utm_campaign": ["spring"]}  # another site's link is left as written
    assert "https://notaiviaesthetics.com/x" in hrefs  # a domain that merely ends like the clinic's is another site
    assert parse_qs(urlsplit(next(h for h in hrefs if "shop." in h)).query)["utm_campaign"] == [
        "mp-e1-s04"
    ]  # a subdomain is ours
    assert "tel:+18185550142" in hrefs
    assert "diary?lang=es&page=2&utm_source=mailchimp" in email.text.replace("&amp;", "&")
    styles = {
        a.get("style") for a in lxml.html.document_fromstring(email.html).iter("a") if "diary" in a.get("href", "")
    }
    assert styles == {"color:#5b3a6e;text-decoration:underline;"}  # inline, so it survives clients that drop <style>


UTM = {"utm_source": "mailchimp", "utm_medium": "email", "utm_campaign": "mp-e1-s01"}
TAGS = "utm_source=mailchimp&utm_medium=email&utm_campaign=mp-e1-s01"


@pytest.mark.parametrize(
    ("link", "tracked"),
    [
        # a merge tag in a clinic link stays byte for byte, or Mailchimp would not fill it in
        ("https://www.aiviaesthetics.com/diary?e=*|EMAIL|*", "https://www.aiviaesthetics.com/diary?e=*|EMAIL|*"),
        ("http://www.aiviaesthetics.com/x", f"http://www.aiviaesthetics.com/x?{TAGS}"),  # http as well as https
        ("HTTPS://WWW.AIVIAESTHETICS.COM/x", f"https://WWW.AIVIAESTHETICS.COM/x?{TAGS}"),  # in any case
        ("https:///nowhere", "https:///nowhere"),  # no host: nobody's site
        # the link's own empty parameter is kept
        ("https://www.aiviaesthetics.com/x?ref=&a=1", f"https://www.aiviaesthetics.com/x?ref=&a=1&{TAGS}"),
    ],
)
def test_a_link_gets_the_campaigns_utm_exactly_when_it_is_an_http_link_to_the_clinics_site(link, tracked):
    from mailpipe.render.links import with_utm

    assert with_utm(link, UTM, ("aiviaesthetics.com",)) == tracked
