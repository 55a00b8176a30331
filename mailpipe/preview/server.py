"""The preview's web server: 127.0.0.1 only, pages from the model, live reload by Server-Sent Events.

It serves nothing from disk: every URL is a page, an email the model rendered, or the event stream;
anything else (a path-traversal attempt included) is a 404.
"""

from __future__ import annotations

import html
import re
import threading
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import jinja2
import watchfiles

from mailpipe.preview import PreviewModel, Snapshot, changes_since_approval
from mailpipe.preview.merge import fill
from mailpipe.util.loopback import LoopbackHandler, LoopbackServer

WATCHED = ("content", "templates", "campaigns", "reviews", "mailpipe.yaml")
VIEW_DEFAULTS = {"view": "both", "part": "html", "tags": "sample", "theme": "light"}
OPTIONS = [
    ("view", "both", "Desktop + mobile"),
    ("view", "desktop", "Desktop"),
    ("view", "mobile", "Mobile"),
    ("part", "html", "HTML"),
    ("part", "text", "Plain text"),
    ("tags", "sample", "Sample contact"),
    ("tags", "raw", "Raw merge tags"),
    ("theme", "light", "Light"),
    ("theme", "dark", "Dark mode"),
]
_DARK_QUERY = re.compile(r"@media\s*\(\s*prefers-color-scheme\s*:\s*dark\s*\)", re.IGNORECASE)


def as_dark_client_shows_it(html: str) -> str:
    """The email as a dark-mode client that honours its dark CSS shows it (Apple Mail, iOS Mail): the dark rules apply.
    The frame cannot be told the reader prefers dark, so the rules are made unconditional."""
    return _DARK_QUERY.sub("@media all", html)


_EMAIL_PAGE = re.compile(r"^/email/([a-z0-9-]+)$")
_RENDERED = re.compile(r"^/render/([a-z0-9-]+)\.(html|txt)$")

_pages = jinja2.Environment(
    loader=jinja2.PackageLoader("mailpipe.preview", "templates"), autoescape=True, undefined=jinja2.StrictUndefined
)


# Every page: scripts only from /preview.js, nothing from elsewhere; the emails are framed from this origin only.
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; connect-src "
    "'self'; "
    "frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# An email as a recipient's client shows it: its own styles and remote images, no script of any kind (also the CSP
# sandbox).
EMAIL_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; font-src https:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'self'; sandbox allow-same-origin"
)
PAGE_SCRIPT = """// Live reload: the server says when a saved file changed what this page shows. The page is
// fetched again and its body swapped in place (quicker than a reload: no navigation, no new script,
// no new event stream); a failure reloads.
// each email frame as tall as its email (the frames run no script; this page reads their height)
function fitFrames() {
  for (const frame of document.querySelectorAll("iframe.email")) {
    const fit = () => { frame.style.height = (frame.contentDocument.documentElement.scrollHeight + 4) + "px"; };
    frame.addEventListener("load", fit);
    if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit();
  }
}
function listen(version) {
  const source = new EventSource("/events?since=" + version);
  source.onmessage = async () => {
    source.close();
    try {
      const answer = await fetch(location.href, {cache: "no-store"});
      if (!answer.ok) throw new Error(answer.status);
      const next = new DOMParser().parseFromString(await answer.text(), "text/html");
      document.title = next.title;
      document.body.replaceWith(document.adoptNode(next.body));
      fitFrames();
      listen(document.body.dataset.version);
    } catch (error) {
      location.reload();
    }
  };
}
fitFrames();
listen(document.body.dataset.version);
"""


