"""Where kept files live: one interface over local disk (the default) and S3-compatible object
storage (Aliyun OSS, Tencent COS, MinIO, AWS), so several machines can share uploads and reports.

Files are content-addressed: the key of a file is the SHA-256 of its bytes, fanned out as
`ab/cd/abcd…` (under `S3_PREFIX` in a bucket). Nothing a user typed ever becomes a key or a path.
Nothing here decides who may read a file: the views check access, then stream the bytes through
the app (`core.uploads.send`).

`write` says whether it created the file and returns a marker; `discard` removes a file only if
its marker is still the one it was written with, so a transaction that rolls back removes what it
created unless another one reused the same content since (`touch` renews the marker).

Settings: `STORAGE_BACKEND` = `local` (`UPLOAD_DIR`) or `s3` (`S3_ENDPOINT_URL`, `S3_BUCKET`,
`S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`, `S3_REGION`, optional `S3_PREFIX`, `S3_ADDRESSING_STYLE`).
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from pathlib import Path

from flask import Flask, current_app

S3_SETTINGS = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "S3_REGION")
BACKENDS = ("local", "s3")


def key_of(digest: str) -> str:
    """The relative key of a digest; only a well-formed SHA-256 becomes one."""
    if not re.fullmatch(r"[0-9a-f]{64}", digest or ""):
        raise ValueError("not a SHA-256 digest")
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


class LocalStorage:
    """Files under one folder on this machine's disk (outside the web root)."""

    name = "local"

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / key_of(digest)

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def read(self, digest: str) -> bytes | None:
        path = self.path(digest)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def write(self, digest: str, data: bytes) -> tuple[bool, object]:
        """Keep `data` under `digest` (once: the same content is stored once). Returns
        (created, marker)."""
        target = self.path(digest)
        if target.exists():
            return False, self.touch(digest)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o640)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True, target.stat().st_mtime_ns

    def touch(self, digest: str):
        path = self.path(digest)
        with contextlib.suppress(OSError):
            os.utime(path)
            return path.stat().st_mtime_ns
        return None

    def discard(self, digest: str, marker) -> None:
        path = self.path(digest)
        with contextlib.suppress(OSError):
            if path.stat().st_mtime_ns == marker:
                path.unlink()


class S3Storage:
    """Objects in one bucket of an S3-compatible service, through boto3."""

    name = "s3"

    def __init__(self, *, endpoint_url: str | None, bucket: str, access_key_id: str | None,
                 secret_access_key: str | None, region: str | None, prefix: str = "",
                 addressing_style: str = "auto"):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3", endpoint_url=endpoint_url or None, region_name=region or None,
            aws_access_key_id=access_key_id or None, aws_secret_access_key=secret_access_key or None,
            config=Config(s3={"addressing_style": addressing_style or "auto"}, signature_version="s3v4",
                          retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30))

    def object_key(self, digest: str) -> str:
        return self.prefix + key_of(digest)

    def _missing(self, error) -> bool:
        code = str(error.response.get("Error", {}).get("Code", ""))
        return code in ("404", "NoSuchKey", "NotFound")

    def _marker(self, digest: str) -> str | None:
        from botocore.exceptions import ClientError

        try:
            head = self.client.head_object(Bucket=self.bucket, Key=self.object_key(digest))
        except ClientError as e:
            if self._missing(e):
                return None
            raise
        return head.get("Metadata", {}).get("written", "")

    def exists(self, digest: str) -> bool:
        return self._marker(digest) is not None

    def read(self, digest: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self.object_key(digest))
        except ClientError as e:
            if self._missing(e):
                return None
            raise
        with contextlib.closing(obj["Body"]) as body:
            return body.read()

    def write(self, digest: str, data: bytes) -> tuple[bool, object]:
        if self._marker(digest) is not None:
            return False, self.touch(digest)
        marker = uuid.uuid4().hex
        self.client.put_object(Bucket=self.bucket, Key=self.object_key(digest), Body=data,
                               ContentType="application/octet-stream", Metadata={"written": marker})
        return True, marker

    def touch(self, digest: str):
        """A new marker on the object (copied onto itself): a pending discard keeps it."""
        marker = uuid.uuid4().hex
        key = self.object_key(digest)
        self.client.copy_object(Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": key},
                                Metadata={"written": marker}, MetadataDirective="REPLACE",
                                ContentType="application/octet-stream")
        return marker

    def discard(self, digest: str, marker) -> None:
        if self._marker(digest) == marker:
            self.client.delete_object(Bucket=self.bucket, Key=self.object_key(digest))


def from_config(config) -> LocalStorage | S3Storage:
    backend = (config.get("STORAGE_BACKEND") or "local").lower()
    if backend == "local":
        return LocalStorage(config["UPLOAD_DIR"])
    if backend == "s3":
        return S3Storage(endpoint_url=config.get("S3_ENDPOINT_URL"), bucket=config["S3_BUCKET"],
                         access_key_id=config.get("S3_ACCESS_KEY_ID"),
                         secret_access_key=config.get("S3_SECRET_ACCESS_KEY"), region=config.get("S3_REGION"),
                         prefix=config.get("S3_PREFIX") or "",
                         addressing_style=config.get("S3_ADDRESSING_STYLE") or "auto")
    raise RuntimeError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def init_app(app: Flask) -> None:
    """Check the setting now, so a wrong one stops the start; the store is made on first use."""
    backend = (app.config.get("STORAGE_BACKEND") or "local").lower()
    if backend not in BACKENDS:
        raise RuntimeError(f"STORAGE_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")


def get(app: Flask | None = None) -> LocalStorage | S3Storage:
    """The app's storage (made on first use from its settings)."""
    app = app or current_app._get_current_object()
    found = app.extensions.get("storage")
    if found is None:
        found = app.extensions["storage"] = from_config(app.config)
    return found
