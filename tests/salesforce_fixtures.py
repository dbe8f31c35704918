"""Shared Salesforce fixtures: the emulator over HTTPS, a connection made through the real
OAuth views, and a client for it. Registered by tests/conftest.py (`pytest_plugins`).

- `emulator`: one emulator per session (auto-approve on), reset before every test, with the
  Salesforce settings pointed at it and retry/poll delays shrunk so failures retry fast.
- `connection`: a Connection connected through Connect → authorize page → callback.
- `sf_client`: `SalesforceClient.for_connection(connection)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from django.test import Client
from django.urls import reverse

from connections.client import SalesforceClient
from connections.models import Connection
from sfemulator import Emulator
from syncs.models import Sync

FAST_SETTINGS = {
    "SALESFORCE_RETRY_BASE_DELAY": 0.01,
    "SALESFORCE_RETRY_MAX_DELAY": 0.05,
    "SALESFORCE_BULK_POLL_INTERVAL": 0.02,
    "SALESFORCE_BULK_POLL_MAX_INTERVAL": 0.2,
    "SALESFORCE_CONNECT_TIMEOUT": 5.0,
    "SALESFORCE_READ_TIMEOUT": 30.0,
}


@pytest.fixture(scope="session")
def emulator_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator.running(seed="none", auto_approve=True,
                          data_dir=tmp_path_factory.mktemp("sfemulator")) as running:
        yield running


@pytest.fixture
def emulator(emulator_server: Emulator, settings) -> Emulator:
    """The shared emulator, emptied, with Forcebridge's Salesforce settings pointing at it."""
    emulator_server.control.reset()
    settings.SALESFORCE_LOGIN_URL = emulator_server.login_url
    settings.SALESFORCE_SANDBOX_LOGIN_URL = emulator_server.sandbox_login_url
    settings.SALESFORCE_CA_BUNDLE = str(emulator_server.ca_path)
    settings.SALESFORCE_AUTHORIZE_URL = ""
    settings.SALESFORCE_CLIENT_ID = emulator_server.client_id
    settings.SALESFORCE_CLIENT_SECRET = emulator_server.client_secret
    for name, value in FAST_SETTINGS.items():
        setattr(settings, name, value)
    return emulator_server


def emulator_http(emulator: Emulator) -> requests.Session:
    """A plain session trusting the emulator CA (trust_env off: REQUESTS_CA_BUNDLE is set)."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_path)
    return session


def authorize(client: Client, connection: Connection, emulator: Emulator, *,
              decision: str | None = None, allow_org_change: bool = False) -> dict[str, str]:
    """Press Connect, let the emulator's authorize page answer; return the callback's params.

    `decision=None` relies on auto-approve; "allow"/"deny" posts the consent form instead.
    """
    data = {"allow_org_change": "on"} if allow_org_change else {}
    response = client.post(reverse("admin:connections_connection_connect",
                                   args=[connection.pk]), data)
    assert response.status_code == 302, response
    authorize_url = response["Location"]
    http = emulator_http(emulator)
    if decision is None:
        answer = http.get(authorize_url, allow_redirects=False, timeout=10)
    else:
        parts = urlsplit(authorize_url)
        form = dict(parse_qsl(parts.query), decision=decision)
        answer = http.post(f"{parts.scheme}://{parts.netloc}{parts.path}", data=form,
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == reverse("admin:connections_connection_oauth_callback")
    return dict(parse_qsl(back.query))


def callback(client: Client, params: dict[str, str]):
    """Deliver the authorize page's answer to Forcebridge's callback view."""
    return client.get(reverse("admin:connections_connection_oauth_callback"), params)


def connect(client: Client, connection: Connection, emulator: Emulator, **options) -> Connection:
    """The whole flow; returns the connection reloaded and asserts it is connected."""
    response = callback(client, authorize(client, connection, emulator, **options))
    assert response.status_code == 302, response
    connection.refresh_from_db()
    assert connection.status == Connection.Status.CONNECTED, connection.last_error
    return connection


@pytest.fixture
def oauth_client(db, django_user_model) -> Client:
    """A Django test client logged in as a staff user allowed to manage connections."""
    user = django_user_model.objects.create_user(
        "sf-operator", password="sf-operator-pass-1", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def connection(emulator: Emulator, oauth_client: Client) -> Connection:
    created = Connection.objects.create(name="Emulator org")
    return connect(oauth_client, created, emulator)


@pytest.fixture
def sf_client(connection: Connection) -> SalesforceClient:
    return SalesforceClient.for_connection(connection)


@pytest.fixture
def make_sync(connection, sf_client):
    """`make_sync("Contact", fields=[...], ...)`: the preset, then the overrides, saved."""
    def build(sobject: str, **overrides: Any) -> Sync:
        sync = Sync(connection=connection, name=overrides.pop("name", f"{sobject} sync"),
                    sobject=sobject)
        sync.apply_preset(sf_client.describe(sobject))
        for key, value in overrides.items():
            setattr(sync, key, value)
        sync.full_clean()
        sync.save()
        return sync
    return build
