"""A drain's progress has a total from its start: the hub records its outbox gives the action
to write (echoes of its own org and changes of attributes it does not write left out), so
the action page's bar shows done / total and an ETA while it runs, and the total is what the
run processed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from mappings.models import Segment
from syncs import drain
from syncs.actions import Action
from syncs.models import SyncRun
from syncs.progress import progress_of
from tests.syncs.push_cast import hub_people, make_action, ok

ROWS = [("lastName", "LastName")]
PEOPLE = 2500  # two drain batches (2000 and 500)


@pytest.mark.django_db(transaction=True)
def test_a_drain_shows_its_total_and_an_eta_from_its_start(emulator, connection, make_sync):
    people = [{"email": f"p{i}@x.io", "lastName": f"L{i}"} for i in range(PEOPLE)]
    # Not counted as they are not written: the same person changed again within the first
    # batch (written once), only an attribute the action does not write changed, and what a
    # sync of its org pulled.
    hub_people(*people[:100])
    hub_people({**people[0], "lastName": "Changed"})
    hub_people(*people[100:])
    hub_people({**people[1], "plan": "pro"})
    pulled = make_sync("Contact", name="Contacts")
    hub_people({"email": "pulled@x.io", "lastName": "Pulled"}, origin=f"sync:{pulled.pk}")
    # sObject Collections only: batches of 2000 hub records.
    action = make_action(connection, rows=ROWS, batch_mode="collections")
    # Each Salesforce call takes 150 ms: 13 matcher queries make a run the page can watch.
    emulator.control.faults(latency_ms=150)
    seen: list[tuple[str, int | None, int, bool]] = []
    finished = threading.Event()

    def watch() -> None:
        try:
            while not finished.is_set():
                report = progress_of(Action.objects.get(pk=action.pk))
                if report.state == "running":
                    seen.append((report.state, report.total, report.done,
                                 report.eta is not None))
                finished.wait(0.05)
        finally:
            db_connection.close()

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        run = ok(action)
    finally:
        finished.set()
        watcher.join(30)
    assert run.mode == "changes" and run.skipped == PEOPLE  # no contact yet: update only
    assert (run.total, run.fetched) == (PEOPLE, PEOPLE)
    # Every look at the running drain saw the same total, before its first batch and after.
    totals = {total for _, total, _, _ in seen if total is not None}
    assert totals == {PEOPLE}, seen[:5]
    done = {done for _, _, done, _ in seen}
    assert 0 in done and any(0 < count < PEOPLE for count in done), sorted(done)
    assert any(eta for _, _, done, eta in seen if done), "no ETA while it ran"


@pytest.mark.django_db
def test_entering_and_leaving_segments_count_in_the_total(emulator, connection):
    hub_people({"email": "ann@x.io", "lastName": "Ann", "plan": "pro"},
               {"email": "bob@x.io", "lastName": "Bob", "plan": "basic"})
    pro = Segment.objects.create(name="pro", conditions=[
        {"attribute": "plan", "operator": "equals", "value": "pro"}])
    action = make_action(connection, rows=ROWS, allow_create=True)
    action.segments.set([pro])
    first = ok(action)
    assert (first.total, first.fetched) == (1, 1)
    # No hub change: both switch plans by the segment's edit; one enters, one leaves.
    pro.conditions = [{"attribute": "plan", "operator": "equals", "value": "basic"}]
    pro.save()
    run = ok(action)
    assert (run.total, run.fetched) == (2, 2)
    assert SyncRun.objects.filter(action=action).count() == 2


@pytest.mark.django_db
def test_a_backlog_past_the_cap_is_not_counted_ahead(emulator, connection, monkeypatch):
    """A drain does not read a backlog of millions twice: past `PENDING_CAP` outbox rows its
    total is not known (the bar shows done and rate), and the run still drains them all."""
    monkeypatch.setattr(drain, "PENDING_CAP", 10)
    hub_people(*[{"email": f"p{i}@x.io", "lastName": f"L{i}"} for i in range(30)])
    action = make_action(connection, rows=ROWS, batch_mode="collections")
    run = ok(action)
    assert (run.total, run.fetched, run.skipped) == (None, 30, 30)
    report = progress_of(Action.objects.get(pk=action.pk))
    assert report.total is None and report.done == 30
