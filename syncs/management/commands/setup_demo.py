"""Connect a running emulator through the real OAuth flow and create the typical syncs.

`manage.py setup_demo --emulator-url https://127.0.0.1:8765` (run by `serve --demo`):
1. check the emulator answers (over TLS with SALESFORCE_CA_BUNDLE, as every Salesforce call);
2. create or update the connection "Demo org (emulator)" and, unless it already works, connect
   it with the same functions the Connect button and the callback view call, approving on
   the emulator's consent page the way an operator's browser would;
3. create the typical syncs (presets of mappings.presets) every few minutes, and ask each for a
   first run, so the hub fills within a minute;
4. create the two demo actions, journy.io style and update only: People → Contacts (matched
   by e-mail) and Accounts → Accounts (matched by Salesforce Id); the changes the demo syncs
   pull are not written back (they come from this org).
Running it again changes nothing but the connection's tokens when they no longer work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import requests
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from connections import authorization
from connections.client import SalesforceClient
from connections.errors import SalesforceError
from connections.models import Connection
from connections.transport import HttpSession, configure
from mappings.mapping import FieldRow
from syncs import schedule
from syncs.actions import Action
from syncs.models import Sync
from workspace.models import ObjectType

CONNECTION_NAME = "Demo org (emulator)"
CLIENT_ID = "forcebridge-demo"
CLIENT_SECRET = "demo-secret"  # noqa: S105 - the emulator's public demo app, not a secret
# (sync name, Salesforce object): the typical mappings of the data-in docs.
DEMO_SYNCS = (
    ("Contacts → people", "Contact"),
    ("Leads → people", "Lead"),
    ("Accounts → objects", "Account"),
    ("Opportunities → objects", "Opportunity"),
    ("Account contacts → relationships", "AccountContactRelation"),
    ("Opportunity contact roles → relationships", "OpportunityContactRole"),
    ("Tasks → events", "Task"),
)
# (action name, object, trigger, hub object type, matchers, rows): update only.
DEMO_ACTIONS = (
    ("People → Contacts", "Contact", Action.Entity.PEOPLE, "", [["email", "Email"]],
     [("firstName", "FirstName"), ("lastName", "LastName"), ("phone", "Phone"),
      ("title", "Title")]),
    ("Accounts → Accounts", "Account", Action.Entity.OBJECTS, "Account", [["object_id", "Id"]],
     [("name", "Name"), ("Industry", "Industry"), ("Website", "Website")]),
)


class Command(BaseCommand):
    help = "Connect the demo emulator org (real OAuth) and create its typical syncs."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--emulator-url", required=True,
                            help="the emulator's HTTPS address, e.g. https://127.0.0.1:8765")
        parser.add_argument("--authorize-url", default="",
                            help="the browser consent page (default: http on the port + 1)")
        parser.add_argument("--site-url", default="http://127.0.0.1:8000",
                            help="where Forcebridge is served (the OAuth callback's host)")
        parser.add_argument("--every-minutes", type=int, default=5,
                            help="schedule of the demo syncs")
        parser.add_argument("--no-run", action="store_true",
                            help="create the syncs without asking for a first run")

    def handle(self, *args: Any, **options: Any) -> None:
        url = options["emulator_url"].rstrip("/")
        authorize_url = options["authorize_url"].rstrip("/") or _consent_page(url)
        probe(url)
        connection = demo_connection(url, authorize_url)
        if works(connection):
            self.stdout.write(f"{connection.name}: already connected to org {connection.org_id}.")
        else:
            callback = options["site_url"].rstrip("/") + reverse(
                "admin:connections_connection_oauth_callback")
            self.stdout.write(self.style.SUCCESS(connect(connection, callback)))
        client = SalesforceClient.for_connection(connection)
        for name, sobject in DEMO_SYNCS:
            sync, created = demo_sync(connection, client, name, sobject, options["every_minutes"])
            if not options["no_run"] and sync.enabled:
                sync.request_run(Sync.Trigger.MANUAL)
            state = "created" if created else "exists"
            queued = "" if options["no_run"] else (
                "; first run requested" if created else "; run requested")
            self.stdout.write(f"Sync {sync.name!r} ({sobject}): {state}{queued}.")
        for spec in DEMO_ACTIONS:
            action, created = demo_action(connection, client, *spec)
            state = "created" if created else "exists"
            self.stdout.write(f"Action {action.name!r} ({action.sobject}, update only): "
                              f"{state}.")


def _consent_page(url: str) -> str:
    """The emulator serves its browser consent page over plain HTTP on the next port."""
    parts = urlsplit(url)
    return urlunsplit(("http", f"{parts.hostname}:{(parts.port or 443) + 1}", "", "", ""))


def probe(url: str) -> None:
    """Fail with a clear message unless an emulator answers at `url` over verified TLS."""
    session = configure(HttpSession())
    try:
        answer = session.get(f"{url}/__emulator__/health", timeout=(5, 30))
    except requests.exceptions.SSLError:
        raise CommandError(
            f"TLS verification of {url} failed: set SALESFORCE_CA_BUNDLE to a file that "
            "includes the emulator's CA (its data directory's ca.pem; serve --demo does this)."
        ) from None
    except requests.RequestException as error:
        raise CommandError(
            f"The Salesforce emulator is not reachable at {url} ({type(error).__name__}). "
            "Start it with `python -m sfemulator --seed demo` or use `manage.py serve --demo`."
        ) from None
    except SalesforceError as error:
        raise CommandError(str(error)) from None
    if answer.status_code != 200 or not answer.json().get("ok"):
        raise CommandError(f"{url} answered HTTP {answer.status_code}; is it the emulator?")


def demo_connection(url: str, authorize_url: str) -> Connection:
    """The demo connection, created once; its addresses follow the emulator's port."""
    wanted = {"environment": Connection.Environment.CUSTOM, "login_url": url,
              "authorize_url": authorize_url, "client_id": CLIENT_ID}
    connection, created = Connection.objects.get_or_create(name=CONNECTION_NAME,
                                                           defaults=wanted)
    changed = [name for name, value in wanted.items() if getattr(connection, name) != value]
    for name in changed:
        setattr(connection, name, wanted[name])
    if connection.client_secret != CLIENT_SECRET:
        connection.client_secret = CLIENT_SECRET
        changed.append("client_secret_encrypted")
    if changed and not created:
        connection.save(update_fields=[*changed, "updated"])
    elif created:
        connection.save(update_fields=["client_secret_encrypted"])
    return connection


