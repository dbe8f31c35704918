"""The connection page's "Initial import": syncs made (or reused) and run by the pull engine,
the ongoing-import switch, and accounts keyed by the External ID for accounts."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.db import transaction
from django.urls import reverse

from logs.models import RecordLog
from mappings.mapping import FieldRow, Format
from syncs import initial_import
from syncs.actions import Action
from syncs.models import Sync
from syncs.pull import run_sync
from syncs.queue import due
from tests.syncs.conftest import hub_snapshot
from tests.syncs.push_cast import ok
from workspace.hub import HubWriter, Item
from workspace.models import Object, ObjectType, Person, Relationship

pytestmark = pytest.mark.django_db

KEY = "Forcebridge_Id__c"


def press(client, connection) -> list[str]:
    response = client.post(reverse("admin:syncs_sync_initial_import", args=[connection.pk]))
    assert response.status_code == 302 and response["Location"] == connection.get_absolute_url()
    return [str(m) for m in get_messages(response.wsgi_request)]


def run_requested(connection) -> None:
    """What the workers do with the requests: each sync's run, by the pull engine."""
    for sync in Sync.objects.filter(connection=connection).exclude(run_requested=""):
        run = run_sync(sync.pk, trigger=Sync.Trigger.MANUAL)
        assert run is not None and run.status == "succeeded", run and run.error


def org(emulator) -> dict[str, str]:
    """Two accounts with their own account ids and one without, a contact of the first, a
    lead."""
    acme, globex, hooli = emulator.control.insert(
        "Account", {"Name": "Acme", KEY: "acc-1"}, {"Name": "Globex", KEY: "acc-2"},
        {"Name": "Hooli"})
    (ann,) = emulator.control.insert("Contact", {"LastName": "Lee", "FirstName": "Ann",
                                                 "Email": "ann@acme.io", "AccountId": acme})
    emulator.control.insert("Lead", {"LastName": "Ng", "Company": "Initech",
                                     "Email": "bo@initech.io"})
    return {"acme": acme, "globex": globex, "hooli": hooli, "ann": ann}


def accounts() -> dict[str, dict]:
    return {o.object_id: o.attributes for o in Object.objects.filter(type__singular="Account")}


def test_initial_import_brings_everything_in_once_even_when_pressed_twice(
        emulator, connection, oauth_client):
    ids = org(emulator)
    connection.account_external_id_field = KEY
    connection.save()
    messages = press(oauth_client, connection)
    assert messages[-1].startswith("Initial import started: 4 sync(s) made, 0 reused"), messages
    syncs = {(s.sobject, s.data_format): s for s in Sync.objects.filter(connection=connection)}
    assert set(syncs) == {("Contact", "person"), ("Lead", "person"), ("Account", "object"),
                          ("AccountContactRelation", "relationship")}
    assert syncs[("Account", "object")].object_id_field == KEY
    assert syncs[("AccountContactRelation", "relationship")].object_id_field == f"Account.{KEY}"
    for sync in syncs.values():
        assert f'href="{reverse("admin:syncs_sync_change", args=[sync.pk])}"' in messages[-1]
    # Ongoing import is off: the syncs are disabled, yet their requested run is due once.
    assert not any(s.enabled for s in syncs.values())
    assert set(due(Sync).values_list("pk", flat=True)) == {s.pk for s in syncs.values()}

    run_requested(connection)
    assert {p.email for p in Person.objects.all()} == {"ann@acme.io", "bo@initech.io"}
    assert accounts().keys() == {"acc-1", "acc-2"} and accounts()["acc-1"]["name"] == "Acme"
    # An account without an account id is left out, with the reason in its record log.
    log = RecordLog.objects.get(record_id=ids["hooli"])
    assert (log.outcome, log.error_code) == ("skipped", "MISSING_IDENTIFIER")
    (link,) = Relationship.objects.select_related("person", "object")
    assert (link.person.customer_id, link.object.object_id) == (ids["ann"], "acc-1")
    for sync in Sync.objects.filter(connection=connection):
        assert not sync.enabled and sync.next_run_at is None and sync.runs.count() == 1
    assert not due(Sync).exists()
    before = hub_snapshot()

    messages = press(oauth_client, connection)
    assert messages[-1].startswith("Initial import started: 0 sync(s) made, 4 reused")
    run_requested(connection)
    assert Sync.objects.filter(connection=connection).count() == 4
    assert hub_snapshot() == before


