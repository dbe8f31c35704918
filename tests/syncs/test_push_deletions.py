"""Hub deletions on their way to Salesforce: only through a delete action, marked records
matched as usual, records removed for good deleted by the id their link (or the logs)
knows, even once the logs are pruned, and records already gone in Salesforce logged as such
(not failed, not retried)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from logs.models import RecordLog
from syncs.actions import Action
from syncs.exchanges import FieldExchange
from syncs.tasks import prune_logs
from tests.syncs.push_cast import make_action, ok
from workspace.hub import HubWriter, Item
from workspace.models import Change

pytestmark = pytest.mark.django_db

ORIGIN = "api:test"


def people(*rows: dict) -> None:
    """Hub people keyed `k-<email>` in the source ORIGIN."""
    items = [Item(f"k-{row['email']}", "", dict(row), email=row["email"]) for row in rows]
    with transaction.atomic():
        HubWriter(ORIGIN).people(items)


def remove(*emails: str, mark: bool) -> None:
    with transaction.atomic():
        HubWriter(ORIGIN).delete([f"k-{email}" for email in emails], mark=mark)


def from_now_on(action: Action) -> Action:
    """The action drains only the changes made from now on."""
    action.outbox_position = Change.objects.order_by("-id").values_list(
        "id", flat=True).first() or 0
    action.save(update_fields=["outbox_position"])
    return action


def live(emulator, sobject: str = "Contact") -> dict[str, str]:
    return {row["Email"]: row["Id"] for row in emulator.control.records(sobject)}


def test_hub_deletions_reach_salesforce_only_through_a_delete_action(emulator, connection):
    emulator.control.insert("Contact", *[{"LastName": n, "Email": f"{n}@x.io"}
                                         for n in ("a", "b", "c")])
    people(*[{"email": f"{n}@x.io", "lastName": n.upper()} for n in ("a", "b", "c", "d")])
    update = make_action(connection, name="update", rows=[("lastName", "LastName")])
    assert ok(update).updated == 3  # logs which Contact each person is
    ids = live(emulator)
    deletes = from_now_on(make_action(connection, name="delete", operation="delete"))
    remove("a@x.io", mark=True)  # still in the hub, marked: found by its matcher
    remove("b@x.io", "d@x.io", mark=False)  # gone for good: b by its logged id, d unknown
    run = ok(deletes)
    assert (run.fetched, run.deleted, run.skipped, run.failed) == (3, 2, 1, 0)
    assert live(emulator) == {"c@x.io": ids["c@x.io"]}
    logs = {log.record_id or log.error_code: log for log in RecordLog.objects.filter(run=run)}
    assert logs[ids["a@x.io"]].outcome == logs[ids["b@x.io"]].outcome == "deleted"
    assert "nothing was deleted" in logs["NO_SALESFORCE_ID"].message
    assert ok(deletes).fetched == 0
    # The update action passed the same deletions without writing anything.
    assert ok(update).fetched == 0 and live(emulator) == {"c@x.io": ids["c@x.io"]}


def test_the_salesforce_id_of_a_removed_record_outlives_its_record_logs(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "a", "Email": "a@x.io"},
                            {"LastName": "b", "Email": "b@x.io"})
    people({"email": "a@x.io", "lastName": "A"}, {"email": "b@x.io", "lastName": "B"})
    update = make_action(connection, name="update", rows=[("lastName", "LastName")])
    # One-way (no sync of this connection reads Contacts): the update keeps its links because
    # the connection has a delete action of Contacts.
    deletes = from_now_on(make_action(connection, name="delete", operation="delete"))
    assert ok(update).updated == 2
    ids = live(emulator)
    RecordLog.prune(now=timezone.now() + dt.timedelta(days=400))  # the logs are pruned
    remove("a@x.io", mark=False)
    prune_logs()  # the daily pruning passes before the delete action runs: the link stays

    run = ok(deletes)

    assert (run.deleted, run.skipped) == (1, 0), list(RecordLog.objects.filter(
        run=run).values_list("message", flat=True))
    assert live(emulator) == {"b@x.io": ids["b@x.io"]}
    assert not FieldExchange.objects.filter(record_id=ids["a@x.io"]).exists()
    assert FieldExchange.objects.filter(record_id=ids["b@x.io"]).exists()


def test_deleting_what_salesforce_no_longer_has_is_logged_not_failed(emulator, connection):
    binned, purged, kept = emulator.control.insert(
        "Contact", *[{"LastName": n, "Email": f"{n}@x.io"} for n in ("b", "c", "a")])
    (account,) = emulator.control.insert("Account", {"Name": "Not a contact"})
    emulator.control.delete("Contact", binned)
    emulator.control.delete("Contact", purged, hard=True)
    deletes = from_now_on(make_action(connection, operation="delete", matchers=[["sfid", "Id"]]))
    people({"email": "a@x.io", "sfid": kept}, {"email": "b@x.io", "sfid": binned},
           {"email": "c@x.io", "sfid": purged}, {"email": "x@x.io", "sfid": account})
    remove("a@x.io", mark=True)
    run = ok(deletes)
    outcomes = {log.hub_ref: (log.outcome, log.error_code)
                for log in RecordLog.objects.filter(run=run)}
    assert sorted(outcomes.values()) == [
        ("deleted", ""), ("failed", "NOT_THIS_OBJECT"), ("skipped", "ENTITY_IS_DELETED"),
        ("skipped", "INVALID_CROSS_REFERENCE_KEY")]
    assert emulator.control.records("Contact") == []
    assert [row["Id"] for row in emulator.control.records("Account")] == [account]
    assert ok(deletes).fetched == 0  # nothing left to retry


def test_a_delete_reconcile_deletes_marked_records_on_its_own(emulator, connection):
    emulator.control.insert("Contact", {"LastName": "a", "Email": "a@x.io"},
                            {"LastName": "b", "Email": "b@x.io"})
    people({"email": "a@x.io"}, {"email": "b@x.io"})
    remove("a@x.io", mark=True)
    update = make_action(connection, name="update", rows=[("email", "Email")])
    deletes = from_now_on(make_action(connection, name="delete", operation="delete"))
    assert ok(update, full=True).fetched == 1  # marked records are not written...
    run = ok(deletes, full=True)  # ...but a delete action covers them
    assert (run.fetched, run.deleted) == (2, 2)
    assert emulator.control.records("Contact") == []
