"""QR codes as inline SVG, for web pages and PDFs alike (rating links, posters).

    {{ qr_svg(url_for('evaluation.rate', session_id=s.id, _external=True)) }}
    {{ qr_svg(link, scale=1, unit="mm") }}    {# 1 mm per module, for print #}

The SVG is made by segno: paths only, no script, no external references, a white quiet zone
so it scans on any background.
"""

from __future__ import annotations

import segno
from markupsafe import Markup

# Level M restores about 15% of the code: a poster may get a crease or a smudge.
ERROR_LEVEL = "m"
QUIET_ZONE = 4  # modules, as ISO/IEC 18004 asks for


def qr_code(url: str) -> segno.QRCode:
    """The QR code (never a Micro QR, which phones do not read) for a URL."""
    if not url:
        raise ValueError("a QR code needs a URL")
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_svg(url: str, *, scale: float = 4, unit: str | None = None, title: str | None = None) -> Markup:
    """An ``<svg>`` element drawing the QR code of `url`.

    Each module is `scale` units wide (CSS pixels by default; `unit` may be "mm", "pt", …).
    `title` becomes the SVG's <title> (escaped), read out by screen readers.
    """
    svg = qr_code(url).svg_inline(scale=scale, unit=unit, border=QUIET_ZONE, dark="#000", light="#fff",
                                  title=title, svgclass="qr-code", lineclass=None)
    # segno escapes the title and writes nothing else that comes from the caller.
    return Markup(svg)  # noqa: S704  # nosec B704


def init_app(app):
    app.jinja_env.globals["qr_svg"] = qr_svg
