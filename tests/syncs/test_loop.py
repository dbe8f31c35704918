"""The two-way loop: pulls and pushes of one org, with no echo, no ping-pong, no lost update,
every conflict settled by the connection's policy and logged (syncs/loop_pull.py,
syncs/loop_push.py)."""

from __future__ import annotations

import time

import pytest

from connections.models import Connection
from logs.models import RecordLog
from syncs.exchanges import FieldExchange
from syncs.pull import run_sync
from tests.syncs.push_cast import hub_people, make_action, ok
from workspace.models import Change, Person

pytestmark = pytest.mark.django_db

FIELDS = ["FirstName", "LastName", "Title", "Email", "Birthdate", "LastModifiedDate"]
ROWS = [("firstName", "FirstName"), ("lastName", "LastName"), ("title", "Title"),
        ("Birthdate", "Birthdate")]
BY_ID = [["customer_id", "Id"]]


def pull(sync):
    run = run_sync(sync.pk)
    assert run.status == "succeeded", run.error
    return run


WRITES = ("composite", "bulk", "sobject-create", "sobject-update", "sobject-upsert",
          "sobject-delete")


def writes(emulator) -> int:
    """Salesforce write calls served since the counters were cleared."""
    counters = emulator.control.counters()
    return sum(counters.get(name, 0) for name in WRITES)


def change_hub(cid: str, email: str, **attributes) -> None:
    """A hub change from outside Salesforce (the inbound API)."""
    hub_people({"customer_id": cid, "email": email, **attributes})


def test_pull_push_pull_push_writes_nothing_the_second_round(emulator, connection, make_sync):
    ann, bo = emulator.control.insert(
        "Contact", {"FirstName": "Ann", "LastName": "Lee", "Email": "ann@x.io", "Title": "CEO"},
        {"FirstName": "Bo", "LastName": "Ek", "Email": "bo@x.io"})
    sync = make_sync("Contact", fields=FIELDS)
    action = make_action(connection, rows=ROWS, matchers=BY_ID)
    # Round 1: the pull brings both in; the hub changes Ann (a date as Unix seconds, as the
    # inbound API sends them); the push writes only that.
    assert pull(sync).created == 2
    # The pull remembers the fields the action writes back (not Email: no action writes it).
    assert FieldExchange.objects.filter(record_id=ann, direction="in").count() == len(ROWS)
    change_hub(ann, "ann@x.io", title="CTO", Birthdate=631238400)
    run = ok(action)
    assert (run.updated, run.skipped) == (1, 0)
    assert RecordLog.objects.get(run=run, outcome="updated").changed_fields == ["Birthdate",
                                                                               "Title"]
    record = emulator.control.record("Contact", ann)
    assert (record["Title"], record["Birthdate"]) == ("CTO", "1990-01-02")
    sent = FieldExchange.objects.get(record_id=ann, field="Title")
    assert (sent.direction, sent.value, sent.hub_value) == ("out", "CTO", "CTO")
    # Round 2: the pull reads Ann back (a newer SystemModstamp) as our own write: the hub is
    # not rewritten (its Birthdate stays as the API gave it) and no outbox row is written.
    emulator.control.clock(advance=120)
    person = Person.objects.get(customer_id=ann)
    changes = Change.objects.count()
    emulator.control.clear_counters()
    again = pull(sync)
    assert (again.created, again.updated, again.conflicts) == (0, 0, 0)
    assert set(RecordLog.objects.filter(run=again).values_list("outcome", flat=True)) <= {
        "unchanged"}
    assert Change.objects.count() == changes
    person.refresh_from_db()
    assert person.attributes["Birthdate"] == 631238400 and person.attributes["title"] == "CTO"
    run = ok(action)
    assert run.fetched == 0 and writes(emulator) == 0
    # A reconcile of everything writes nothing either: Salesforce has what the hub has, and
    # Bo's values came from Salesforce.
    emulator.control.clear_counters()
    run = ok(action, full=True)
    assert (run.fetched, run.updated, run.created) == (2, 0, 0) and writes(emulator) == 0
    assert emulator.control.record("Contact", bo)["Title"] is None


