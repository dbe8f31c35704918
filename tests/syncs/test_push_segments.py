"""Actions limited by segments, through the real push engine and the emulator: only members
are written, several segments are a union, entering is written (after a hub change, or as
time passes, or a segment edited), leaving is logged and, if the action says so, clears or
deletes the Salesforce record."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django.db.models import ProtectedError
from django.urls import reverse

from logs.models import RecordLog
from mappings.models import Segment
from syncs.actions import ActionMember
from syncs.forms import ActionForm
from tests.syncs.push_cast import hub_people, make_action, ok, push
from workspace.hub import HubWriter, Item
from workspace.models import Object, ObjectType, Person, Relationship

pytestmark = pytest.mark.django_db

ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("title", "Title")]
DAY = 86_400


def contacts(emulator) -> dict[str, dict]:
    return {r["Email"]: r for r in emulator.control.records("Contact") if r.get("Email")}


def segment(name: str, *conditions: dict, match: str = "all") -> Segment:
    return Segment.objects.create(name=name, conditions=list(conditions), match=match)


def plan_is(value: str) -> dict:
    return {"attribute": "plan", "operator": "equals", "value": value}


def limited(connection, *segments: Segment, **values) -> object:
    action = make_action(connection, rows=ROWS, allow_create=True, **values)
    action.segments.set(segments)
    return action


def logs(run) -> dict[str, tuple[str, str]]:
    """hub e-mail → (outcome, error code) of the run's logs."""
    emails = dict(Person.objects.values_list("pk", "email"))
    return {emails[int(log.hub_ref.split(":")[1])]: (log.outcome, log.error_code)
            for log in RecordLog.objects.filter(run=run)}


def members(action) -> set[str]:
    ids = ActionMember.objects.filter(action=action).values_list("entity_id", flat=True)
    return set(Person.objects.filter(pk__in=list(ids)).values_list("email", flat=True))


def test_an_action_limited_by_a_segment_writes_only_its_members(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic"},
               {"email": "cy@x.io", "lastName": "Cy", "plan": "pro"})
    action = limited(connection, segment("pro", plan_is("pro")))
    run = ok(action)
    assert set(contacts(emulator)) == {"ann@x.io", "cy@x.io"}
    assert logs(run) == {"ann@x.io": ("created", ""), "cy@x.io": ("created", "")}
    assert members(action) == {"ann@x.io", "cy@x.io"}
    # A drained change of a record outside the segment is passed over; a member's is written.
    hub_people({"email": "bob@x.io", "lastName": "Bob", "plan": "basic", "title": "CFO"},
               {"email": "ann@x.io", "lastName": "Ann", "plan": "pro", "title": "CEO"})
    run = ok(action)
    assert logs(run) == {"ann@x.io": ("updated", "")}
    assert contacts(emulator)["ann@x.io"]["Title"] == "CEO"
    assert set(contacts(emulator)) == {"ann@x.io", "cy@x.io"}
    # A reconcile covers the members only, too.
    assert ok(action, full=True).fetched == 2


def test_several_segments_are_a_union(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic", "country": "FR"},
               {"email": "cy@x.io", "lastName": "Cy", "plan": "basic"})
    french = segment("french", {"attribute": "country", "operator": "equals", "value": "FR"})
    ok(limited(connection, segment("pro", plan_is("pro")), french))
    assert set(contacts(emulator)) == {"ann@x.io", "bob@x.io"}


