"""Uploads: type by content, size limit, images cleaned, names never reach the file system.

Tests that keep a file run against both stores (`file_store`: local disk, and S3 on a local moto
server). Messages are checked in Chinese, the default language."""

import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound

from core import settings, storage, uploads
from core.errors import Invalid
from core.uploads import StoredFile

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PAYLOAD = b"<?php system($_GET['c']); ?>SECRET-PAYLOAD"


def png_with_metadata() -> bytes:
    img = Image.new("RGB", (32, 16), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x8825] = {2: (39.0, 54.0, 0.0)}  # GPSInfo: latitude
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "home address: 1 Secret Road")
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif, pnginfo=info)
    return buf.getvalue() + PAYLOAD


def jpeg_with_metadata(orientation=None) -> bytes:
    img = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."
    if orientation:
        exif[0x0112] = orientation
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif, quality=95)
    return buf.getvalue() + PAYLOAD


def upload(data: bytes, name: str, content_type="application/octet-stream") -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=content_type)


def test_a_pdf_is_stored_by_its_hash(app, session, make_user, file_store):
    user = make_user("provider")
    row = uploads.store(upload(PDF, "营业执照.pdf", "application/pdf"), uploaded_by=user)
    digest = hashlib.sha256(PDF).hexdigest()
    assert (row.sha256, row.size, row.content_type) == (digest, len(PDF), uploads.PDF)
    assert row.original_name == "营业执照.pdf"
    assert row.uploaded_by_id == user.id and row.created_at is not None
    assert file_store.read(digest) == PDF and uploads.read(digest) == PDF
    if file_store.name == "s3":
        head = file_store.client.head_object(Bucket=file_store.bucket, Key=f"{digest[:2]}/{digest[2:4]}/{digest}")
        assert head["ContentLength"] == len(PDF)


def test_on_local_disk_a_file_lies_under_its_hash_outside_the_web_root(app, session):
    row = uploads.store(upload(PDF, "营业执照.pdf", "application/pdf"), uploaded_by=None)
    path = storage.get(app).path(row.sha256)
    assert path.read_bytes() == PDF and path.name == row.sha256
    assert path.is_relative_to(Path(app.config["UPLOAD_DIR"]))
    assert not path.resolve().is_relative_to(Path(app.static_folder).resolve())


def test_the_same_content_twice_is_one_file_and_two_records(app, session, file_store):
    first = uploads.store(PDF, uploaded_by=None, filename="a.pdf")
    second = uploads.store(PDF, uploaded_by=None, filename="b.pdf")
    assert first.id != second.id and first.sha256 == second.sha256
    if file_store.name == "local":
        path = file_store.path(first.sha256)
        assert [p.name for p in path.parent.iterdir()] == [first.sha256]
    else:
        listed = file_store.client.list_objects_v2(Bucket=file_store.bucket)["Contents"]
        assert [o["Key"].rsplit("/", 1)[-1] for o in listed] == [first.sha256]


def test_a_download_streams_the_kept_bytes_through_the_app(app, session, file_store):
    row = uploads.store(PDF, uploaded_by=None, filename="证书.pdf")
    with app.test_request_context():
        resp = uploads.send(row)
        resp.direct_passthrough = False
        assert resp.get_data() == PDF and resp.mimetype == uploads.PDF
        assert resp.headers["Cache-Control"] == "private, no-store" and "attachment" in resp.headers[
            "Content-Disposition"]
        missing = StoredFile(sha256="0" * 64, size=1, content_type=uploads.PDF, original_name="x.pdf")
        with pytest.raises(NotFound):
            uploads.send(missing)


def test_a_rolled_back_upload_leaves_no_file_and_a_reused_one_stays(app, session, file_store):
    kept = uploads.store(PDF, uploaded_by=None, filename="kept.pdf")
    session.commit()
    other = PDF.replace(b"Catalog", b"Catalog/Lang(zh)")
    reused = uploads.store(PDF, uploaded_by=None, filename="again.pdf")
    dropped = uploads.store(other, uploaded_by=None, filename="dropped.pdf")
    assert file_store.exists(dropped.sha256) and reused.sha256 == kept.sha256
    session.rollback()
    assert file_store.read(kept.sha256) == PDF and not file_store.exists(dropped.sha256)


def test_a_file_written_then_reused_by_another_transaction_survives_the_first_rollback(app, file_store):
    digest = hashlib.sha256(b"shared").hexdigest()
    created, marker = file_store.write(digest, b"shared")
    assert created
    again, _marker = file_store.write(digest, b"shared")  # another transaction reuses it meanwhile
    assert not again
    file_store.discard(digest, marker)  # the first one rolls back: the file is someone else's now
    assert file_store.read(digest) == b"shared"


@pytest.mark.parametrize(("data", "name"), [
    (b"<html><script>alert(1)</script></html>", "licence.pdf"),
    (b"MZ\x90\x00\x03" + b"\x00" * 200, "certificate.pdf"),
    (b"%PDF-1.7\n<html>not really a pdf, no end marker</html>", "scan.pdf"),
    (b"GIF89a\x01\x00\x01\x00", "photo.png"),
    (b"just text", "notes.jpg"),
])
def test_a_file_that_claims_a_type_it_does_not_have_is_refused(app, session, data, name):
    before = session.scalar(select(func.count()).select_from(StoredFile))
    with pytest.raises(Invalid) as info:
        uploads.store(upload(data, name, "application/pdf"), uploaded_by=None, field="certificate")
    assert info.value.field == "certificate"
    assert "按文件内容检查" in str(info.value.message)
    assert session.scalar(select(func.count()).select_from(StoredFile)) == before


