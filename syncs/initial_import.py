"""The initial import: every Salesforce user and account, and who works where, into the hub.

It is made of ordinary syncs run by the ordinary engine (syncs/pull.py) through the run queue,
so its progress and record logs are those of the syncs' runs:
1. Contacts → people (by Id, with their e-mail), Leads → people (by e-mail), Accounts → objects
   (keyed by the connection's External ID for accounts, else their Id), and people related to
   accounts (AccountContactRelation where the org has it, else Contact.AccountId).
2. A sync of the connection already reading that object in that shape is reused as it is; a
   missing one is made from the preset (mappings/presets.py) and checked against the org like
   any sync. Pressing the button twice makes nothing twice.
3. Every sync is asked to run now: a new sync's first run reads everything, one that already
   ran reads what changed since.
4. The connection's "ongoing import" switch decides what comes after: on, the syncs are
   enabled on their schedule; off, they are disabled and the run asked for is their last (the
   queue runs a run requested of a disabled sync once; syncs/queue.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from connections.client import SalesforceClient
from connections.external_id import account_key
from connections.models import Connection
from mappings.mapping import Format, PersonMatch
from syncs.models import Sync
from syncs.runs import error_text
from workspace.models import ObjectType

ACCOUNT_TYPE = ("Account", "Accounts")


@dataclass(frozen=True)
class Part:
    """One sync the import is made of: its object, shape and label."""

    sobject: str
    data_format: str
    label: str


@dataclass
class Outcome:
    """What pressing the button did: the syncs (made or reused) and what was refused."""

    created: list[Sync] = field(default_factory=list)
    reused: list[Sync] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def syncs(self) -> list[Sync]:
        return [*self.created, *self.reused]


def parts(client: SalesforceClient) -> list[Part]:
    """The syncs an import of this org needs (the relationship from where the org keeps it)."""
    objects = {o["name"] for o in client.describe_global().get("sobjects", [])
               if o.get("queryable")}
    relation = ("AccountContactRelation" if "AccountContactRelation" in objects else "Contact")
    return [Part("Contact", Format.PERSON, "Contacts"), Part("Lead", Format.PERSON, "Leads"),
            Part("Account", Format.OBJECT, "Accounts"),
            Part(relation, Format.RELATIONSHIP, "Account contacts")]


def existing(connection: Connection, part: Part) -> Sync | None:
    return Sync.objects.filter(connection=connection, sobject=part.sobject,
                               data_format=part.data_format).order_by("pk").first()


def new_sync(connection: Connection, part: Part, client: SalesforceClient) -> Sync:
    """A sync for `part` from the preset, keyed as the import wants, checked against the org."""
    key = account_key(connection)
    sync = Sync(connection=connection, sobject=part.sobject, name=_free_name(connection, part))
    sync.apply_preset(client.describe(part.sobject))
    if part.data_format == Format.OBJECT:
        sync.object_id_field = key or "Id"
    elif part.data_format == Format.RELATIONSHIP:
        sync.object_type, _ = ObjectType.objects.get_or_create(
            singular=ACCOUNT_TYPE[0], defaults={"plural": ACCOUNT_TYPE[1]})
        sync.object_id_field = f"Account.{key}" if key else "AccountId"
        if part.sobject == "Contact":  # no AccountContactRelation: the contact's own account
            sync.data_format, sync.fields = Format.RELATIONSHIP, []
            sync.person_id_field, sync.person_match = "Id", PersonMatch.CUSTOMER_ID
            sync.filter = "AccountId != null"
    sync.full_clean()
    sync.validate_against_salesforce(client)
    return sync


def start(connection: Connection) -> Outcome:
    """Make the missing syncs, ask every one to run now and apply the ongoing switch.

    Salesforce is read (describes, the syncs' checks) before anything is written; a sync that
    cannot be made is reported and the others go ahead.
    """
    client = SalesforceClient.for_connection(connection, interactive=True)
    outcome = Outcome()
    wanted: list[Sync] = []
    for part in parts(client):
        sync = existing(connection, part)
        if sync is not None:
            outcome.reused.append(sync)
            _check_key(connection, sync, outcome)
            continue
        try:
            wanted.append(new_sync(connection, part, client))
        except ValidationError as error:
            outcome.problems.append(f"{part.label}: {error_text(error)}")
    with transaction.atomic():
        for sync in wanted:
            sync.save()
            outcome.created.append(sync)
        for sync in outcome.syncs:
            Sync.objects.filter(pk=sync.pk).update(enabled=connection.ongoing_import)
            sync.enabled = connection.ongoing_import
            sync.request_run(Sync.Trigger.MANUAL)
    return outcome


def _check_key(connection: Connection, sync: Sync, outcome: Outcome) -> None:
    """Warn when a reused Accounts sync keys accounts otherwise than the External ID says."""
    key = account_key(connection) or "Id"
    if sync.data_format == Format.OBJECT and sync.object_id_field != key:
        outcome.warnings.append(
            f"{sync.name} keys accounts by {sync.object_id_field}, not by the External ID "
            f"for accounts ({key}); change it on the sync's page if accounts should match.")


def _free_name(connection: Connection, part: Part) -> str:
    """`<connection>: <label>`, numbered if another sync has that name."""
    base = f"{connection.name}: {part.label}"[:90]
    name, number = base, 1
    while Sync.objects.filter(name=name).exists():
        number += 1
        name = f"{base} ({number})"
    return name
