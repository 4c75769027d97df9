"""Sealing bids at rest: AES-GCM under keys that never enter the database.

Keys (32 bytes, base64):
- `BID_KEY`: the current key; every new sealed value is made with it.
- `BID_KEYS_OLD`: older keys, comma-separated, still read until `flask keys rotate-bid-key` has
  re-sealed everything under the current key (then they may be removed).
In development, without `BID_KEY`, the current key is generated on first use into
`instance/bid_key` (like SECRET_KEY); production (HUIMIN_ENV=production) never does that.

Every sealed value records its key id: a fingerprint of the key (`key_id`), safe to store, which
names the key without revealing it. A value with no key id (legacy) is opened by trying each
configured key. Every sealed value is bound to the row it belongs to through the associated data,
so a ciphertext moved to another bid does not decrypt.

Nothing here decides who may read a bid; bid_ops does (the bidder always, others after opening).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import threading
from dataclasses import dataclass
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


def decode_key(raw: str, name: str = "BID_KEY") -> bytes:
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise RuntimeError(f"{name} must be 32 bytes, base64-encoded") from None
    if len(key) != 32:
        raise RuntimeError(f"{name} must be 32 bytes, base64-encoded")
    return key


def new_key() -> str:
    """A fresh key, base64, for BID_KEY."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]  # key id → key, the current one first

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]

    @property
    def old_ids(self) -> list[str]:
        return [k for k in self.keys if k != self.current_id]


def keyring(app=None) -> Keyring:
    """The app's keys: the current one and the old ones still read."""
    app = app or current_app._get_current_object()
    cached = app.extensions.get("bid_keys")
    if cached is not None:
        return cached
    with _lock:
        raw = app.config.get("BID_KEY") or os.environ.get("BID_KEY")
        if raw:
            current = decode_key(raw)
        elif app.config.get("HUIMIN_ENV") == "production":
            raise RuntimeError("HUIMIN_ENV=production: BID_KEY is not set; no key is generated in production")
        else:
            current = _read_or_create_key_file(Path(app.instance_path) / "bid_key")
            if len(current) != 32:
                raise RuntimeError("instance/bid_key must hold 32 bytes, base64-encoded")
        keys = {key_id(current): current}
        old = app.config.get("BID_KEYS_OLD") or os.environ.get("BID_KEYS_OLD") or ""
        for part in re.split(r"[\s,]+", old.strip()):
            if part:
                k = decode_key(part, "each key of BID_KEYS_OLD")
                keys.setdefault(key_id(k), k)
        ring = Keyring(key_id(current), keys)
        app.extensions["bid_keys"] = ring
    return ring


def _key() -> bytes:
    """The current key."""
    return keyring().current


def key_id(key: bytes | None = None) -> str:
    """A short fingerprint naming the key (safe to store; it does not reveal the key)."""
    return hashlib.sha256(b"huimin-bid-key:" + (key or _key())).hexdigest()[:16]


def current_key_id() -> str:
    return keyring().current_id


def seal(plain: bytes, context: str) -> tuple[bytes, str]:
    """Encrypt and authenticate under the current key; returns (nonce + ciphertext, key id)."""
    ring = keyring()
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(ring.current).encrypt(nonce, plain, context.encode()), ring.current_id


def _open(key: bytes, sealed: bytes, context: str) -> bytes:
    return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context.encode())


def unseal(sealed: bytes, context: str, kid: str | None = None) -> bytes:
    """Open a sealed value with the key its id names (any configured key for a legacy value
    without an id)."""
    ring = keyring()
    if kid:
        key = ring.keys.get(kid)
        if key is None:
            raise SealError(f"sealed under key {kid}, which is neither BID_KEY nor in BID_KEYS_OLD")
        candidates = [key]
    else:
        candidates = list(ring.keys.values())
    for key in candidates:
        try:
            return _open(key, sealed, context)
        except InvalidTag:
            continue
    raise SealError("sealed value does not authenticate")


def reseal(sealed: bytes, context: str, kid: str | None) -> tuple[bytes, str]:
    """The same plain value sealed again under the current key (for the key rotation)."""
    return seal(unseal(sealed, context, kid), context)


def canonical(content: dict) -> bytes:
    """The one byte form of a bid's content that its receipt hash is taken over."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_hash(content: dict) -> str:
    return hashlib.sha256(canonical(content)).hexdigest()


def revision_context(bid_id: int, number: int) -> str:
    return f"huimin/bid/{bid_id}/revision/{number}"


def attachment_context(bid_id: int, sha256: str, part: str) -> str:
    return f"huimin/bid/{bid_id}/attachment/{sha256}/{part}"
