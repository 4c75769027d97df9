"""Files attached to a challenge: at most five PDF, JPEG or PNG files, checked and kept by the one
upload store (core/uploads.py): type by content, images re-encoded, stored under the hash of what
is kept, outside the web root (core/storage.py)."""

from __future__ import annotations

from flask_babel import gettext as _

from core import uploads
from core.errors import Invalid

MAX_FILES = 5


def check_and_store(files: list[tuple[str, bytes]]) -> list[dict]:
    """Check every file first (nothing is stored if one is bad), then store them; return the
    attachment fields for each."""
    files = [(name, data) for name, data in files if name or data]
    if len(files) > MAX_FILES:
        raise Invalid(_("At most %(n)d files.", n=MAX_FILES), "files")
    checked = [uploads.check(data, name or "file", field="files") for name, data in files]
    for c in checked:
        uploads.keep(c)
    return [{"filename": c.name, "sha256": c.sha256, "size": len(c.data), "content_type": c.content_type}
            for c in checked]


def read(sha256: str) -> bytes | None:
    return uploads.read(sha256)
