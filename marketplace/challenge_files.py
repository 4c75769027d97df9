"""Files attached to a challenge: PDF, JPEG or PNG (checked by content, not by name), at most
10 MB each, stored by SHA-256 under UPLOAD_DIR/challenges outside the web root."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _

from core import uploads
from core.errors import Invalid

MAX_BYTES = 10 * 1024 * 1024
MAX_FILES = 5
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(data: bytes) -> str | None:
    return next((mime for magic, mime in SIGNATURES if data.startswith(magic)), None)


def folder() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "challenges"


def check_and_store(files: list[tuple[str, bytes]]) -> list[dict]:
    """Check every file first (nothing is stored if one is bad), then store them; return the
    attachment fields for each."""
    files = [(name, data) for name, data in files if name or data]
    if len(files) > MAX_FILES:
        raise Invalid(_("At most %(n)d files.", n=MAX_FILES), "files")
    checked = []
    for name, data in files:
        if len(data) > MAX_BYTES:
            raise Invalid(_("%(name)s is larger than 10 MB.", name=name), "files")
        mime = sniff(data)
        if mime is None:
            raise Invalid(_("%(name)s is not a PDF, JPEG or PNG file.", name=name), "files")
        checked.append((Path(name or "file").name[:200], data, mime))
    out = []
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    for name, data, mime in checked:
        digest = hashlib.sha256(data).hexdigest()
        path = target / digest
        created = not path.exists()
        if created:
            path.write_bytes(data)
        uploads.written_for_transaction(path, created)
        out.append({"filename": name, "sha256": digest, "size": len(data), "content_type": mime})
    return out


def path_of(sha256: str) -> Path:
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise ValueError("not a SHA-256")
    return folder() / sha256
