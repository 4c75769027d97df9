"""Sealing bids at rest: AES-GCM under a key that never enters the database.

The key comes from the environment (`BID_KEY`, 32 bytes base64), else from `instance/bid_key`,
generated on first use like SECRET_KEY. Every sealed value is bound to the row it belongs to
through the associated data, so a ciphertext moved to another bid does not decrypt.

Nothing here decides who may read a bid; bid_ops does (the bidder always, others after opening).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

NONCE_BYTES = 12
_lock = threading.Lock()


class SealError(Exception):
    """A sealed value could not be opened (wrong key, or altered bytes)."""


def _read_or_create_key_file(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
        tmp.write_text(base64.b64encode(AESGCM.generate_key(bit_length=256)).decode())
        tmp.chmod(0o600)
        try:
            os.link(tmp, path)  # atomic: a concurrent first use keeps whichever key landed first
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return base64.b64decode(path.read_text().strip())


def _key() -> bytes:
    app = current_app._get_current_object()
    cached = app.extensions.get("bid_key")
    if cached is not None:
        return cached
    with _lock:
        raw = app.config.get("BID_KEY") or os.environ.get("BID_KEY")
        key = base64.b64decode(raw) if raw else _read_or_create_key_file(Path(app.instance_path) / "bid_key")
        if len(key) != 32:
            raise RuntimeError("BID_KEY must be 32 bytes, base64-encoded")
        app.extensions["bid_key"] = key
    return key


def key_id(key: bytes | None = None) -> str:
    """A short fingerprint naming the key (safe to store; it does not reveal the key)."""
    return hashlib.sha256(b"huimin-bid-key:" + (key or _key())).hexdigest()[:16]


def seal(plain: bytes, context: str) -> tuple[bytes, str]:
    """Encrypt and authenticate; returns (nonce + ciphertext, key id)."""
    key = _key()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plain, context.encode()), key_id(key)


def unseal(sealed: bytes, context: str, kid: str | None = None) -> bytes:
    key = _key()
    if kid is not None and kid != key_id(key):
        raise SealError(f"sealed under key {kid}, which is not the configured key")
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())
    except InvalidTag:
        raise SealError("sealed value does not authenticate") from None


def canonical(content: dict) -> bytes:
    """The one byte form of a bid's content that its receipt hash is taken over."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def revision_context(bid_id: int, number: int) -> str:
    return f"huimin/bid/{bid_id}/revision/{number}"


def attachment_context(bid_id: int, sha256: str, part: str) -> str:
    return f"huimin/bid/{bid_id}/attachment/{sha256}/{part}"
