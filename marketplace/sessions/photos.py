"""Session photos: up to five JPEG or PNG pictures per reported session, checked and kept by the
one upload store (core/uploads.py) — type by content, re-encoded so metadata and appended payloads
are dropped, stored under the hash of what is kept — with a size limit of their own."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from core import settings, uploads

PHOTO_MAX_MB = settings.define("sessions.photo_max_mb", 8, _l("Largest session photo (MB)"), int, 1, 20)
MAX_PHOTOS = 5


def check_photo(name: str, data: bytes) -> uploads.CheckedFile:
    """A JPEG or PNG within the size limit, re-encoded; Invalid("photos") otherwise."""
    return uploads.check(data, name or "photo", field="photos", max_mb=settings.get(PHOTO_MAX_MB.key),
                         types=(uploads.JPEG, uploads.PNG))


def store(photo: uploads.CheckedFile) -> str:
    uploads.keep(photo)
    return photo.sha256


def read(sha256: str) -> bytes | None:
    return uploads.read(sha256)