def test_entering_after_a_hub_change_is_written_once(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic"})
    action = limited(connection, segment("pro", plan_is("pro")))
    ok(action)
    # Only an attribute the action does not map changes (plan): bob enters.
    hub_people({"email": "bob@x.io", "lastName": "Bob", "plan": "pro"})
    emulator.control.clear_counters()
    run = ok(action)
    assert logs(run) == {"bob@x.io": ("created", "")}
    assert RecordLog.objects.get(run=run).message == "entered the action's segments"
    assert contacts(emulator)["bob@x.io"]["LastName"] == "Bob"
    assert members(action) == {"ann@x.io", "bob@x.io"}
    # A mapped attribute changes as bob enters: written by the drain, not again as an entry.
    hub_people({"email": "cy@x.io", "lastName": "Cy", "plan": "basic"})
    ok(action)
    hub_people({"email": "cy@x.io", "lastName": "Cyrus", "plan": "pro"})
    run = ok(action)
    assert logs(run) == {"cy@x.io": ("created", "")} and run.fetched == 1
    assert ok(action).fetched == 0


def test_entering_with_no_hub_change_as_time_passes_or_a_segment_is_edited(emulator,
                                                                           connection):
    now = time.time()
    hub_people({"email": "ann@x.io", "lastName": "Ann", "seen": now - 2 * DAY},
               {"email": "bob@x.io", "lastName": "Bob", "seen": now - 5 * DAY})
    recent = segment("recent", {"attribute": "seen", "operator": "within_days", "value": 3})
    action = limited(connection, recent)
    ok(action)
    assert set(contacts(emulator)) == {"ann@x.io"}
    recent.conditions = [{"attribute": "seen", "operator": "within_days", "value": 7}]
    recent.save()
    action.refresh_from_db()
    assert action.run_requested == "change"  # edited: the action runs within seconds
    run = ok(action)
    assert logs(run) == {"bob@x.io": ("created", "")}
    # Time passes (the records age past the window): both leave, with no hub change.
    Person.objects.update(attributes={"seen": now - 30 * DAY, "lastName": "x"})
    run = ok(action)
    assert logs(run) == {"ann@x.io": ("skipped", "LEFT_SEGMENT"),
                         "bob@x.io": ("skipped", "LEFT_SEGMENT")}
    assert members(action) == set()


@pytest.mark.parametrize("on_leave", ["nothing", "clear", "delete"])
def test_leaving_is_logged_and_cleared_or_deleted_as_the_action_says(emulator, connection,
                                                                     on_leave):
    hub_people({"email": "ann@x.io", "firstName": "Ann", "lastName": "Lee", "title": "CTO",
                "plan": "pro"},
               {"email": "bob@x.io", "firstName": "Bob", "lastName": "Ray", "plan": "pro"})
    action = limited(connection, segment("pro", plan_is("pro")), on_leave=on_leave)
    ok(action)
    hub_people({"email": "ann@x.io", "firstName": "Ann", "lastName": "Lee", "title": "CTO",
                "plan": "basic"})
    run = ok(action)
    log = RecordLog.objects.get(run=run)
    assert (log.direction, log.error_code) == ("out", "LEFT_SEGMENT")
    assert log.message.startswith("left the action's segments")
    found = contacts(emulator)
    if on_leave == "nothing":
        assert log.outcome == "skipped" and found["ann@x.io"]["Title"] == "CTO"
    elif on_leave == "clear":
        # LastName is required (not nillable) and Email is the matcher: both kept.
        assert log.outcome == "updated" and log.record_id == found["ann@x.io"]["Id"]
        assert sorted(log.changed_fields) == ["FirstName", "Title"]
        assert (found["ann@x.io"]["Title"], found["ann@x.io"]["FirstName"],
                found["ann@x.io"]["LastName"]) == (None, None, "Lee")
    else:
        assert log.outcome == "deleted" and "ann@x.io" not in found
    assert "bob@x.io" in found and members(action) == {"bob@x.io"}
    # Left once: the next run logs nothing more.
    assert ok(action).fetched == 0


def test_a_record_that_left_with_no_salesforce_record_is_skipped(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Lee", "plan": "pro"})
    action = limited(connection, segment("pro", plan_is("pro")), on_leave="delete")
    ok(action)
    emulator.control.delete("Contact", contacts(emulator)["ann@x.io"]["Id"], hard=True)
    hub_people({"email": "ann@x.io", "lastName": "Lee", "plan": "basic"})
    log = RecordLog.objects.get(run=ok(action))
    assert (log.outcome, log.error_code) == ("skipped", "LEFT_SEGMENT")
    assert "no Salesforce record to delete" in log.message
    assert not emulator.control.records("Contact")


def test_removing_the_segments_covers_everyone_again(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic"})
    action = limited(connection, segment("pro", plan_is("pro")))
    ok(action)
    action.segments.clear()
    assert ok(action, full=True).created == 1
    assert set(contacts(emulator)) == {"ann@x.io", "bob@x.io"}
    assert not ActionMember.objects.exists()


def test_a_segment_over_other_records_is_refused(emulator, connection):
    accounts = ObjectType.objects.create(singular="Account", plural="Accounts")
    over_accounts = Segment.objects.create(name="accounts", entity="objects",
                                           object_type=accounts)
    action = limited(connection, over_accounts)
    run = push(action)
    assert run.status == "failed" and "'accounts' is not over people" in run.error
    form = ActionForm(instance=action, data={
        "name": action.name, "connection": connection.pk, "sobject": "Contact",
        "enabled": "on", "entity": "people", "operation": "update",
        "matchers": '[["email", "Email"]]', "matcher_operator": "or",
        "field_mappings": "[]", "batch_mode": "auto", "bulk_threshold": 2000,
        "schedule_kind": "daily", "segments": [over_accounts.pk], "on_leave": "clear"})
    assert not form.is_valid()
    assert "is not over people" in str(form.errors["segments"])


def test_a_segment_that_limits_an_action_is_not_deleted(connection, staff_client):
    pro = segment("pro", plan_is("pro"))
    action = limited(connection, pro)
    with pytest.raises(ProtectedError, match="limits the actions Contact action"), \
            transaction.atomic():
        pro.delete()
    with pytest.raises(ProtectedError), transaction.atomic():
        Segment.objects.all().delete()
    page = staff_client.get(reverse("admin:mappings_segment_delete", args=[pro.pk]))
    assert page.status_code == 403
    action.segments.clear()
    pro.delete()
    assert not Segment.objects.exists()


def test_an_objects_action_is_limited_by_an_objects_segment_with_related_people(emulator,
                                                                               connection):
    accounts = ObjectType.objects.create(singular="Account", plural="Accounts")
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic"})
    ann, bob = (Person.objects.get(email=e) for e in ("ann@x.io", "bob@x.io"))
    with transaction.atomic():
        HubWriter("api:test").objects(accounts, [
            Item(f"acc{i}", "", {"name": name, "industry": industry}, object_id=f"acc-{i}")
            for i, (name, industry) in enumerate([("Acme", "Tech"), ("Shop", "Retail"),
                                                  ("Byte", "Tech")])])
    # Acme (Tech) has a pro person, Byte (Tech) a basic one, Shop is Retail.
    Relationship.objects.create(person=ann, object=Object.objects.get(object_id="acc-0"))
    Relationship.objects.create(person=bob, object=Object.objects.get(object_id="acc-2"))
    tech_with_pro = Segment.objects.create(
        name="tech", entity="objects", object_type=accounts, conditions=[
            {"attribute": "industry", "operator": "equals", "value": "Tech"},
            {"operator": "related_to", "conditions": [plan_is("pro")]}])
    action = make_action(connection, "Account", name="accounts", entity="objects",
                         object_type=accounts, rows=[("name", "Name")],
                         matchers=[["name", "Name"]], allow_create=True)
    action.segments.set([tech_with_pro])
    run = ok(action)
    assert [r["Name"] for r in emulator.control.records("Account")] == ["Acme"]
    assert run.created == 1


def test_an_action_that_writes_other_records_forgets_its_members(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"})
    action = limited(connection, segment("pro", plan_is("pro")))
    ok(action)
    assert members(action) == {"ann@x.io"}
    action.save()
    assert members(action) == {"ann@x.io"}
    action.entity = "objects"
    action.object_type = ObjectType.objects.create(singular="Account", plural="Accounts")
    action.save()
    assert not ActionMember.objects.filter(action=action).exists()
