"""The one path every PDF takes: a Jinja template extending `pdf/base.html`, laid out by
WeasyPrint with the CJK font installed by the set-up.

    pdf = create_pdf("marketplace/pdf/award.html", award=award)
    return render_pdf_response("marketplace/pdf/award.html", f"中标公告-{project.code}.pdf", award=award)

Templates reach only the app's own static files (``url_for('static', filename=...)``, read
from disk) and ``data:`` URIs (see `data_uri`); every other URL — ``file:``, ``http(s):``,
anything outside ``static/`` — is refused without being opened, so a template fed with
user text cannot read the server's files or make it call out. The language is the current
one; pass ``locale="zh_CN"`` for a document that must be in Chinese whoever asks for it.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import re
import unicodedata
from contextlib import contextmanager, nullcontext
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from flask import Response, current_app, g, has_request_context, render_template, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from werkzeug.security import safe_join

from core.db import utcnow
from core.i18n import fmt_datetime

log = logging.getLogger(__name__)

# Relative URLs in a PDF template resolve against this origin; nothing is ever fetched from it
# (`.invalid` cannot resolve) — the fetcher maps its /static/ paths to files on disk.
PDF_ORIGIN = "http://pdf.huimin.invalid"
# The font family the print stylesheet asks for (Debian fonts-wqy-microhei, see README "PDFs").
PDF_FONT = "WenQuanYi Micro Hei"


def _weasyprint():
    # Imported on first use: WeasyPrint loads Pango and fontconfig, which web requests that
    # never render a PDF should not pay for.
    import weasyprint

    return weasyprint


class RefusedURL(ValueError):
    """A PDF template referred to something outside the app's static files."""


def make_fetcher(static_folder: str, static_prefix: str):
    """A WeasyPrint URL fetcher that serves `static_prefix` paths of PDF_ORIGIN from
    `static_folder` and ``data:`` URIs, and refuses everything else without opening it.

    The fetcher keeps the URLs it refused in `.refused`, for logs and tests.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    folder = str(Path(static_folder).resolve())

    class StaticOnlyFetcher(URLFetcher):
        def __init__(self):
            super().__init__(allowed_protocols=("http", "data"), allow_redirects=False)
            self.refused: list[str] = []

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return self._data(url)
            path = self._static_path(url)
            if path is None:
                self.refused.append(url)
                log.warning("PDF: refused to fetch %s", url[:200])
                raise RefusedURL(f"not one of the app's static files: {url[:200]}")
            mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
            with open(path, "rb") as f:
                body = f.read()
            return URLFetcherResponse(url, body, {"Content-Type": mime})

        def _static_path(self, url: str) -> str | None:
            try:
                parts = urlsplit(url)
            except ValueError:
                return None
            if f"{parts.scheme}://{parts.netloc}" != PDF_ORIGIN or not parts.path.startswith(static_prefix):
                return None
            relative = unquote(parts.path[len(static_prefix):])
            path = safe_join(folder, relative) if relative else None
            if path is None:
                return None
            # A symlink inside static/ must not lead outside it either.
            resolved = Path(path).resolve()
            if not resolved.is_relative_to(folder) or not resolved.is_file():
                return None
            return str(resolved)

        def _data(self, url: str):
            header, sep, payload = url[5:].partition(",")
            if not sep:
                raise RefusedURL("malformed data: URI")
            params = header.split(";")
            mime = params[0] or "text/plain"
            body = base64.b64decode(payload) if "base64" in params[1:] else unquote(payload).encode("utf-8")
            return URLFetcherResponse(url, body, {"Content-Type": mime})

    return StaticOnlyFetcher()


def data_uri(content: bytes, mime: str) -> str:
    """Embed bytes (an uploaded photo, a generated chart) in a PDF template: ``<img src="{{ uri }}">``."""
    return f"data:{mime};base64,{base64.b64encode(content).decode('ascii')}"


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_number_css() -> str:
    """The footer's page numbers in the current language, e.g. "第 3 页 / 共 15 页"."""
    marker = "\x00"
    label = _("Page %(page)s of %(pages)s", page=marker + "page" + marker, pages=marker + "pages" + marker)
    content = []
    for i, piece in enumerate(label.split(marker)):
        if i % 2:  # a placeholder
            content.append(f"counter({piece})")
        elif piece:
            content.append(_css_string(piece))
    return "@page { @bottom-right { content: " + " ".join(content) + "; } }"


def _static_prefix() -> str:
    prefix = url_for("static", filename="")
    return prefix if prefix.endswith("/") else prefix + "/"


def create_pdf(template_name, *, locale: str | None = None, **context) -> bytes:
    """Render a template that extends ``pdf/base.html`` to PDF bytes.

    `template_name` may also be a Jinja Template object; `locale` ("zh_CN", "en") overrides
    the current language. Works inside a request or, for commands, with only an application
    context.
    """
    with _pdf_context(locale):
        return _write(current_app._get_current_object(), _render(template_name, context))


def render_pdf_html(template_name, *, locale: str | None = None, **context) -> str:
    """The HTML that `create_pdf` with the same arguments lays out (for measuring and debugging)."""
    with _pdf_context(locale):
        return _render(template_name, context)


def pdf_stylesheet_css() -> str:
    """The stylesheet create_pdf adds to the document's own (page numbers in the current language)."""
    return page_number_css()


@contextmanager
def _pdf_context(locale: str | None):
    app = current_app._get_current_object()
    # url_for() in templates needs a request; a command has none, so lend it a neutral one.
    ctx = nullcontext() if has_request_context() else app.test_request_context("/")
    with ctx:
        # flask-babel keeps a forced locale in g, and ignores force_locale() while g is empty.
        g.setdefault("pdf_rendering", True)
        with force_locale(locale) if locale else nullcontext():
            yield


def _render(template_name, context) -> str:
    context.setdefault("generated_at", utcnow())
    context.setdefault("pdf_site_name", _("Huimin public culture marketplace"))
    context.setdefault("pdf_generated_label", _("Generated %(at)s", at=fmt_datetime(context["generated_at"])))
    return render_template(template_name, **context)


def _write(app, html: str) -> bytes:
    weasyprint = _weasyprint()
    fetcher = make_fetcher(app.static_folder, _static_prefix())
    document = weasyprint.HTML(string=html, base_url=PDF_ORIGIN + "/", url_fetcher=fetcher)
    extra = weasyprint.CSS(string=pdf_stylesheet_css(), url_fetcher=fetcher)
    return document.write_pdf(stylesheets=[extra])


_UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def safe_filename(name: str, default: str = "document") -> str:
    """A download name without path parts, quotes or control characters, ending in .pdf."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = _UNSAFE_FILENAME.sub("_", name).strip(" ._") or default
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    return stem[:120].rstrip(" ._") + ".pdf"


def render_pdf_response(template_name, filename: str, *, inline: bool = False, locale: str | None = None,
                        **context) -> Response:
    """A download (or, with inline=True, a view in the browser) of `create_pdf(...)`.

    The file name may be Chinese; it is sent RFC 6266 style with an ASCII fallback.
    """
    resp = Response(create_pdf(template_name, locale=locale, **context), mimetype="application/pdf")
    name = safe_filename(filename)
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    names = {"filename": ascii_name if ascii_name.removesuffix(".pdf").strip("_ .") else "document.pdf"}
    if ascii_name != name:
        names["filename*"] = "UTF-8''" + quote(name, safe="!#$&+-.^_`|~")
    resp.headers.set("Content-Disposition", "inline" if inline else "attachment", **names)
    # Documents may carry names and figures that are not public: no shared caches.
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
