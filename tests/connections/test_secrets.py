"""Secrets at rest (MultiFernet, rotation, re-encryption) and secrets never shown or logged."""

from __future__ import annotations

import logging
import traceback

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection as db
from django.views.debug import ExceptionReporter

from connections import oauth
from connections.client import SalesforceClient
from connections.crypto import SecretUnreadable
from connections.errors import AuthError, SalesforceError, Transient
from connections.models import Connection, PendingAuthorization
from tests.salesforce_fixtures import authorize, callback, emulator_http

pytestmark = pytest.mark.django_db


def _raw_columns(connection: Connection) -> tuple[str, ...]:
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token_encrypted, refresh_token_encrypted FROM "
                       "connections_connection WHERE id = %s", [connection.pk])
        return cursor.fetchone()


def test_tokens_are_encrypted_at_rest(connection):
    raw = _raw_columns(connection)
    assert connection.access_token not in "".join(raw)
    assert connection.refresh_token not in "".join(raw)
    assert all(value.startswith("gAAAAA") for value in raw)  # Fernet tokens


def test_key_rotation_keeps_old_rows_readable_and_reencrypt_moves_them(connection, settings,
                                                                      capsys):
    old_key = settings.FORCEBRIDGE_ENCRYPTION_KEYS[0]
    connection.client_secret = "own-client-secret"
    connection.save()
    pending = PendingAuthorization.begin(connection, None, "https://fb.example/cb", False)
    secrets = {"access_token": connection.access_token,
               "refresh_token": connection.refresh_token, "client_secret": "own-client-secret"}
    verifier = pending.code_verifier
    new_key = Fernet.generate_key().decode()
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [new_key, old_key]
    assert Connection.objects.get(pk=connection.pk).access_token == secrets["access_token"]

    call_command("reencrypt_secrets")
    assert "Re-encrypted the secrets of 2 row(s)." in capsys.readouterr().out

    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [new_key]
    stored = Connection.objects.get(pk=connection.pk)
    assert {name: getattr(stored, name) for name in secrets} == secrets
    assert PendingAuthorization.objects.get(pk=pending.pk).code_verifier == verifier
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [old_key]
    for name in secrets:
        with pytest.raises(SecretUnreadable):
            getattr(Connection.objects.get(pk=connection.pk), name)
    with pytest.raises(SecretUnreadable):
        _ = PendingAuthorization.objects.get(pk=pending.pk).code_verifier


def test_reencrypt_refuses_when_a_key_is_missing(connection, settings):
    settings.FORCEBRIDGE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="keep the old key"):
        call_command("reencrypt_secrets")