def test_a_file_named_wrongly_is_kept_under_its_real_type(app, session):
    row = uploads.store(upload(PDF, "scan.png", "image/png"), uploaded_by=None)
    assert row.content_type == uploads.PDF and row.original_name == "scan.pdf"


def test_the_size_limit_is_ten_megabytes_by_default(app, session):
    limit = 10 * 1024 * 1024
    assert uploads.max_bytes() == limit
    too_big = PDF[:-6] + b"0" * (limit + 1 - len(PDF)) + b"%%EOF\n"
    assert len(too_big) == limit + 1
    with pytest.raises(Invalid) as info:
        uploads.store(upload(too_big, "big.pdf"), uploaded_by=None, field="file")
    assert "超过 10 MB" in str(info.value.message)
    just_fits = too_big[:limit - 6] + b"%%EOF\n"
    assert uploads.store(upload(just_fits, "fits.pdf"), uploaded_by=None).size == limit


def test_the_size_limit_is_a_setting(app, session, make_user):
    settings.change(uploads.MAX_MB.key, 1, make_user("admin"))
    two_megabytes = PDF[:-6] + b"0" * (2 * 1024 * 1024) + b"%%EOF\n"
    with pytest.raises(Invalid) as info:
        uploads.store(two_megabytes, uploaded_by=None, filename="x.pdf")
    assert "超过 1 MB" in str(info.value.message)


def test_an_empty_file_is_refused(app, session):
    with pytest.raises(Invalid, match="空文件"):
        uploads.store(upload(b"", "empty.pdf"), uploaded_by=None)


def test_a_png_comes_out_without_metadata_or_trailing_payload(app, session, file_store):
    original = png_with_metadata()
    assert b"SpyCam" in original and b"Secret Road" in original
    row = uploads.store(upload(original, "photo.png"), uploaded_by=None)
    stored = file_store.read(row.sha256)
    assert row.content_type == uploads.PNG and row.sha256 == hashlib.sha256(stored).hexdigest()
    for leak in (b"SpyCam", b"Secret Road", b"SECRET-PAYLOAD", b"eXIf", b"tEXt", b"zTXt", b"iTXt"):
        assert leak not in stored, leak
    assert stored.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(stored)) as clean, Image.open(io.BytesIO(original)) as before:
        assert not clean.getexif() and "Comment" not in clean.info
        assert clean.size == before.size and clean.convert("RGB").tobytes() == before.convert("RGB").tobytes()


def test_a_jpeg_comes_out_without_exif_and_upright(app, session, file_store):
    original = jpeg_with_metadata(orientation=6)  # "rotate 90° clockwise to view"
    row = uploads.store(upload(original, "IMG_0001.JPG"), uploaded_by=None)
    stored = file_store.read(row.sha256)
    assert b"SpyCam" not in stored and b"SECRET-PAYLOAD" not in stored and b"Exif\x00\x00" not in stored
    assert stored.endswith(b"\xff\xd9")
    with Image.open(io.BytesIO(stored)) as clean:
        assert clean.format == "JPEG" and not clean.getexif()
        assert clean.size == (20, 40)  # turned upright before the orientation tag was dropped
    assert row.original_name == "IMG_0001.jpg"


def test_a_broken_image_is_refused(app, session):
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with pytest.raises(Invalid, match="不是可读取的 PNG 图片"):
        uploads.store(upload(broken, "broken.png"), uploaded_by=None)


def test_an_image_with_too_many_pixels_is_refused_before_decoding(app, session, monkeypatch):
    monkeypatch.setattr(uploads, "MAX_PIXELS", 100)
    buf = io.BytesIO()
    Image.new("L", (20, 20)).save(buf, "PNG")
    with pytest.raises(Invalid, match="像素过多"):
        uploads.store(buf.getvalue(), uploaded_by=None, filename="big.png")


@pytest.mark.parametrize(("name", "shown"), [
    ("../../../../etc/passwd.pdf", "passwd.pdf"),
    ("..\\..\\windows\\system32\\evil.pdf", "evil.pdf"),
    ("/var/www/static/shell.php", "shell.pdf"),
    ("report\x00.php.pdf", "report.php.pdf"),
    ("bad\r\nX-Injected: 1.pdf", "badX-Injected: 1.pdf"),
    ("..", "document.pdf"),
    ("", "document.pdf"),
    (None, "document.pdf"),
])
def test_path_tricks_in_names_never_reach_the_file_system(app, session, tmp_path, name, shown):
    root = Path(app.config["UPLOAD_DIR"])
    before = set(root.rglob("*"))
    row = uploads.store(PDF + name.encode("utf-8", "replace") if name else PDF, uploaded_by=None, filename=name)
    written = set(root.rglob("*")) - before
    assert row.original_name == shown
    path = storage.get(app).path(row.sha256)
    assert path.resolve().is_relative_to(root.resolve())
    assert all(p.resolve().is_relative_to(root.resolve()) for p in written)
    assert all(p.name == row.sha256 or len(p.name) == 2 for p in written)  # hash fan-out folders and the file


def test_a_stored_digest_is_checked_before_it_becomes_a_path_or_key(app, session, file_store):
    row = StoredFile(sha256="../../etc/passwd", size=1, content_type=uploads.PDF, original_name="x.pdf")
    with pytest.raises(ValueError):
        file_store.read(row.sha256)
    with pytest.raises(ValueError):
        file_store.write(row.sha256, b"x")
    with app.test_request_context(), pytest.raises(ValueError):
        uploads.send(row)
