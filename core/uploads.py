"""Uploaded files: checked by content, stored by SHA-256 outside the web root, served as attachments.

- The type is decided by the bytes (PDF, JPEG, PNG), never by the name or the declared type.
- Images are decoded and re-encoded with Pillow, so metadata (EXIF, text chunks, ICC) and
  anything appended after the image data are dropped.
- A file is kept by the SHA-256 of what is stored, in the app's storage (core/storage.py: local
  disk or S3-compatible object storage); no part of a user's file name ever reaches a path or key.
  The name the user gave is kept for display only.
- Each upload is a `StoredFile` row (who, when, what); identical content shares one stored file.
- Files are sent only by views that have checked permission, with `send()`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from flask import abort, send_file
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core import settings
from core.accounts.models import User
from core.db import UTCDateTime, db, utcnow
from core.errors import Invalid, TooLarge, UnsupportedContent

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
EXTENSIONS = {PDF: ".pdf", JPEG: ".jpg", PNG: ".png"}
# Images larger than this many pixels are refused before decoding (decompression bombs).
MAX_PIXELS = 40_000_000
CHUNK = 1024 * 1024

MAX_MB = settings.define("uploads.max_file_mb", 10, _l("Largest uploaded file (MB)"), int, 1, 50)


class StoredFile(db.Model):
    __tablename__ = "stored_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    # As the user named it, cleaned; shown and offered as the download name, never used as a path.
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    uploaded_by: Mapped[User | None] = relationship(lazy="raise")

    @property
    def is_image(self) -> bool:
        return self.content_type in (JPEG, PNG)


def max_bytes() -> int:
    return settings.get(MAX_MB.key) * 1024 * 1024


def sniff(data: bytes) -> str | None:
    """The content type the bytes are, by their signature; None for anything else."""
    if data.startswith(b"%PDF-"):
        # A PDF ends with %%EOF (some writers append a few bytes after it).
        return PDF if b"%%EOF" in data[-1024:] else None
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    return None


def display_name(raw: str | None, content_type: str) -> str:
    """The user's file name reduced to a harmless display name with the right extension."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = re.split(r"[\\/]", name)[-1]  # the last path component, whatever the separator
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # control and format characters
    name = name.strip().strip(".").strip()
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = re.sub(r"\s+", " ", stem)[:120].strip() or "document"
    return stem + EXTENSIONS[content_type]


def _read_limited(stream, limit: int) -> bytes:
    buf = io.BytesIO()
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        buf.write(chunk)
        if buf.tell() > limit:
            break
    return buf.getvalue()


def _clean_image(data: bytes, content_type: str, field: str | None, name: str) -> bytes:
    """Decode and re-encode: only the pixels (and transparency) survive."""
    fmt = "JPEG" if content_type == JPEG else "PNG"
    unreadable = UnsupportedContent(_l("%(name)s is not a readable %(fmt)s image.", name=name, fmt=fmt), field)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[fmt]) as im:
                if im.width * im.height > MAX_PIXELS:
                    raise TooLarge(_l("%(name)s has too many pixels.", name=name), field)
                im.load()
                # Turn the picture upright before its orientation tag is dropped with the rest.
                upright = ImageOps.exif_transpose(im)
                transparency = upright.info.get("transparency")
                clean = upright.copy()
    except Invalid:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise unreadable from None
    clean.info = {}
    out = io.BytesIO()
    if fmt == "JPEG":
        if clean.mode not in ("L", "RGB", "CMYK"):
            clean = clean.convert("RGB")
        clean.save(out, "JPEG", quality=90)
    else:
        options = {"optimize": True}
        if transparency is not None and clean.mode in ("P", "L", "RGB"):
            options["transparency"] = transparency
        clean.save(out, "PNG", **options)
    return out.getvalue()


def storage():
    """The app's file store (core/storage.py): local disk or S3-compatible object storage."""
    from core import storage as file_storage

    return file_storage.get()


_NEW_FILES = "huimin.new_files"


def written_for_transaction(store, digest: str, created: bool, marker) -> None:
    """Tie a file the current transaction wrote (or reuses) to its fate: a file it created is
    removed again if the transaction rolls back, so a failed operation leaves no file behind.

    Content-addressed files may be shared: a reuse renews the file's marker, and the rollback of
    the transaction that created it removes it only if nobody touched it since."""
    if created:
        db.session.info.setdefault(_NEW_FILES, []).append((store, digest, marker))


@event.listens_for(Session, "after_commit")
def _keep_new_files(session):
    session.info.pop(_NEW_FILES, None)


@event.listens_for(Session, "after_soft_rollback")
def _drop_new_files(session, previous_transaction):
    if previous_transaction.nested or previous_transaction.parent is not None:
        return  # a savepoint: the files may still be kept by the enclosing transaction
    for store, digest, marker in session.info.pop(_NEW_FILES, []):
        with contextlib.suppress(Exception):  # a file left over is harmless; a failed rollback is not
            store.discard(digest, marker)