def test_no_secret_in_pages_logs_or_errors(emulator, oauth_client, caplog):
    """Run every flow that touches tokens, then look for any token anywhere it could leak."""
    caplog.set_level(logging.DEBUG)
    pages: list[str] = []
    errors: list[str] = []
    verifiers: list[str] = []

    def visit(response) -> None:
        pages.append(response.content.decode())
        if response.status_code == 302:
            pages.append(oauth_client.get(response["Location"]).content.decode())

    created = Connection.objects.create(name="Leaky?")
    params = authorize(oauth_client, created, emulator)
    verifiers.append(PendingAuthorization.objects.get().code_verifier)
    visit(callback(oauth_client, params))
    visit(callback(oauth_client, params))  # replayed
    created.refresh_from_db()
    visit(oauth_client.post(f"/admin/connections/connection/{created.pk}/test/"))
    # Expiry mid-run: refreshed transparently.
    emulator.control.expire_sessions()
    client = SalesforceClient.for_connection(created)
    list(client.query_pages("SELECT Id FROM Account"))
    # A rejected query, a quota refusal and a dead refresh token: each error message checked.
    for action in (lambda: list(client.query_pages("SELECT Bogus FROM Account")),
                   lambda: (emulator.control.faults(limit_after=0), client.limits())):
        try:
            action()
        except SalesforceError as error:
            errors.append(str(error) + "".join(traceback.format_exception(error)))
    emulator.control.clear_faults()
    emulator_http(emulator).post(emulator.login_url + "/services/oauth2/revoke",
                                 data={"token": Connection.objects.get(pk=created.pk).refresh_token},
                                 timeout=10)
    try:
        client.limits()
    except SalesforceError as error:
        errors.append(str(error) + "".join(traceback.format_exception(error)))
    visit(oauth_client.get(created.get_absolute_url()))
    visit(oauth_client.get("/admin/connections/connection/"))
    # Reconnect with PKCE tampered (token error), then properly, then disconnect.
    params = authorize(oauth_client, created, emulator)
    pending = PendingAuthorization.objects.get()
    verifiers.append(pending.code_verifier)
    pending.code_verifier = "x" * 50
    pending.save()
    visit(callback(oauth_client, params))
    params = authorize(oauth_client, created, emulator)
    verifiers.append(PendingAuthorization.objects.get().code_verifier)
    visit(callback(oauth_client, params))
    visit(oauth_client.post(f"/admin/connections/connection/{created.pk}/disconnect/"))

    sessions = emulator.control.sessions()
    secrets = ([t["token"] for t in sessions["access_tokens"]]
               + [g["refresh_token"] for g in sessions["grants"]]
               + [emulator.client_secret] + verifiers)
    assert len(errors) == 3 and len(secrets) > 6
    stored = Connection.objects.get(pk=created.pk)
    texts = {
        "pages": "\n".join(pages),
        "errors": "\n".join(errors),
        "logs": "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records),
        "stored messages": stored.last_error + "".join(
            e.message for e in stored.events.all()),
    }
    assert len(caplog.records) > 5
    for where, text in texts.items():
        for secret in secrets:
            assert secret not in text, f"a secret appears in {where}"


def _report(error: BaseException) -> str:
    """What Django's error page and error e-mails would show, frame locals included.

    The test's own frame is left out: it holds the authorization code it is looking for.
    """
    assert error.__traceback__ is not None
    reporter = ExceptionReporter(None, type(error), error, error.__traceback__.tb_next)
    return reporter.get_traceback_text() + reporter.get_traceback_html()


def test_tracebacks_with_locals_show_no_secret(emulator, oauth_client, connection, settings):
    """Django's reports print every frame's locals: the token-holding ones must be starred."""
    settings.DEBUG = False  # reports filter sensitive variables only outside DEBUG
    reports: list[str] = []
    client = SalesforceClient.for_connection(connection)
    # 1. The token endpoint fails in the middle of a refresh.
    emulator.control.expire_sessions()
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["oauth-token"]})
    with pytest.raises(Transient) as outage:
        client.limits()
    reports.append(_report(outage.value))
    # 2. The code exchange of a reconnect fails.
    params = authorize(oauth_client, connection, emulator)
    emulator.control.faults(fail_next={"count": 1, "status": 503, "kinds": ["oauth-token"]})
    with pytest.raises(Transient) as exchange:
        oauth.exchange_code(PendingAuthorization.objects.get(), params["code"])
    reports.append(_report(exchange.value))
    # 3. The grant is revoked: the refresh is refused.
    emulator_http(emulator).post(emulator.login_url + "/services/oauth2/revoke",
                                 data={"token": connection.refresh_token}, timeout=10)
    emulator.control.expire_sessions()
    with pytest.raises(AuthError) as refused:
        client.limits()
    reports.append(_report(refused.value))

    assert all("refresh_access_token" in r or "exchange_code" in r for r in reports)
    assert all("********************" in r for r in reports)
    sessions = emulator.control.sessions()
    secrets = ([t["token"] for t in sessions["access_tokens"]]
               + [g["refresh_token"] for g in sessions["grants"]]
               + [emulator.client_secret, params["code"]])
    for number, report in enumerate(reports, 1):
        for secret in secrets:
            assert secret not in report, f"a secret appears in report {number}"
