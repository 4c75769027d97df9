"""Session photos: checked by content, re-encoded, stored by SHA-256 outside the web root.

A minimal store of its own until the shared upload store (core/uploads.py) is merged; it keeps
the same rules: the type comes from the first bytes (JPEG or PNG), never from the name; a size
limit; Pillow decodes and re-encodes the picture, which drops EXIF (location, camera) and any
payload appended to the file; the stored name is the hash of the re-encoded bytes, so no path
from user input reaches the file system.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

from core import settings, uploads
from core.errors import Invalid

PHOTO_MAX_MB = settings.define("sessions.photo_max_mb", 8, _l("Largest session photo (MB)"), int, 1, 20)
MAX_PHOTOS = 5
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg", "JPEG"), (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"))
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class CheckedPhoto:
    data: bytes  # re-encoded
    content_type: str
    width: int
    height: int
    sha256: str


def _kind(data: bytes):
    for magic, ctype, fmt in SIGNATURES:
        if data.startswith(magic):
            return ctype, fmt
    return None


def check_photo(name: str, data: bytes) -> CheckedPhoto:
    """A JPEG or PNG within the size limit, decoded and re-encoded; Invalid("photos") otherwise."""
    from PIL import Image, UnidentifiedImageError

    label = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:100] or "photo"
    limit_mb = settings.get(PHOTO_MAX_MB.key)
    if not data:
        raise Invalid(_l("“%(name)s” is empty.", name=label), "photos")
    if len(data) > limit_mb * 1024 * 1024:
        raise Invalid(_l("“%(name)s” is larger than %(mb)d MB.", name=label, mb=limit_mb), "photos")
    kind = _kind(data)
    if kind is None:
        raise Invalid(_l("“%(name)s” is not a JPEG or PNG picture (checked by its content).", name=label), "photos")
    ctype, fmt = kind
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format != fmt:
                raise Invalid(_l("“%(name)s” is not a JPEG or PNG picture (checked by its content).", name=label),
                              "photos")
            if probe.width * probe.height > MAX_PIXELS:
                raise Invalid(_l("“%(name)s” has too many pixels.", name=label), "photos")
            probe.verify()
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            if fmt == "JPEG":
                out_img = img.convert("RGB")
            else:
                out_img = img.convert("RGBA") if img.mode in ("RGBA", "LA", "P") else img.convert("RGB")
            out = io.BytesIO()
            # A fresh image is written: no EXIF, no ICC profile, no trailing bytes survive.
            out_img.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {"optimize": True}))
            width, height = out_img.size
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise Invalid(_l("“%(name)s” could not be read as a picture.", name=label), "photos") from None
    body = out.getvalue()
    return CheckedPhoto(body, ctype, width, height, hashlib.sha256(body).hexdigest())


def _folder() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "session-photos"


def path_for(sha256: str) -> Path:
    if not _SHA.match(sha256 or ""):
        raise ValueError("not a SHA-256")
    return _folder() / sha256[:2] / sha256


def store(photo: CheckedPhoto) -> str:
    """Write the re-encoded bytes under their hash (idempotent); return the hash."""
    path = path_for(photo.sha256)
    created = not path.exists()
    if created:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(photo.data)
        tmp.replace(path)
    uploads.written_for_transaction(path, created)
    return photo.sha256


def read(sha256: str) -> bytes | None:
    path = path_for(sha256)
    return path.read_bytes() if path.is_file() else None
