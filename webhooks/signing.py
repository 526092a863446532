"""Webhook secrets (``whsec_`` + base64 of 32 random bytes), kept encrypted at rest, and the
Standard Webhooks signature (``v1,`` + base64 HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``).

Encryption is ``cryptography``'s Fernet (AES-128-CBC + HMAC-SHA256) under ``WEBHOOK_SECRET_KEY``:
one or more Fernet keys, comma separated; the first encrypts, every one decrypts (rotation).
Without it a key is derived from ``SECRET_KEY`` with HKDF-SHA256 (documented in
docs/api-notes/webhooks.md): rotating ``SECRET_KEY`` then makes stored secrets unreadable.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Sequence

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


@functools.cache
def _fernet(configured: str, secret_key: str) -> MultiFernet:
    keys = [k.strip() for k in configured.split(",") if k.strip()]
    if not keys:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"webhook-secrets"
        ).derive(secret_key.encode())
        keys = [base64.urlsafe_b64encode(derived).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def _box() -> MultiFernet:
    return _fernet(settings.WEBHOOK_SECRET_KEY, settings.SECRET_KEY)


def encrypt(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str:
    return _box().decrypt(token.encode()).decode()


def signature(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one attempt: one ``v1,…`` per secret,
    space separated (two during a rotation's overlap; a receiver accepts any that it can check)."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets
    )


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))
