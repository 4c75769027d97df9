"""Static files served fast: each URL built by `url_for('static', ...)` carries the file's content
hash (``?v=…``), so a browser may keep the file for a year without asking again
(``Cache-Control: max-age=31536000, immutable``); a changed file has a new URL. WhiteNoise serves
them, gzip-compressed for browsers that accept it, from a copy of static/ made once per content
(a folder named by the hash of every file, shared by the processes of one machine)."""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from flask import Flask

EXTENSION = "huimin.static_hashes"
MAX_AGE = 365 * 24 * 3600
# Compressing these pays; images and fonts are compressed already.
COMPRESSIBLE = {".css", ".js", ".svg", ".json", ".txt", ".map", ".html"}


def content_hashes(folder: Path) -> dict[str, str]:
    """{relative path: first 12 hex digits of its SHA-256} for every file under `folder`."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.endswith(".gz"):
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return out


def build(folder: Path, hashes: dict[str, str]) -> Path:
    """A copy of `folder` with a .gz beside each compressible file, in a folder named by the
    contents (built once; a finished folder is reused)."""
    digest = hashlib.sha256(repr(sorted(hashes.items())).encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"huimin-static-{digest}"
    if target.is_dir():
        return target
    work = Path(tempfile.mkdtemp(prefix="huimin-static-build-"))
    for relative in hashes:
        source, dest = folder / relative, work / relative
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, dest)
        if source.suffix in COMPRESSIBLE and source.stat().st_size > 512:
            data = gzip.compress(source.read_bytes(), compresslevel=9, mtime=0)
            if len(data) < source.stat().st_size:
                (work / (relative + ".gz")).write_bytes(data)
    try:
        os.rename(work, target)
    except OSError:  # another process finished the same folder first
        shutil.rmtree(work, ignore_errors=True)
    return target


def init_app(app: Flask) -> None:
    from whitenoise import WhiteNoise

    from core.security import protective_headers

    folder = Path(app.static_folder)
    hashes = content_hashes(folder)
    app.extensions[EXTENSION] = hashes

    @app.url_defaults
    def _fingerprint(endpoint, values):
        if endpoint == "static" and "v" not in values:
            digest = app.extensions[EXTENSION].get(values.get("filename", ""))
            if digest:
                values["v"] = digest

    prefix = (app.static_url_path or "/static").strip("/") + "/"
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=str(build(folder, hashes)), prefix=prefix,
                              max_age=MAX_AGE, immutable_file_test=lambda path, url: True,
                              add_headers_function=_add_headers(protective_headers()))


def _add_headers(headers):
    def add(response_headers, path, url):
        for name, value in headers:
            response_headers[name] = value
    return add
