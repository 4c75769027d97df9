"""The file store under test: local disk, or a real S3 server (moto in server mode) that the
fixture starts on 127.0.0.1 on a free port and stops afterwards."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

from core import storage


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """A local S3-compatible server (`moto_server`): its endpoint URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "/moto-api/", timeout=1):  # noqa: S310 (our own local server)
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def s3_settings(endpoint: str, bucket: str) -> dict:
    return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": endpoint, "S3_BUCKET": bucket, "S3_ACCESS_KEY_ID": "test",
            "S3_SECRET_ACCESS_KEY": "test", "S3_REGION": "us-east-1", "S3_ADDRESSING_STYLE": "path"}


def new_bucket(endpoint: str) -> storage.S3Storage:
    """An S3 store over a fresh, empty bucket of the local server."""
    bucket = f"huimin-test-{uuid.uuid4().hex[:12]}"
    store = storage.from_config(s3_settings(endpoint, bucket))
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(params=["local", "s3"])
def file_store(request, app):
    """The app's file store for this test: local disk, then (a second run) S3 on the local server."""
    if request.param == "local":
        yield storage.get(app)
        return
    store = new_bucket(request.getfixturevalue("s3_server"))
    saved = app.extensions.get("storage")
    app.extensions["storage"] = store
    try:
        yield store
    finally:
        if saved is None:
            app.extensions.pop("storage", None)
        else:
            app.extensions["storage"] = saved
