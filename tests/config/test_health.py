"""/healthz answers 200 when database and broker answer, 503 otherwise; all else needs a login
(the inbound API its own key)."""

from __future__ import annotations

import json
import os

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import run_manage

CALL_HEALTHZ = (
    "import django; django.setup(); from django.test import Client; {prepare}"
    "r = Client().get('/healthz'); print(r.status_code); print(r.content.decode())"
)
MIGRATE = "from django.core.management import call_command; call_command('migrate', verbosity=0); "
CLOSED_PORT = "1"  # nothing listens on port 1 of the loopback


@pytest.mark.django_db
def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert response["Cache-Control"].startswith("max-age=0")


def _healthz_in_child(tmp_path, prepare: str = "", **env_overrides: str) -> tuple[int, dict]:
    env = dict(os.environ, FORCEBRIDGE_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    env.update(env_overrides)
    proc = run_manage(["-c", CALL_HEALTHZ.format(prepare=prepare)], env)
    assert proc.returncode == 0, proc.stderr
    status, body = proc.stdout.split("\n", 1)
    return int(status), json.loads(body)


def test_healthz_503_when_database_is_down(tmp_path):
    status, body = _healthz_in_child(
        tmp_path,
        DATABASE_URL=f"postgres://postgres@127.0.0.1:{CLOSED_PORT}/test",
        REDIS_URL=os.environ.get("REDIS_URL", ""),
    )
    assert status == 503
    assert body["status"] == "unavailable"
    assert body["database"] == {"ok": False, "info": "OperationalError"}


def test_healthz_503_when_broker_is_down(tmp_path):
    status, body = _healthz_in_child(
        tmp_path,
        prepare=MIGRATE,
        DATABASE_URL=f"sqlite:///{tmp_path}/health.sqlite3",
        REDIS_URL=f"redis://127.0.0.1:{CLOSED_PORT}/0",
    )
    assert status == 503
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["info"] == "ConnectionError"


def test_healthz_503_when_database_is_not_migrated(tmp_path):
    status, body = _healthz_in_child(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3")
    assert status == 503
    assert body["database"] == {"ok": False, "info": "OperationalError"}


def _plain_urls(resolver: URLResolver, prefix: str = "") -> list[str]:
    """Every URL of the project that takes no argument."""
    urls = []
    for entry in resolver.url_patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            urls += _plain_urls(entry, pattern)
        elif isinstance(entry, URLPattern) and "<" not in pattern and "(?P" not in pattern:
            urls.append("/" + pattern.lstrip("^").rstrip("$"))
    return urls


@pytest.mark.django_db
def test_every_other_url_redirects_anonymous_users_to_login(client):
    login = reverse("admin:login")
    urls = [u for u in _plain_urls(get_resolver()) if u not in {"/healthz", login}]
    # The inbound API authenticates its own keys: 401, never a page or a login redirect.
    api = [u for u in urls if u.startswith("/api/v1/")]
    assert len(api) == 4
    for url in api:
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code == 401 and "WWW-Authenticate" in response, url
    urls = [u for u in urls if u not in api]
    assert "/admin/" in urls and "/" in urls and "/admin/django_q/schedule/" in urls
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(login), (url, response["Location"])
