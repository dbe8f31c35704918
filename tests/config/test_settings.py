"""Start-up validation: bad configuration stops Django with a message naming the variable."""

from __future__ import annotations

import os

import pytest

from tests.conftest import run_manage

SETUP = ["-c", "import django; django.setup(); print('started')"]


def _env(tmp_path, **overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["FORCEBRIDGE_VAR_DIR"] = str(tmp_path)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def test_valid_configuration_starts(tmp_path):
    proc = run_manage(SETUP, _env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "started" in proc.stdout


@pytest.mark.parametrize(
    "url",
    ["mysql://root@127.0.0.1/test", "not a url at all", "sqlite://"],
)
def test_bad_database_url_names_the_variable(tmp_path, url):
    proc = run_manage(SETUP, _env(tmp_path, DATABASE_URL=url))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL" in proc.stderr


def test_missing_production_encryption_key_refuses_to_start(tmp_path):
    proc = run_manage(SETUP, _env(tmp_path, DEBUG="false", FORCEBRIDGE_ENCRYPTION_KEYS=None))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: FORCEBRIDGE_ENCRYPTION_KEYS: required" in proc.stderr
    assert not (tmp_path / "encryption_key").exists()


def test_invalid_encryption_key_is_named_by_position(tmp_path):
    from cryptography.fernet import Fernet

    keys = f"{Fernet.generate_key().decode()},not-a-key"
    proc = run_manage(SETUP, _env(tmp_path, FORCEBRIDGE_ENCRYPTION_KEYS=keys))
    assert proc.returncode != 0
    assert "FORCEBRIDGE_ENCRYPTION_KEYS: key #2 is not a valid Fernet key" in proc.stderr


def test_missing_production_secret_key_refuses_to_start(tmp_path):
    proc = run_manage(SETUP, _env(tmp_path, DEBUG="false", SECRET_KEY=None))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY: required" in proc.stderr


def test_unclear_boolean_is_refused(tmp_path):
    proc = run_manage(SETUP, _env(tmp_path, DEBUG="ture"))
    assert proc.returncode != 0
    assert "DEBUG: expected true/false" in proc.stderr


def test_bad_redis_url_names_the_variable(tmp_path):
    proc = run_manage(SETUP, _env(tmp_path, REDIS_URL="http://127.0.0.1:6379"))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: REDIS_URL" in proc.stderr


def test_demo_mode_generates_keys_once_and_keeps_them(tmp_path):
    env = _env(tmp_path, DEBUG="true", SECRET_KEY=None, FORCEBRIDGE_ENCRYPTION_KEYS=None)
    show = ["-c", "import django; django.setup(); from django.conf import settings; "
            "print(settings.FORCEBRIDGE_ENCRYPTION_KEYS[0])"]
    first = run_manage(show, env)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / "encryption_key"
    assert key_file.read_text().strip() == first.stdout.strip()
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    second = run_manage(show, env)
    assert second.stdout == first.stdout


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    check = ["-c", "import django; django.setup(); from django.db import connection; "
             "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]); "
             "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"]
    proc = run_manage(check, _env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["wal", "30000"]
