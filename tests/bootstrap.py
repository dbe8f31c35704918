"""Loaded by pytest (``-p tests.bootstrap``) before pytest-django reads the settings.

The suite runs with DEBUG off, like production, so it needs the secrets production needs.
They are made fresh for each run and inherited by the processes the tests start (a cluster,
an emulator), which must share them.
"""

from __future__ import annotations

import os
import secrets

from cryptography.fernet import Fernet

os.environ.setdefault("SECRET_KEY", "test-" + secrets.token_urlsafe(40))
os.environ.setdefault("FORCEBRIDGE_ENCRYPTION_KEYS", Fernet.generate_key().decode())
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("DEBUG", "false")
# The test client and the live server speak plain HTTP; production redirects it to HTTPS
# (tests/config/test_production.py checks that with this variable unset).
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
# A queue of the run's own, so a developer's running cluster never takes a test's task (the
# name is also django-q2's signing salt, so every process of the run must share it).
os.environ.setdefault("FORCEBRIDGE_QUEUE_NAME", "forcebridge-test-" + secrets.token_hex(4))
