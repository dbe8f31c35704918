"""Secrets that demo mode generates once and keeps in ``var/``, and the encryption-key check."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured


def demo_secret(path: Path, kind: str) -> str:
    """Return the secret kept at *path*, creating it (mode 0600) on first use.

    1. If the file exists, its content is the secret (so restarts keep sessions and can
       still decrypt stored tokens).
    2. Otherwise generate a Django secret key or a Fernet key and write it atomically.
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = Fernet.generate_key().decode() if kind == "fernet" else secrets.token_urlsafe(50)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value)
    os.replace(tmp, path)
    return value


def validate_fernet_keys(raw: str) -> list[str]:
    """Split the comma list and check each key is a valid Fernet key (first one encrypts)."""
    keys = [k.strip() for k in raw.split(",") if k.strip()]
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"FORCEBRIDGE_ENCRYPTION_KEYS: key #{position} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes)"
            ) from exc
    if not keys:
        raise ImproperlyConfigured("FORCEBRIDGE_ENCRYPTION_KEYS: no key given")
    return keys
