"""Where the push features meet, through the real push engine and the emulator: a merge is no
deletion, a segment-limited delete action deletes only its members, a delete action of one
object type leaves the others, leaving never clears the External ID for accounts, the dry run
of an events action lists its events, a failed entry is retried, and the action's own org
wakes an action limited by segments."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from connections.client import SalesforceClient
from logs.models import RecordLog
from mappings.models import Segment
from syncs import tasks
from syncs.actions import ActionMember
from syncs.dry_run import dry_run
from syncs.models import Sync
from syncs.pull import run_sync
from tests.syncs.push_cast import hub_people, make_action, ok
from tests.syncs.test_push_deletions import from_now_on, live, people, remove
from workspace.hub import HubWriter, Item, Ref
from workspace.models import Change, Object, ObjectType, Person

pytestmark = pytest.mark.django_db


def plan_is(value: str) -> dict:
    return {"attribute": "plan", "operator": "equals", "value": value}


def identify(*items: Item) -> None:
    with transaction.atomic():
        HubWriter("api:test").people(list(items))


# -- 1. a merge is not a deletion --------------------------------------------------------------

def test_merging_two_people_deletes_no_salesforce_record(emulator, connection, make_sync):
    identify(Item("u-1", "", {"plan": "pro"}, customer_id="u-1"))  # the older person
    (lead,) = emulator.control.insert("Lead", {"LastName": "Lee", "Company": "Acme",
                                               "Email": "pat@x.io"})
    assert run_sync(make_sync("Lead", fields=["LastName", "Email", "Company"]).pk
                    ).status == "succeeded"
    lead_person = Person.objects.get(email="pat@x.io")
    # Deletes by an attribute no merge changes: only a deletion could reach the Lead.
    deletes = from_now_on(make_action(connection, "Lead", name="delete", operation="delete",
                                      matchers=[["leadKey", "Id"]]))
    identify(Item("u-1", "", {}, customer_id="u-1", email="pat@x.io"))  # takes the lead over
    assert not Person.objects.filter(pk=lead_person.pk).exists()
    ok(deletes)
    assert [row["Id"] for row in emulator.control.records("Lead")] == [lead]
    assert not Change.objects.filter(op="deleted").exists()
    # A "deleted" change the merge wrote before this fix: its Lead now belongs to the survivor.
    Change.objects.create(entity="person", entity_id=lead_person.pk, op="deleted",
                          origin="api:test")
    run = ok(deletes)
    assert (run.deleted, run.skipped) == (0, 1)
    assert RecordLog.objects.get(run=run).error_code == "MERGED"
    assert [row["Id"] for row in emulator.control.records("Lead")] == [lead]


# -- 2. gone for good: by existence, members only ---------------------------------------------

def test_a_segment_limited_delete_action_deletes_only_its_members(emulator, connection):
    emulator.control.insert("Contact", *[{"LastName": n, "Email": f"{n}@x.io"}
                                         for n in ("ann", "bob", "cy")])
    people(*[{"email": f"{n}@x.io", "lastName": n.upper(), "plan": "basic"}
             for n in ("ann", "bob", "cy")])
    assert ok(make_action(connection, name="update", rows=[("lastName", "LastName")])
              ).updated == 3  # logs which Contact each person is
    ids = live(emulator)
    churned = Segment.objects.create(name="churned", conditions=[plan_is("churned")])
    deletes = from_now_on(make_action(connection, name="delete", operation="delete"))
    deletes.segments.set([churned])
    assert ok(deletes).fetched == 0
    people({"email": "ann@x.io", "lastName": "ANN", "plan": "churned"})  # ann enters
    assert ok(deletes).deleted == 1 and "ann@x.io" not in live(emulator)
    remove("bob@x.io", mark=False)  # removed for good, never a member
    remove("cy@x.io", mark=True)  # marked deleted, outside the segment
    assert ok(deletes).fetched == 0
    assert live(emulator) == {"bob@x.io": ids["bob@x.io"], "cy@x.io": ids["cy@x.io"]}
    remove("ann@x.io", mark=False)  # a member removed for good: deleted by its logged id
    run = ok(deletes)
    log = RecordLog.objects.get(run=run)
    assert (log.record_id, log.outcome) == (ids["ann@x.io"], "skipped")  # already deleted
    assert not ActionMember.objects.filter(action=deletes).exists()


def test_a_delete_action_of_one_object_type_leaves_the_others(emulator, connection):
    companies = ObjectType.objects.create(singular="Company", plural="Companies")
    teams = ObjectType.objects.create(singular="Team", plural="Teams")
    emulator.control.insert("Account", {"Name": "Acme"}, {"Name": "Red"}, {"Name": "Blue"})
    with transaction.atomic():
        HubWriter("api:test").objects(companies, [Item("c1", "", {"name": "Acme"},
                                                       object_id="c-1")])
        HubWriter("api:test").objects(teams, [Item(f"t{n}", "", {"name": name},
                                                   object_id=f"t-{n}")
                                              for n, name in enumerate(("Red", "Blue"))])
    for kind, name in ((companies, "companies"), (teams, "teams")):
        assert ok(make_action(connection, "Account", name=name, entity="objects",
                              object_type=kind, rows=[("name", "Name")],
                              matchers=[["name", "Name"]]), full=True).fetched >= 1
    deletes = from_now_on(make_action(connection, "Account", name="delete", entity="objects",
                                      object_type=companies, operation="delete",
                                      matchers=[["name", "Name"]]))
    with transaction.atomic():
        HubWriter("api:test").delete(["t0"], mark=True)  # still a team
        HubWriter("api:test").delete(["t1"])  # removed: its logs are a teams action's
    run = ok(deletes)
    assert (run.deleted, run.failed) == (0, 0)
    assert sorted(r["Name"] for r in emulator.control.records("Account")) == [
        "Acme", "Blue", "Red"]
    assert Object.objects.filter(type=teams).count() == 1


# -- 3. leaving never clears the External ID for accounts -------------------------------------

def test_clearing_a_leaving_account_keeps_its_external_id(emulator, connection):
    connection.account_external_id_field = "Forcebridge_Id__c"
    connection.save()
    accounts = ObjectType.objects.create(singular="Account", plural="Accounts")
    with transaction.atomic():
        HubWriter("api:test").objects(accounts, [Item("a1", "", {
            "name": "Acme", "industry": "Tech"}, object_id="acc-1")])
    tech = Segment.objects.create(name="tech", entity="objects", object_type=accounts,
                                  conditions=[{"attribute": "industry", "operator": "equals",
                                               "value": "Tech"}])
    action = make_action(connection, "Account", entity="objects", object_type=accounts,
                         rows=[("name", "Name"), ("industry", "Industry")],
                         matchers=[["name", "Name"]], allow_create=True, on_leave="clear")
    action.segments.set([tech])
    assert ok(action).created == 1
    (account,) = emulator.control.records("Account")
    assert (account["Industry"], account["Forcebridge_Id__c"]) == ("Tech", "acc-1")
    Object.objects.update(attributes={"name": "Acme", "industry": "Retail"})  # it leaves
    run = ok(action)
    assert RecordLog.objects.get(run=run).changed_fields == ["Industry"]
    (account,) = emulator.control.records("Account")
    assert (account["Industry"], account["Forcebridge_Id__c"]) == (None, "acc-1")


# -- 4. the dry run of an events action ----------------------------------------------------------

def test_the_dry_run_of_an_events_action_lists_its_events(emulator, connection):
    hub_people({"email": "a@x.io", "lastName": "A"})
    with transaction.atomic():
        HubWriter("api:test").events([
            Item(key, "", {"plan": plan}, person=Ref("email", "a@x.io"), name="Upgraded",
                 timestamp=dt.datetime(2026, 3, 4, tzinfo=dt.UTC))
            for key, plan in (("e1", "pro"), ("e2", "team"))])
    action = make_action(connection, "Task", entity="events", operation="create", matchers=[],
                         rows=[("name", "Subject"), ("properties.plan", "Description")])
    previews = dry_run(action, SalesforceClient.for_connection(connection))
    assert [(p.outcome, p.fields.get("Description")) for p in previews] == [
        ("create", "pro"), ("create", "team")]
    assert all(p.ref.startswith("event:") for p in previews)
    assert emulator.control.records("Task") == []


# -- 5. a failed entry is no membership ----------------------------------------------------------

def test_a_record_whose_entry_failed_is_retried_on_the_next_run(emulator, connection):
    hub_people({"email": "ann@x.io", "plan": "pro"})  # no LastName: Salesforce refuses it
    action = make_action(connection, rows=[("lastName", "LastName")], allow_create=True)
    action.segments.set([Segment.objects.create(name="pro", conditions=[plan_is("pro")])])
    assert ok(action).failed == 1
    assert not ActionMember.objects.filter(action=action).exists()
    # Fixed without a hub change of its own (the outbox has nothing for it).
    Person.objects.update(attributes={"email": "ann@x.io", "plan": "pro", "lastName": "Lee"})
    assert ok(action).created == 1
    assert [r["LastName"] for r in emulator.control.records("Contact")] == ["Lee"]
    assert ActionMember.objects.filter(action=action).count() == 1


# -- 6. the action's own org moves its segments ----------------------------------------------

def test_changes_from_the_actions_own_org_wake_it_when_limited_by_segments(emulator,
                                                                          connection):
    plain = make_action(connection, name="plain", rows=[("lastName", "LastName")])
    limited = make_action(connection, name="limited", rows=[("lastName", "LastName")],
                          allow_create=True)
    limited.segments.set([Segment.objects.create(name="pro", conditions=[plan_is("pro")])])
    sync = Sync.objects.create(connection=connection, name="pull", sobject="Contact",
                               data_format="person", person_id_field="Id")
    hub_people({"email": "a@x.io", "lastName": "A", "plan": "pro"}, origin=sync.source)
    assert tasks.wake_actions(sync.source) == 1
    limited.refresh_from_db()
    plain.refresh_from_db()
    assert (limited.run_requested, plain.run_requested) == ("change", "")
    # Its drain passes the change as an echo; the entry writes the member.
    run = ok(limited)
    assert run.created == 1 and RecordLog.objects.get(run=run).message.startswith("entered")
    # The dispatcher's safety net asks for a run too, instead of passing the echoes by.
    hub_people({"email": "b@x.io", "lastName": "B", "plan": "pro"}, origin=sync.source)
    type(limited).objects.filter(pk=limited.pk).update(run_requested="")
    assert tasks.undrained_actions() == 1
    limited.refresh_from_db()
    assert limited.run_requested == "change"