def _write(digest: str, data: bytes) -> None:
    store = storage()
    created, marker = store.write(digest, data)
    written_for_transaction(store, digest, created, marker)


@dataclass(frozen=True)
class CheckedFile:
    """An upload that passed the checks: its display name, type by content, and the bytes to keep
    (images re-encoded), with their SHA-256."""

    name: str
    content_type: str
    data: bytes
    sha256: str
    width: int | None = None
    height: int | None = None


def _refusal(types: tuple[str, ...], name: str) -> str:
    if set(types) <= {JPEG, PNG}:
        return _l("%(name)s is not a JPEG or PNG picture (checked by its content).", name=name)
    return _l("%(name)s is not a PDF, JPEG or PNG file (checked by its content).", name=name)


def check(data: bytes, raw_name: str | None, *, field: str | None, max_mb: int | None = None,
          types: tuple[str, ...] = (PDF, JPEG, PNG)) -> CheckedFile:
    """The one check of every uploaded file: not empty, within `max_mb` (the uploads setting by
    default), of one of `types` by its first bytes, and for images decodable — they are re-encoded.
    Raises Invalid naming `field` (TooLarge 413, UnsupportedContent 415, an empty file 422)."""
    shown = display_name(raw_name, PDF).removesuffix(".pdf")  # for messages, before the type is known
    mb = max_mb if max_mb is not None else settings.get(MAX_MB.key)
    if not data:
        raise Invalid(_l("%(name)s is empty.", name=shown), field)
    if len(data) > mb * 1024 * 1024:
        raise TooLarge(_l("%(name)s is larger than %(mb)d MB.", name=shown, mb=mb), field)
    content_type = sniff(data)
    if content_type not in types:
        raise UnsupportedContent(_refusal(types, shown), field)
    width = height = None
    if content_type in (JPEG, PNG):
        data = _clean_image(data, content_type, field, shown)
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
    return CheckedFile(display_name(raw_name, content_type), content_type, data, hashlib.sha256(data).hexdigest(),
                       width, height)


def keep(checked: CheckedFile) -> str:
    """Write the checked bytes under their hash (idempotent: the same content is stored once);
    returns the digest."""
    _write(checked.sha256, checked.data)
    return checked.sha256


def read(sha256: str) -> bytes | None:
    """The stored bytes of a digest, or None if there are none."""
    return storage().read(sha256)


def store(upload, *, uploaded_by: User | None, field: str | None = None, filename: str | None = None) -> StoredFile:
    """Check, clean and keep one uploaded file as a StoredFile row; raise Invalid (naming `field`)
    if it is refused. `upload` is a werkzeug FileStorage, a binary stream or bytes."""
    raw_name = filename if filename is not None else getattr(upload, "filename", None)
    limit = max_bytes()
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload[: limit + 1])
    else:
        data = _read_limited(getattr(upload, "stream", upload), limit)
    checked = check(data, raw_name, field=field)
    keep(checked)
    row = StoredFile(sha256=checked.sha256, size=len(checked.data), content_type=checked.content_type,
                     original_name=checked.name, uploaded_by_id=getattr(uploaded_by, "id", None))
    db.session.add(row)
    db.session.flush()
    return row


def keep_generated(data: bytes, *, content_type: str, name: str, owner: User | None) -> StoredFile:
    """Keep a document the app produced itself (a report job's PDF) in the same content-hash store.

    No sniffing or size limit: the bytes are ours, not a user's. The name is cleaned all the same.
    """
    if not data:
        raise ValueError("an empty document")
    name = unicodedata.normalize("NFKC", name or "")
    name = "".join(ch for ch in re.split(r"[\\/]", name)[-1] if unicodedata.category(ch)[0] != "C").strip(" .")
    digest = hashlib.sha256(data).hexdigest()
    _write(digest, data)
    # The column holds short types; a longer one (a spreadsheet's) is kept by the caller.
    row = StoredFile(sha256=digest, size=len(data), content_type=content_type if len(content_type) <= 40
                     else "application/octet-stream", original_name=name[:200] or "document",
                     uploaded_by_id=getattr(owner, "id", None))
    db.session.add(row)
    db.session.flush()
    return row


def send(stored: StoredFile):
    """The file as a download. Call only after checking the reader may see it."""
    return send_bytes(stored.sha256, mimetype=stored.content_type, name=stored.original_name)


def send_bytes(sha256: str, *, mimetype: str, name: str):
    """A kept file as a download, streamed through the app (whatever the storage backend); 404 if
    it is missing. Call only after checking the reader may see it."""
    # Read whole (files are small, by the size limit): no open file handle or connection outlives
    # the request.
    data = read(sha256)
    if data is None:
        abort(404)
    resp = send_file(io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=name, max_age=0,
                     etag=sha256)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp
