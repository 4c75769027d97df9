"""The file store: report PDFs written and downloaded through it on both backends (local disk, S3
on a local moto server), two app servers sharing one bucket, and the settings that choose it."""

from __future__ import annotations

import pytest

from core import storage, uploads
from core.jobs import operations as jobs
from tests.support.storage import new_bucket, s3_settings

KIND = "storage_test_document"


@pytest.fixture
def document_kind(app, monkeypatch):
    def render(params, progress):
        progress(0.5, "排版")
        return f"简报-{params['n']}.pdf", "application/pdf", f"%PDF-1.4 简报 {params['n']}\n%%EOF".encode()

    jobs.register_job(app, KIND, render, label="测试简报", officers_read=False)
    monkeypatch.setitem(app.config, "JOBS_BACKEND", "manual")
    yield
    jobs.kinds(app).pop(KIND, None)


def test_a_report_is_kept_in_the_store_and_downloaded_only_by_its_reader(document_kind, file_store, make_user,
                                                                          session, client, login):
    owner = make_user("provider")
    job, _created = jobs.request_job(KIND, {"n": 7}, user=owner, title="简报七")
    assert jobs.run_job(job.id) == jobs.JobState.DONE
    job = session.get(jobs.ReportJob, job.id, populate_existing=True)
    body = "%PDF-1.4 简报 7\n%%EOF".encode()
    assert file_store.read(job.file.sha256) == body

    login(make_user("provider"))  # someone else: as if there were no such report
    assert client.get(f"/reports/{job.id}/download").status_code == 404
    client.post("/logout")
    login(owner)
    got = client.get(f"/reports/{job.id}/download")
    assert got.status_code == 200 and got.data == body and got.mimetype == "application/pdf"
    assert got.headers["Cache-Control"] == "private, no-store"


def test_a_report_whose_file_is_gone_from_the_store_answers_404(document_kind, file_store, make_user, session,
                                                               client, login):
    owner = login(make_user("provider"))
    job, _created = jobs.request_job(KIND, {"n": 8}, user=owner)
    jobs.run_job(job.id)
    job = session.get(jobs.ReportJob, job.id, populate_existing=True)
    file_store.discard(job.file.sha256, marker=_marker(file_store, job.file.sha256))
    assert not file_store.exists(job.file.sha256)
    assert client.get(f"/reports/{job.id}/download").status_code == 404


def _marker(store, digest):
    if store.name == "local":
        return store.path(digest).stat().st_mtime_ns
    return store._marker(digest)


def test_two_app_servers_share_one_bucket(make_app, s3_server, session):
    """A file kept through one server is read through another: nothing lives on one machine."""
    bucket = new_bucket(s3_server).bucket
    server_a = make_app(**s3_settings(s3_server, bucket), UPLOAD_DIR="/nonexistent/a")
    server_b = make_app(**s3_settings(s3_server, bucket), UPLOAD_DIR="/nonexistent/b")
    pdf = b"%PDF-1.4 shared between servers\n%%EOF\n"
    with server_a.app_context():
        assert isinstance(storage.get(), storage.S3Storage)
        row = uploads.store(pdf, uploaded_by=None, filename="共享.pdf")
        digest = row.sha256
    with server_b.app_context():
        assert uploads.read(digest) == pdf


def test_the_backend_is_a_setting_and_a_wrong_one_stops_the_start(make_app):
    local = make_app(STORAGE_BACKEND="local")
    with local.app_context():
        assert isinstance(storage.get(), storage.LocalStorage)
        assert str(storage.get().root) == local.config["UPLOAD_DIR"]
    with pytest.raises(RuntimeError, match="STORAGE_BACKEND"):
        make_app(STORAGE_BACKEND="ftp")