def test_a_salesforce_change_is_not_overwritten_by_a_stale_hub_value(emulator, connection,
                                                                     make_sync):
    (ann,) = emulator.control.insert("Contact", {"LastName": "Lee", "Email": "ann@x.io",
                                                 "Title": "CEO"})
    sync = make_sync("Contact", fields=FIELDS)
    action = make_action(connection, rows=ROWS, matchers=BY_ID)
    pull(sync)
    emulator.control.clock(advance=120)
    emulator.control.update("Contact", ann, {"Title": "Chair"})
    change_hub(ann, "ann@x.io", firstName="Ann")  # another field changes in the hub
    run = ok(action)  # before the pull has seen the new title
    assert run.updated == 1 and run.conflicts == 0
    record = emulator.control.record("Contact", ann)
    assert (record["FirstName"], record["Title"]) == ("Ann", "Chair")
    pull(sync)
    assert Person.objects.get().attributes["title"] == "Chair"


POLICIES = {"salesforce": "SF", "hub": "Hub"}


@pytest.mark.parametrize("first", ["push", "pull"])
@pytest.mark.parametrize("policy,newer", [("salesforce", "hub"), ("hub", "salesforce"),
                                          ("newest", "salesforce"), ("newest", "hub")])
def test_both_sides_changed_the_policy_decides_and_the_conflict_is_logged(
        emulator, connection, make_sync, policy, newer, first):
    Connection.objects.filter(pk=connection.pk).update(conflict_policy=policy)
    (ann,) = emulator.control.insert("Contact", {"LastName": "Lee", "Email": "ann@x.io",
                                                 "Title": "CEO"})
    sync = make_sync("Contact", fields=FIELDS)
    action = make_action(connection, rows=ROWS, matchers=BY_ID)
    pull(sync)
    # Each side changes the title; the one changed last is the newer (the org's clock runs
    # with the hub's until moved).
    sides = {"salesforce": lambda: emulator.control.update("Contact", ann, {"Title": "SF"}),
             "hub": lambda: change_hub(ann, "ann@x.io", title="Hub")}
    older = "hub" if newer == "salesforce" else "salesforce"
    sides[older]()
    time.sleep(0.05)
    if newer == "salesforce":
        emulator.control.clock(advance=60)
    sides[newer]()
    won = {"salesforce": "SF", "hub": "Hub", "newest": POLICIES[newer]}[policy]

    runs = [ok(action), pull(sync)] if first == "push" else [pull(sync), ok(action)]
    runs += [pull(sync), ok(action)]  # a second round settles nothing more

    assert emulator.control.record("Contact", ann)["Title"] == won
    assert Person.objects.get().attributes["title"] == won
    log = RecordLog.objects.get(outcome="conflict")
    assert log.error_code == "FIELD_CONFLICT" and log.record_id == ann
    assert log.changed_fields == ["Title"] and log.hub_ref.startswith("person:")
    assert "'SF'" in log.message and "'Hub'" in log.message and "'CEO'" in log.message
    winner = "Salesforce wins" if won == "SF" else "the hub wins"
    assert winner in log.message, log.message
    assert log.direction == ("out" if first == "push" else "in")
    assert log.run_id == runs[0].pk and runs[0].conflicts == 1
    assert sum(run.conflicts for run in runs[1:]) == 0


