"""One emulator per test session, reset before each test; clients built as production does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from simple_salesforce import Salesforce

from sfemulator import Emulator

API_VERSION = "59.0"


def http_session(emulator: Emulator) -> requests.Session:
    """A requests session that trusts the emulator CA and ignores REQUESTS_CA_BUNDLE."""
    session = requests.Session()
    session.trust_env = False
    session.verify = str(emulator.ca_path)
    return session


def salesforce(emulator: Emulator, token: dict[str, Any],
               session: requests.Session | None = None) -> Salesforce:
    return Salesforce(instance_url=token["instance_url"], session_id=token["access_token"],
                      version=API_VERSION, session=session or http_session(emulator))


@pytest.fixture(scope="session")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator.running(seed="none", data_dir=tmp_path_factory.mktemp("sfemulator")) as org:
        yield org


@pytest.fixture
def org(emulator: Emulator) -> Emulator:
    """The shared emulator, emptied and with default settings."""
    emulator.control.reset()
    return emulator


@pytest.fixture
def http(org: Emulator) -> requests.Session:
    return http_session(org)


@pytest.fixture
def token(org: Emulator) -> dict[str, Any]:
    """A session minted through the control API (OAuth itself is tested in test_oauth.py)."""
    return org.control.session()


@pytest.fixture
def sf(org: Emulator, token: dict[str, Any], http: requests.Session) -> Salesforce:
    return salesforce(org, token, http)


class Api:
    """Raw REST calls for what simple-salesforce has no method for."""

    def __init__(self, org: Emulator, token: dict[str, Any], http: requests.Session) -> None:
        self.base = f"{org.base_url}/services/data/v{API_VERSION}/"
        self.http = http
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.http.request(method, self.base + path, headers=headers, **kwargs)


@pytest.fixture
def api(org: Emulator, token: dict[str, Any], http: requests.Session) -> Api:
    return Api(org, token, http)


def error_of(response: requests.Response) -> tuple[int, str, str]:
    """(status, errorCode, message) of a Salesforce error array."""
    body = response.json()
    assert isinstance(body, list) and len(body) == 1, body
    return response.status_code, body[0]["errorCode"], body[0]["message"]