class _Handler(LoopbackHandler):
    server: PreviewServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        refused = self.foreign()
        if refused:
            self.close_connection = True
            return self._send(
                403, f"<!doctype html><title>Refused</title><p>The preview refuses {html.escape(refused)}.</p>"
            )
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query))
        if url.path == "/preview.js":
            return self._send(200, PAGE_SCRIPT, "text/javascript")
        page = url.path == "/" or _EMAIL_PAGE.match(url.path)
        snapshot = self.server.model.current() if page else self.server.model.snapshot
        if url.path == "/":
            return self._send(200, _pages.get_template("index.html").render(snapshot=snapshot))
        if url.path == "/reports":
            return self._reports_page(snapshot)
        if url.path == "/events":
            since = query.get("since", "-1") or "-1"
            if not re.fullmatch(r"-?\d{1,12}", since):
                return self._send(400, "since must be a page version number", "text/plain")
            return self._events(int(since))
        match = _EMAIL_PAGE.match(url.path)
        if match:
            return self._email_page(match.group(1), query, snapshot)
        match = _RENDERED.match(url.path)
        if match and self._rendered(match.group(1), match.group(2) == "html", query):
            return None
        self._send(404, '<!doctype html><title>Not found</title><p>Not found. <a href="/">All emails</a></p>')

    def _rendered(self, email_id: str, as_html: bool, query: dict) -> bool:
        """An email as its recipients get it (the frame's source), merge tags filled unless asked raw; False when
        there is no such email."""
        email = self.server.model.email(email_id)
        if email is None:
            return False
        snapshot = self.server.model.snapshot
        body = email.html if as_html else email.text
        if query.get("tags", "sample") != "raw" and snapshot.site is not None:
            body = fill(body, snapshot.site, as_html, email.preheader)
        if as_html and query.get("theme") == "dark":
            body = as_dark_client_shows_it(body)
        self._send(200, body, "text/html" if as_html else "text/plain", EMAIL_POLICY)
        return True

    def _email_page(self, email_id: str, query: dict, snapshot: Snapshot) -> None:
        email = self.server.model.email(email_id)
        if email is None:
            return self._send(
                404, _pages.get_template("missing.html").render(snapshot=self.server.model.snapshot, email_id=email_id)
            )
        snapshot = self.server.model.snapshot
        assert snapshot.site is not None  # an email is only ever rendered with the config it was rendered for
        state = {key: query.get(key, default) for key, default in VIEW_DEFAULTS.items()}
        frames = [(640, "desktop"), (375, "mobile")]
        if state["view"] != "both":
            frames = [f for f in frames if f[1] == state["view"]]
        text = email.text if state["tags"] == "raw" else fill(email.text, snapshot.site, as_html=False)
        page = _pages.get_template("email.html").render(
            snapshot=snapshot,
            email=email,
            state=state,
            options=OPTIONS,
            frames=frames,
            text=text,
            findings=snapshot.findings.get(email_id, []),
            sign_off=snapshot.sign_offs.get(email_id),
            since_approval=changes_since_approval(self.server.model, email),
            link=lambda key, value: f"/email/{email_id}?{urlencode({**state, key: value})}",
        )
        self._send(200, page)

    def _reports_page(self, snapshot: Snapshot) -> None:
        """Results, read from Mailchimp (or the sandbox) when the page is asked for: never cached, never written."""
        from mailpipe.errors import MailpipeError
        from mailpipe.report import PRIVACY_NOTE

        try:
            made, source = self.server.model.report()
            page = _pages.get_template("reports.html").render(
                snapshot=snapshot, report=made, source=source, note=PRIVACY_NOTE, problem=""
            )
        except MailpipeError as err:
            page = _pages.get_template("reports.html").render(
                snapshot=snapshot, report=None, source="", note="", problem=str(err)
            )
        self._send(200, page)

    def _events(self, since: int) -> None:
        """Server-Sent Events: one message when the version moves past `since`; comments keep the line open."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            while not self.server.stopping.is_set():
                version = self.server.model.wait_for_change(since, timeout=10)
                if version != since:
                    self.wfile.write(f"data: {version}\n\n".encode())
                    self.wfile.flush()
                    return
                self.wfile.write(b": still here\n\n")
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return

    def _send(self, status: int, body: str, kind: str = "text/html", policy: str = PAGE_POLICY) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Security-Policy", policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        self.end_headers()
        self.wfile.write(data)


class PreviewServer(LoopbackServer):
    def __init__(self, model: PreviewModel, port: int = 0):
        super().__init__(port, _Handler)
        self.model = model
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"{self.origin}/"


def watch(model: PreviewModel, stop: threading.Event) -> None:
    """Re-render on every save under content/, templates/, campaigns/ or to mailpipe.yaml."""
    root = model.project.root.resolve()
    targets = [root / name for name in WATCHED if (root / name).exists()]
    for changes in watchfiles.watch(
        *targets, debounce=20, step=5, stop_event=stop, rust_timeout=200, yield_on_timeout=False
    ):
        model.reload({Path(path) for _, path in changes})


class RunningPreview:
    """The preview server and its file watcher on background threads: `with RunningPreview(project) as p: p.url`."""

    def __init__(self, model: PreviewModel, port: int = 0):
        self.model = model
        self.server = PreviewServer(model, port)
        self._threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True, name="preview-http"),
            threading.Thread(target=watch, args=(model, self.server.stopping), daemon=True, name="preview-watch"),
        ]

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> RunningPreview:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