@pytest.mark.parametrize("first", ["push", "pull"])
def test_newest_wins_compares_the_time_the_field_changed_in_the_hub(emulator, connection,
                                                                    make_sync, first):
    Connection.objects.filter(pk=connection.pk).update(conflict_policy="newest")
    (ann,) = emulator.control.insert("Contact", {"LastName": "Lee", "Email": "ann@x.io",
                                                 "Title": "CEO"})
    sync = make_sync("Contact", fields=FIELDS)
    action = make_action(connection, rows=ROWS, matchers=BY_ID)
    pull(sync)
    # The hub's title changes first, then Salesforce's; then another field of Ann changes in
    # the hub. Salesforce's title is the newer one, however recent the hub row's last change.
    change_hub(ann, "ann@x.io", title="Hub")
    time.sleep(0.05)
    emulator.control.update("Contact", ann, {"Title": "SF"})
    time.sleep(0.05)
    change_hub(ann, "ann@x.io", firstName="Ann")

    runs = [ok(action), pull(sync)] if first == "push" else [pull(sync), ok(action)]

    assert emulator.control.record("Contact", ann)["Title"] == "SF"
    person = Person.objects.get()
    assert (person.attributes["title"], person.attributes["firstName"]) == ("SF", "Ann")
    log = RecordLog.objects.get(outcome="conflict")
    assert "Salesforce wins (newest" in log.message, log.message
    assert log.run_id == runs[0].pk
    assert emulator.control.record("Contact", ann)["FirstName"] == "Ann"


def test_a_record_deleted_in_salesforce_is_not_recreated_by_an_update_only_action(
        emulator, connection, make_sync):
    ann, bo = emulator.control.insert("Contact", {"LastName": "Lee", "Email": "ann@x.io"},
                                      {"LastName": "Ek", "Email": "bo@x.io"})
    sync = make_sync("Contact", fields=FIELDS)
    update_only = make_action(connection, rows=ROWS)  # matched by e-mail
    pull(sync)
    emulator.control.delete("Contact", ann)
    emulator.control.clock(advance=120)
    # Before the pull sees the deletion, the hub changes Ann: there is nothing to update.
    change_hub(ann, "ann@x.io", title="CTO")
    change_hub(bo, "bo@x.io", title="CFO")
    run = ok(update_only)
    assert (run.updated, run.created, run.skipped) == (1, 0, 1)
    skipped = RecordLog.objects.get(run=run, outcome="skipped")
    assert skipped.error_code == "NO_MATCH" and "update only" in skipped.message
    assert [r["Email"] for r in emulator.control.records("Contact")] == ["bo@x.io"]
    # The pull of the deletion forgets the link; still nothing is re-created.
    pull(sync)
    assert not FieldExchange.objects.filter(record_id=ann).exists()
    change_hub(ann, "ann@x.io", title="CIO")
    assert ok(update_only).created == 0
    assert len(emulator.control.records("Contact")) == 1
    # Only an action allowed to create brings the record back.
    creating = make_action(connection, name="creating", rows=ROWS, allow_create=True)
    assert ok(creating, full=True).created == 1


def test_a_delete_crosses_over_only_through_a_delete_action(emulator, connection, make_sync):
    ann, bo = emulator.control.insert("Contact", {"LastName": "Lee", "Email": "ann@x.io"},
                                      {"LastName": "Ek", "Email": "bo@x.io"})
    sync = make_sync("Contact", fields=FIELDS)
    update = make_action(connection, name="update", rows=ROWS, matchers=BY_ID)
    pull(sync)
    # Bo is deleted in Salesforce; the pull removes him from the hub; nothing else goes.
    emulator.control.delete("Contact", bo)
    emulator.control.clock(advance=120)
    pull(sync)
    assert not Person.objects.filter(customer_id=bo).exists()
    assert ok(update).fetched == 0
    assert [r["Id"] for r in emulator.control.records("Contact")] == [ann]
    # An action whose operation is delete deletes the linked record, and forgets the link.
    delete = make_action(connection, name="delete", rows=ROWS, matchers=BY_ID,
                         operation="delete")
    change_hub(ann, "ann@x.io", title="Gone")
    assert ok(delete).deleted == 1
    assert emulator.control.records("Contact") == []
    assert not FieldExchange.objects.filter(record_id=ann).exists()