def works(connection: Connection) -> bool:
    """True when the stored tokens still reach the org (an emulator restart forgets them)."""
    if not connection.is_usable:
        return False
    return authorization.test(connection).ok


def connect(connection: Connection, callback_url: str) -> str:
    """Connect → consent page (Allow) → callback, through authorization.begin/finish.

    The callback is not delivered to a web server: its query string is handed to
    `authorization.finish`, the function the callback view calls, with the PKCE verifier it
    stored in `begin`. A different org is accepted (the emulator's org id may change).
    """
    try:
        consent = authorization.begin(connection, None, callback_url, allow_org_change=True)
    except SalesforceError as error:
        raise CommandError(str(error)) from None
    parts = urlsplit(consent)
    form = {**dict(parse_qsl(parts.query)), "decision": "allow"}
    browser = requests.Session()
    browser.trust_env = False  # a local page: no proxy from the environment
    try:
        answer = browser.post(f"{parts.scheme}://{parts.netloc}{parts.path}", data=form,
                              allow_redirects=False, timeout=30)
    except requests.RequestException as error:
        raise CommandError(f"The consent page {parts.netloc} is not reachable "
                           f"({type(error).__name__}).") from None
    location = answer.headers.get("Location", "")
    if answer.status_code != 302 or not location.startswith(callback_url):
        raise CommandError(f"The consent page answered HTTP {answer.status_code} without "
                           "redirecting to the callback.")
    outcome = authorization.finish(dict(parse_qsl(urlsplit(location).query)), None)
    if not outcome.ok:
        raise CommandError(outcome.message)
    connection.refresh_from_db()
    return outcome.message


def demo_sync(connection: Connection, client: SalesforceClient, name: str, sobject: str,
              every_minutes: int) -> tuple[Sync, bool]:
    """The named sync, created from the object's preset and checked against the org."""
    existing = Sync.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    sync = Sync(connection=connection, name=name, sobject=sobject,
                schedule_kind=schedule.MINUTES, every_minutes=every_minutes)
    try:
        sync.apply_preset(client.describe(sobject))
        sync.full_clean()
        sync.validate_against_salesforce(client)
    except (ValidationError, SalesforceError) as error:
        raise CommandError(f"Sync {name!r} ({sobject}) could not be set up: {error}") from None
    with transaction.atomic():
        sync.save()
    return sync, True


def demo_action(connection: Connection, client: SalesforceClient, name: str, sobject: str,
                entity: str, type_name: str, matchers: list, rows: list[tuple]
                ) -> tuple[Action, bool]:
    """The named action, created update only and checked against the org's describe."""
    existing = Action.objects.filter(name=name).first()
    if existing is not None:
        return existing, False
    action = Action(connection=connection, name=name, sobject=sobject, entity=entity,
                    matchers=matchers, schedule_kind=schedule.DAILY,
                    object_type=ObjectType.objects.filter(singular=type_name).first()
                    if type_name else None)
    field_rows = [FieldRow(*row) for row in rows]
    try:
        action.full_clean()
        action.validate_against_salesforce(client, field_rows)
    except (ValidationError, SalesforceError) as error:
        raise CommandError(f"Action {name!r} ({sobject}) could not be set up: {error}") from None
    with transaction.atomic():
        action.save()
        action.replace_rows(field_rows)
    return action, True
