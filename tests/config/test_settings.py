"""Start-up validation: bad configuration stops Django with a message naming the variable."""

from __future__ import annotations

import pytest

from tests.config.environments import child_env, production_env
from tests.conftest import run_manage

SETUP = ["-c", "import django; django.setup(); print('started')"]


def test_valid_configuration_starts(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "started" in proc.stdout


@pytest.mark.parametrize(
    "url",
    ["mysql://root@127.0.0.1/test", "not a url at all", "sqlite://"],
)
def test_bad_database_url_names_the_variable(tmp_path, url):
    proc = run_manage(SETUP, child_env(tmp_path, DATABASE_URL=url))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL" in proc.stderr


def test_missing_production_encryption_key_refuses_to_start(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path, DEBUG="false", FORCEBRIDGE_ENCRYPTION_KEYS=None))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: FORCEBRIDGE_ENCRYPTION_KEYS: required" in proc.stderr
    assert not (tmp_path / "encryption_key").exists()


def test_invalid_encryption_key_is_named_by_position(tmp_path):
    from cryptography.fernet import Fernet

    keys = f"{Fernet.generate_key().decode()},not-a-key"
    proc = run_manage(SETUP, child_env(tmp_path, FORCEBRIDGE_ENCRYPTION_KEYS=keys))
    assert proc.returncode != 0
    assert "FORCEBRIDGE_ENCRYPTION_KEYS: key #2 is not a valid Fernet key" in proc.stderr


def test_missing_production_secret_key_refuses_to_start(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path, DEBUG="false", SECRET_KEY=None))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY: required" in proc.stderr


def test_unclear_boolean_is_refused(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path, DEBUG="ture"))
    assert proc.returncode != 0
    assert "DEBUG: expected true/false" in proc.stderr


def test_bad_redis_url_names_the_variable(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path, REDIS_URL="http://127.0.0.1:6379"))
    assert proc.returncode != 0
    assert "ImproperlyConfigured: REDIS_URL" in proc.stderr


def test_demo_mode_generates_keys_once_and_keeps_them(tmp_path):
    env = child_env(tmp_path, DEBUG="true", SECRET_KEY=None, FORCEBRIDGE_ENCRYPTION_KEYS=None)
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
    proc = run_manage(check, child_env(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite3"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["wal", "30000"]


@pytest.mark.parametrize(("name", "value", "accepted"), [
    # Not a whole number.
    ("FORCEBRIDGE_WORKERS", "two", "a whole number ≥ 1"),
    ("FORCEBRIDGE_TASK_TIMEOUT", "1.5", "a whole number ≥ 1"),
    ("FORCEBRIDGE_LOG_RETENTION_DAYS", "zero", "a whole number from 1 to 3650"),
    ("FORCEBRIDGE_BULK_THRESHOLD", "50k", "a whole number ≥ 0"),
    # Zero, negative or past its range.
    ("FORCEBRIDGE_WORKERS", "0", "a whole number ≥ 1"),
    ("FORCEBRIDGE_TASK_TIMEOUT", "-60", "a whole number ≥ 1"),
    ("FORCEBRIDGE_DISPATCH_SECONDS", "0", "a whole number from 1 to 3600"),
    ("FORCEBRIDGE_QUOTA_RETRY_MINUTES", "99999", "a whole number from 1 to 1440"),
    ("FORCEBRIDGE_SYNC_OVERLAP_SECONDS", "-1", "a whole number from 0 to 86400"),
    ("FORCEBRIDGE_BUDGET_RECHECK_MINUTES", "0", "a whole number from 1 to 1440"),
    ("FORCEBRIDGE_API_RATE_LIMIT", "0", "a whole number from 1 to 1000000"),
    ("FORCEBRIDGE_API_RATE_LIMIT", "fast", "a whole number from 1 to 1000000"),
    # Not one of the accepted names.
    ("LOG_LEVEL", "LOUD", "one of CRITICAL, FATAL, ERROR, WARN, WARNING, INFO, DEBUG, NOTSET"),
    ("FORCEBRIDGE_QUEUE_NAME", "my queue", "letters, digits and - _ . : only"),
])
def test_a_bad_value_names_the_variable_the_value_and_what_is_accepted(tmp_path, name, value,
                                                                       accepted):
    proc = run_manage(SETUP, child_env(tmp_path, **{name: value}))
    assert proc.returncode != 0
    assert f"ImproperlyConfigured: {name}: expected {accepted}, got {value!r}" in proc.stderr


@pytest.mark.parametrize("command", [["check"], ["qcluster"], ["serve"], ["runserver"]])
def test_every_entry_point_refuses_to_start_with_a_bad_setting(tmp_path, command):
    proc = run_manage(["manage.py", *command], child_env(tmp_path, FORCEBRIDGE_WORKERS="-2"))
    assert proc.returncode != 0
    assert "FORCEBRIDGE_WORKERS: expected a whole number ≥ 1, got '-2'" in proc.stderr


def test_settings_are_read_once_with_their_defaults(tmp_path):
    show = ["-c", "import django; django.setup(); from django.conf import settings as s; "
            "print(s.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT, s.FORCEBRIDGE_LOG_RETENTION_DAYS, "
            "s.Q_CLUSTER['workers'], s.LOGGING['root']['level'])"]
    proc = run_manage(show, child_env(tmp_path, FORCEBRIDGE_TASK_TIMEOUT="100", LOG_LEVEL="warning",
                                 FORCEBRIDGE_LOG_RETENTION_DAYS=None, FORCEBRIDGE_WORKERS="3"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["120", "30", "3", "WARNING"]


@pytest.mark.parametrize(("logs", "runs", "kept"), [
    (None, None, "30 90"),     # the defaults: runs outlive their logs
    ("120", None, "120 120"),  # unset, the run retention follows a longer log retention
    ("120", "400", "120 400"),
])
def test_runs_are_kept_at_least_as_long_as_their_logs(tmp_path, logs, runs, kept):
    show = ["-c", "import django; django.setup(); from django.conf import settings as s; "
            "print(s.FORCEBRIDGE_LOG_RETENTION_DAYS, s.FORCEBRIDGE_RUN_RETENTION_DAYS)"]
    proc = run_manage(show, child_env(tmp_path, FORCEBRIDGE_LOG_RETENTION_DAYS=logs,
                                      FORCEBRIDGE_RUN_RETENTION_DAYS=runs))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == kept


def test_a_run_retention_below_a_set_log_retention_names_both(tmp_path):
    proc = run_manage(SETUP, child_env(tmp_path, FORCEBRIDGE_LOG_RETENTION_DAYS="120",
                                       FORCEBRIDGE_RUN_RETENTION_DAYS="90"))
    assert proc.returncode != 0
    assert ("ImproperlyConfigured: FORCEBRIDGE_RUN_RETENTION_DAYS: expected a whole number "
            "from 120 (FORCEBRIDGE_LOG_RETENTION_DAYS) to 3650, got '90'") in proc.stderr


def test_check_deploy_with_the_production_settings_has_nothing_to_say(tmp_path):
    proc = run_manage(["manage.py", "check", "--deploy", "--fail-level", "DEBUG"],
                      production_env(tmp_path))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout
    assert proc.stderr == ""


def test_hsts_and_the_ssl_redirect_can_be_turned_off(tmp_path):
    proc = run_manage(["manage.py", "check", "--deploy"],
                      production_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0"))
    assert proc.returncode == 0, proc.stderr
    assert "security.W004" in proc.stderr and "security.W008" in proc.stderr
