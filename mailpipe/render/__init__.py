"""Render content items into emails: Jinja2 -> MJML (validated) -> HTML (MRML) + plain text."""

from __future__ import annotations

import hashlib
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import jinja2
import mjml
from jinja2.ext import Extension
from markupsafe import Markup

from mailpipe.errors import RenderError
from mailpipe.load.campaigns import UNSCHEDULED
from mailpipe.load.config import Brand, SiteConfig
from mailpipe.load.content import Article, ContentItem, ContentSet
from mailpipe.render.links import with_utm
from mailpipe.render.markdown_body import MarkdownRenderer, UnsafeLink
from mailpipe.render.mjml_check import check_source, mark_origins, strip_origins
from mailpipe.render.plaintext import mjml_to_text, parse_for_text


@dataclass(frozen=True)
class EmailSource:
    """Which content becomes which email, through which template."""

    id: str
    kind: str  # article | special | newsletter
    item: ContentItem
    featured: Article | None = None

    @property
    def template(self) -> str:
        return f"{self.kind}.mjml.j2"

    @property
    def subject(self) -> str:
        return self.item.front.subject

    @property
    def preheader(self) -> str:
        return self.item.front.preheader

    @property
    def mentions_botox(self) -> bool:
        return self.item.mentions_botox or bool(self.featured and self.featured.mentions_botox)

    @property
    def sources(self) -> tuple[Path, ...]:
        return (self.item.source,) + ((self.featured.source,) if self.featured else ())


def content_digest(subject: str, preheader: str, html: str, text: str) -> str:
    """What a recipient gets, as one hash: compared with Mailchimp's copy to know whether a campaign is current."""
    return hashlib.sha256("\0".join([subject, preheader, html, text]).encode()).hexdigest()


@dataclass(frozen=True)
class RenderedEmail:
    id: str
    kind: str
    subject: str
    preheader: str
    from_name: str
    reply_to: str
    mjml: str
    html: str
    text: str
    content_hash: str
    example: bool
    mentions_botox: bool
    unapproved_text: tuple[str, ...]  # the templates (names under templates/) it shows still marked NEEDS_APPROVED_TEXT
    source: EmailSource

    @property
    def html_bytes(self) -> int:
        return len(self.html.encode("utf-8"))

    @property
    def text_bytes(self) -> int:
        return len(self.text.encode("utf-8"))


def email_sources(content: ContentSet) -> list[EmailSource]:
    """Every email the content makes: one per article, one per special, a newsletter per featured special."""
    sources = [EmailSource(a.id, "article", a) for a in content.articles]
    for special in content.specials:
        sources.append(EmailSource(special.id, "special", special))
        if special.front.featured_article:
            featured = content.article(special.front.featured_article)
            sources.append(EmailSource(f"newsletter-{special.front.month}", "newsletter", special, featured))
    return sources


def inline_styles(brand: Brand) -> dict[str, str]:
    """The brand's look as inline styles. Gmail's apps for non-Google accounts and Gmail's mobile web drop
    <style>, so what carries the brand (heading sizes and colour, link colour) is written on each element;
    the layout's <style> holds only what cannot be inline (dark mode)."""
    return {
        "h1": f"font-size:26px;line-height:1.25;margin:8px 0 4px;color:{brand.primary};",
        "h2": f"font-size:20px;line-height:1.3;margin:20px 0 4px;color:{brand.primary};",
        "h3": f"font-size:17px;line-height:1.35;margin:16px 0 4px;color:{brand.primary};",
        "a": f"color:{brand.primary};text-decoration:underline;",
        "ul": "margin:0 0 12px;padding:0 0 0 22px;",
        "ol": "margin:0 0 12px;padding:0 0 0 22px;",
        "li": "margin:0 0 6px;padding:0;",
        # footer links: a thumb-sized target each (16 px type, 44 px tall), not 13 px inline text
        "footer_a": f"display:inline-block;padding:10px 12px;font-size:16px;line-height:24px;color:{brand.text};"
        "text-decoration:underline;",
        "price": f"margin:0 0 6px;font-size:26px;line-height:1.2;font-weight:bold;color:{brand.primary};",
        "logo": f"display:block;margin:0 auto;border:0;outline:none;color:{brand.primary};"
        "font-family:Georgia, 'Times New Roman', serif;"
        "font-size:20px;font-weight:bold;line-height:1.3;text-align:center;text-decoration:none;",
        "logo_plate": f"display:inline-block;padding:10px 16px;background:{brand.panel};background-color:{brand.panel};"
        f"text-decoration:none;color:{brand.primary};",
        "button": f"display:inline-block;background:{brand.primary};color:#ffffff;font-family:Helvetica, Arial, "
        "sans-serif;font-size:16px;"
        "font-weight:bold;line-height:20px;padding:14px 28px;border-radius:6px;text-decoration:none;mso-hide:all;",
    }


NEEDS_APPROVED_TEXT = "mailpipe:needs-approved-text"  # a template marked so holds wording a reviewer must replace


class _NoteUnapprovedText(Extension):
    """A template marked NEEDS_APPROVED_TEXT records its name each time it is rendered, so an email knows whether it
    shows such text (an include inside an `if` counts only when the condition holds)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        if NEEDS_APPROVED_TEXT not in source:
            return source
        return "{{ unapproved_text.append(%r) or '' }}" % (name or "<template>") + source


class _MarkOrigins(Extension):
    """Tag each mj- element with the template and line that wrote it (see mjml_check)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return mark_origins(source, name or "<template>")