def test_ongoing_import_keeps_the_syncs_on_their_schedule(emulator, connection,
                                                          oauth_client, make_sync):
    org(emulator)
    mine = make_sync("Contact", fields=["LastName", "Email"], enabled=False)
    connection.ongoing_import = True
    connection.save()
    messages = press(oauth_client, connection)
    # Keyed by Id (no External ID), with the operator's own Contacts sync reused.
    assert messages[-1].startswith("Initial import started: 3 sync(s) made, 1 reused")
    assert Sync.objects.get(connection=connection, sobject="Account").object_id_field == "Id"
    run_requested(connection)
    syncs = list(Sync.objects.filter(connection=connection))
    assert len(syncs) == 4 and mine.pk in {s.pk for s in syncs}
    assert all(s.enabled and s.next_run_at is not None for s in syncs)
    assert len(accounts()) == 3 and Person.objects.count() == 2


def test_a_reused_accounts_sync_keyed_otherwise_is_named_in_a_warning(emulator, connection,
                                                                      oauth_client, make_sync):
    make_sync("Account", fields=["Name"])
    connection.account_external_id_field = KEY
    connection.save()
    messages = press(oauth_client, connection)
    assert any("keys accounts by Id, not by the External ID for accounts "
               f"({KEY})" in m for m in messages), messages


def test_the_button_needs_a_connected_org_and_a_post(emulator, connection, oauth_client):
    url = reverse("admin:syncs_sync_initial_import", args=[connection.pk])
    assert oauth_client.get(url).status_code == 405
    connection.enabled = False
    connection.save()
    assert press(oauth_client, connection)[-1].startswith("Initial import: connect Salesforce")
    assert not Sync.objects.exists()


def test_staff_without_sync_permissions_cannot_import(emulator, connection, client,
                                                      django_user_model):
    user = django_user_model.objects.create_user("viewer", password="x", is_staff=True)
    client.force_login(user)
    url = reverse("admin:syncs_sync_initial_import", args=[connection.pk])
    assert client.post(url).status_code == 403
    assert not Sync.objects.exists()


def test_accounts_written_from_the_hub_carry_their_id_so_the_import_matches_them(
        emulator, connection, oauth_client):
    """An action creating or matching Accounts writes object_id into the External ID field;
    the import then keys those accounts by it: no second hub object."""
    connection.account_external_id_field = KEY
    connection.save()
    (initech,) = emulator.control.insert("Account", {"Name": "Initech",
                                                     "Website": "initech.io"})
    account_type, _ = ObjectType.objects.get_or_create(singular="Account",
                                                       defaults={"plural": "Accounts"})
    with transaction.atomic():
        HubWriter("api:test").objects(account_type, [
            Item("o1", attributes={"name": "Globex", "domain": "globex.io"}, object_id="hub-7"),
            Item("o2", attributes={"name": "Initech", "domain": "initech.io"},
                 object_id="hub-8")])
    action = Action(connection=connection, name="Accounts out", sobject="Account",
                    entity=Action.Entity.OBJECTS, object_type=account_type,
                    operation=Action.Operation.UPDATE, allow_create=True,
                    matchers=[["domain", "Website"]])
    action.full_clean()
    action.save()
    action.replace_rows([FieldRow("domain", "Website"), FieldRow("name", "Name")])
    run = ok(action, full=True)
    assert (run.created, run.updated, run.failed) == (1, 1, 0)
    by_name = {r["Name"]: r for r in emulator.control.records("Account")}
    assert by_name["Globex"][KEY] == "hub-7"
    assert by_name["Initech"][KEY] == "hub-8" and by_name["Initech"]["Id"] == initech

    press(oauth_client, connection)
    run_requested(connection)
    assert accounts().keys() == {"hub-7", "hub-8"}
    assert accounts()["hub-8"]["domain"] == "initech.io"  # the hub's own attributes stay


def test_an_org_without_account_contact_relation_relates_contacts_by_their_account(
        emulator, connection, sf_client):
    ids = org(emulator)
    connection.account_external_id_field = KEY
    part = initial_import.Part("Contact", Format.RELATIONSHIP, "Account contacts")
    sync = initial_import.new_sync(connection, part, sf_client)
    assert (sync.person_id_field, sync.object_id_field, sync.filter) == (
        "Id", f"Account.{KEY}", "AccountId != null")
    sync.save()
    run = run_sync(sync.pk, trigger=Sync.Trigger.MANUAL)
    assert run.status == "succeeded" and run.fetched == 1, run.error
    (link,) = Relationship.objects.select_related("person", "object")
    assert (link.person.customer_id, link.object.object_id) == (ids["ann"], "acc-1")
