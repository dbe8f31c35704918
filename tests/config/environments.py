"""Environments for the child processes of the config tests: settings checks and real servers."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def child_env(var_dir: Path, **overrides: str | None) -> dict[str, str]:
    """This process's environment on a fresh var dir and the default database; None unsets."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["FORCEBRIDGE_VAR_DIR"] = str(var_dir)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def production_env(var_dir: Path, **overrides: str | None) -> dict[str, str]:
    """The production settings README.md documents ("Running in production")."""
    settings: dict[str, str | None] = {
        "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "forcebridge.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://forcebridge.example.com",
        "FORCEBRIDGE_BASE_URL": "https://forcebridge.example.com",
        "FORCEBRIDGE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "SECURE_PROXY_SSL_HEADER": "X-Forwarded-Proto",
        # Defaults in production: unset here, as an operator leaves them.
        "SECURE_SSL_REDIRECT": None, "SECURE_HSTS_SECONDS": None, "SESSION_COOKIE_SECURE": None,
        # Set in this process for the browser tests (tests/conftest.py), never in production.
        "DJANGO_ALLOW_ASYNC_UNSAFE": None,
    }
    return child_env(var_dir, **{**settings, **overrides})