class _CompiledTemplates(jinja2.BytecodeCache):
    """Each template compiled once per process, whichever Renderer asks (the preview and a test suite render a project
    many times; compiling is 40% of a render). Jinja keys it by the template's name and file and checks the source's
    checksum, so an edited template is compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


class Renderer:
    def __init__(self, site: SiteConfig, templates_dir: Path, tracking: Mapping[str, str] | None = None):
        self.site = site
        self.templates_dir = templates_dir
        self.tracking = tracking or {}  # email id -> the opaque utm_campaign of its links (load.campaigns)
        self.env = jinja2.Environment(
            bytecode_cache=_COMPILED,
            loader=jinja2.FileSystemLoader(templates_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=[_NoteUnapprovedText, _MarkOrigins],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.styles = inline_styles(site.brand)
        self.markdown = MarkdownRenderer({tag: self.styles[tag] for tag in ("h1", "h2", "h3", "a", "ul", "ol", "li")})
        self.env.globals["styles"] = self.styles
        self.env.filters["longdate"] = lambda d: f"{d:%B} {d.day}, {d.year}"

    def render_all(self, content: ContentSet) -> list[RenderedEmail]:
        return [self.render(source) for source in email_sources(content)]

    def render(self, source: EmailSource) -> RenderedEmail:
        track = partial(
            with_utm,
            params={
                "utm_source": self.site.utm.source,
                "utm_medium": self.site.utm.medium,
                "utm_campaign": self.tracking.get(source.id, UNSCHEDULED),
            },
            domains=self.site.own_domains,
        )
        unapproved: list[str] = []  # filled by _NoteUnapprovedText as the marked templates render
        context = {
            "site": self.site,
            "email": {
                "id": source.id,
                "kind": source.kind,
                "subject": source.subject,
                "preheader": source.preheader,
                "mentions_botox": source.mentions_botox,
            },
            "track": track,
            "unapproved_text": unapproved,
            "body_html": Markup(self._markdown(source.item, track)),
            source.item.kind: source.item.front,
        }
        if source.featured:
            context["featured"] = source.featured.front
            context["featured_html"] = Markup(self._markdown(source.featured, track))
            context["featured_mentions_botox"] = source.featured.mentions_botox
        marked = self._jinja(source, context)
        problems = [p for p in check_source(marked) if not p.note]
        if problems:
            raise RenderError(f"{source.id}: the MJML is not valid:\n" + "\n".join(f"  {p}" for p in problems))
        clean = strip_origins(marked)
        html = self._mrml(source, clean)
        text = mjml_to_text(parse_for_text(clean))
        digest = content_digest(source.subject, source.preheader, html, text)
        return RenderedEmail(
            id=source.id,
            kind=source.kind,
            subject=source.subject,
            preheader=source.preheader,
            from_name=self.site.sender.from_name,
            reply_to=self.site.sender.reply_to,
            mjml=clean,
            html=html,
            text=text,
            content_hash=digest,
            example=source.item.front.example,
            mentions_botox=source.mentions_botox,
            unapproved_text=tuple(sorted(set(unapproved))),
            source=source,
        )

    def _markdown(self, item: ContentItem, track: Callable[[str], str]) -> str:
        try:
            return self.markdown.to_html(item.body, track)
        except UnsafeLink as err:
            text = item.source.read_text(encoding="utf-8", errors="replace")
            line = text[: text.find(err.url)].count("\n") + 1 if err.url and err.url in text else 1
            what, expected = (
                ("image", "an image needs an http(s) address")
                if err.image
                else ("link", "use an http(s), mailto: or tel: address, or a merge tag")
            )
            raise RenderError(
                f"{item.source}:{line}: body: the {what} {err.url[:80]!r} is not allowed in an email; {expected}"
            ) from None

    def _jinja(self, source: EmailSource, context: dict) -> str:
        try:
            return self.env.get_template(source.template).render(context)
        except jinja2.TemplateSyntaxError as err:
            raise RenderError(f"{source.id}: template {err.name}:{err.lineno}: {err.message}") from None
        except jinja2.TemplateNotFound as err:
            raise RenderError(f"{source.id}: template {err.name} was not found in {self.templates_dir}") from None
        except jinja2.UndefinedError as err:
            raise RenderError(f"{source.id}: template {self._template_line(err)}: {err.message}") from None

    def _template_line(self, err: Exception) -> str:
        """The innermost template frame of a Jinja error: Jinja maps its frames to template lines."""
        root = str(self.templates_dir.resolve())
        frames = [
            f for f in traceback.extract_tb(err.__traceback__) if str(Path(f.filename).resolve()).startswith(root)
        ]
        if not frames:
            return "(unknown line)"
        frame = frames[-1]
        return f"{Path(frame.filename).resolve().relative_to(root)}:{frame.lineno}"

    @staticmethod
    def _mrml(source: EmailSource, clean: str) -> str:
        try:
            return mjml.mjml2html(clean)
        except ValueError as err:  # MRML's own syntax errors; well-formed MJML rarely gets here
            raise RenderError(f"{source.id}: MRML could not compile the MJML: {err}") from None
