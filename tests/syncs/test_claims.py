"""A sync never runs twice at once; the dispatcher re-finds due syncs; schedules."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection as db_connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.models import Schedule

from syncs import queue, schedule
from syncs.applier import PageApplier
from syncs.models import Sync
from syncs.pull import Pull, run_sync
from syncs.tasks import DISPATCH_SCHEDULE, PRUNE_SCHEDULE, dispatch, ensure_schedules
from tests.syncs.conftest import contacts, pull_with
from workspace.models import Person

UTC = dt.UTC


@pytest.mark.django_db
def test_a_claimed_sync_is_not_run_again(make_sync):
    sync = make_sync("Contact", fields=["LastName"])
    assert queue.claim(sync)
    assert run_sync(sync.pk) is None
    stale = Sync.objects.get(pk=sync.pk)
    assert not queue.claim(stale)
    # A claim older than the claim timeout belongs to a dead worker.
    Sync.objects.filter(pk=sync.pk).update(claimed_at=timezone.now() - dt.timedelta(days=1))
    assert queue.claim(stale)


@pytest.mark.django_db(transaction=True)
def test_a_long_run_renews_its_claim_so_nobody_takes_it_over(emulator, make_sync, settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 3
    emulator.control.insert("Contact", *contacts(3000), load=True)
    sync = make_sync("Contact", fields=["LastName"], batch_size=200)
    # Fifteen pages at 300 ms a call: the run lasts well past the timeout, while the calls
    # before its first page (getDeleted, COUNT, the query) take about a second.
    emulator.control.faults(latency_ms=300)
    finished = threading.Event()
    takeovers: list[bool] = []

    def rival() -> None:
        try:
            while not finished.is_set():
                takeovers.append(queue.claim(Sync.objects.get(pk=sync.pk)) is not None)
                finished.wait(0.2)
        finally:
            db_connection.close()

    # The run holds the sync from before the rival starts until after it stops (run_sync
    # would release it at the end, and a claim after that would rightly win).
    held = queue.claim(sync)
    assert held
    thread = threading.Thread(target=rival)
    thread.start()
    try:
        run = Pull(sync, held, Sync.Trigger.MANUAL).run()
    finally:
        finished.set()
        thread.join(30)
    assert run.status == "succeeded", run.error
    assert run.created == 3000
    assert len(takeovers) > 15 and not any(takeovers)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_run_the_sync_exactly_once(emulator, make_sync):
    emulator.control.insert("Contact", *contacts(2000), load=True)
    sync = make_sync("Contact", fields=["LastName", "Email"], batch_size=200)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def worker() -> None:
        try:
            barrier.wait()
            outcomes.append(run_sync(sync.pk))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    ran = [o for o in outcomes if o is not None]
    assert len(outcomes) == 2 and len(ran) == 1
    assert ran[0].status == "succeeded" and ran[0].created == 2000
    assert sync.runs.count() == 1


@pytest.mark.django_db
def test_dispatch_enqueues_due_syncs_once(make_sync):
    due = make_sync("Contact", fields=["LastName"])
    later = make_sync("Lead", fields=["LastName"], start_at=timezone.now() + dt.timedelta(days=1))
    off = make_sync("Account", fields=["Name"], enabled=False)
    broker = get_broker()
    before = broker.queue_size()
    assert dispatch() == 1
    assert broker.queue_size() == before + 1
    assert dispatch() == 0  # leased: a second dispatcher pass does not enqueue it again
    later.refresh_from_db()
    off.refresh_from_db()
    assert later.next_run_at == later.start_at and off.next_run_at is None
    due.refresh_from_db()
    assert due.next_run_at > timezone.now()


@pytest.mark.django_db
def test_request_run_marks_the_sync_due(make_sync, django_capture_on_commit_callbacks):
    sync = make_sync("Contact", fields=["LastName"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sync.resync()
    assert len(callbacks) == 1
    sync.refresh_from_db()
    assert sync.run_requested == "resync" and sync.resync_pending
    assert sync.next_run_at <= timezone.now()


@pytest.mark.django_db
def test_the_periodic_schedules_exist_after_migrate():
    ensure_schedules()
    ensure_schedules()
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {DISPATCH_SCHEDULE, PRUNE_SCHEDULE} <= names
    assert Schedule.objects.filter(name=DISPATCH_SCHEDULE).count() == 1


def test_schedules():
    start = dt.datetime(2024, 1, 1, 6, 30, tzinfo=UTC)
    after = dt.datetime(2024, 1, 3, 7, 0, tzinfo=UTC)
    assert schedule.next_run("daily", after=after, start=start) == dt.datetime(
        2024, 1, 4, 6, 30, tzinfo=UTC)
    assert schedule.next_run("hourly", after=after, start=start) == dt.datetime(
        2024, 1, 3, 7, 30, tzinfo=UTC)
    assert schedule.next_run("minutes", after=after, every_minutes=15) == after + dt.timedelta(
        minutes=15)
    assert schedule.next_run("minutes", after=start - dt.timedelta(days=1), start=start) == start
    assert schedule.next_run("cron", after=after, cron="0 9 * * *") == dt.datetime(
        2024, 1, 3, 9, 0, tzinfo=UTC)
    assert schedule.next_run("cron", after=after, start=dt.datetime(2024, 2, 1, 9, tzinfo=UTC),
                             cron="0 9 * * *") == dt.datetime(2024, 2, 1, 9, tzinfo=UTC)
    assert not schedule.valid_cron("61 * * * *")


@pytest.mark.django_db
def test_a_run_that_loses_its_claim_rolls_back_and_leaves_the_sync_to_its_new_holder(
        emulator, make_sync):
    emulator.control.insert("Contact", *contacts(600), load=True)
    sync = make_sync("Contact", fields=["LastName"], batch_size=200)

    class TakenOverApplier(PageApplier):
        def apply(self, page, **options):
            # Another worker takes the sync over (this one's claim looked expired) and runs it.
            Sync.objects.filter(pk=sync.pk).update(
                claim_token="another-worker", last_status="running", last_run_id=None)
            return super().apply(page, **options)

    held = queue.claim(sync)
    assert held
    run = pull_with(applier=TakenOverApplier)(sync, held, Sync.Trigger.MANUAL).run()
    assert run.status == "failed" and "claimed by another worker" in run.error
    assert run.created == 0 and not Person.objects.exists()  # the page was rolled back
    stored = Sync.objects.get(pk=sync.pk)
    assert (stored.last_status, stored.last_run_id) == ("running", None)
    assert stored.claim_token == "another-worker" and not stored.cursor_modstamp
