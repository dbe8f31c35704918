"""The run queue: a stopped worker's runs are closed and its sync freed; requests are never
dropped; the claim expires from its last heartbeat."""

from __future__ import annotations

import datetime as dt
import re
import threading
import time

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker

from syncs import queue
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync
from syncs.tasks import dispatch, run_sync_task
from tests.syncs.conftest import contacts

pytestmark = pytest.mark.django_db


def _dead_worker_run(sync: Sync, *, beat_ago: float) -> SyncRun:
    """A run left "running" by a worker whose last heartbeat was `beat_ago` seconds ago."""
    held = queue.claim(sync)
    run = SyncRun.objects.create(sync=sync, trigger="schedule")
    held.start(run)
    Sync.objects.filter(pk=sync.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=beat_ago))
    return run


def test_whoever_takes_an_expired_claim_closes_the_run_it_left_open(emulator, make_sync,
                                                                     settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 120
    emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["LastName"])
    dead = _dead_worker_run(sync, beat_ago=60)
    assert run_sync(sync.pk) is None  # a minute since the last heartbeat: not expired yet
    Sync.objects.filter(pk=sync.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=121))
    beat = Sync.objects.get(pk=sync.pk).claimed_at

    run = run_sync(sync.pk)

    dead.refresh_from_db()
    assert dead.status == "failed" and dead.finished_at is not None
    assert dead.error == ("the worker stopped during this run (last heartbeat "
                          f"{beat.astimezone(dt.UTC):%H:%M:%S} UTC)")
    assert run.status == "succeeded" and run.created == 3
    stored = Sync.objects.get(pk=sync.pk)
    assert (stored.last_status, stored.last_run_id, stored.claimed_at) == ("succeeded", run.pk,
                                                                          None)


def test_the_dispatcher_frees_expired_claims_and_closes_their_runs(make_sync, settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 120
    sync = make_sync("Contact", fields=["LastName"], enabled=True)
    Sync.objects.filter(pk=sync.pk).update(next_run_at=timezone.now() + dt.timedelta(days=1))
    dead = _dead_worker_run(sync, beat_ago=130)
    live = make_sync("Lead", fields=["LastName"])
    running = _dead_worker_run(live, beat_ago=5)

    dispatch()

    dead.refresh_from_db()
    running.refresh_from_db()
    assert dead.status == "failed" and "the worker stopped during this run" in dead.error
    assert running.status == "running"  # its worker renewed the claim 5 s ago
    stored = Sync.objects.get(pk=sync.pk)
    assert stored.claimed_at is None and stored.last_status == "failed"
    assert Sync.objects.get(pk=live.pk).claimed_at is not None


def test_a_request_made_while_a_run_holds_the_sync_runs_when_it_is_released(make_sync, settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 120
    sync = make_sync("Contact", fields=["LastName"])
    held = queue.claim(sync)
    sync.request_run()
    sync.refresh_from_db()
    assert queue.waiting_for(sync) == "queued: starts when the current run ends"
    broker = get_broker()
    before = broker.queue_size()

    held.release()

    stored = Sync.objects.get(pk=sync.pk)
    assert stored.run_requested == "manual" and stored.claimed_at is None
    assert stored.next_run_at <= timezone.now()
    assert broker.queue_size() == before + 1  # woken at once, not at the next dispatch


def test_a_stopped_workers_claim_says_when_it_expires(make_sync, settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 120
    sync = make_sync("Contact", fields=["LastName"])
    _dead_worker_run(sync, beat_ago=45)
    sync.refresh_from_db()
    expires = (sync.claimed_at + dt.timedelta(seconds=120)).astimezone(dt.UTC)
    assert queue.waiting_for(sync) == ("queued: starts when the stopped worker's claim expires "
                                       f"at {expires:%H:%M:%S} UTC")


def test_a_lost_claim_stops_heartbeats(make_sync):
    sync = make_sync("Contact", fields=["LastName"])
    held = queue.claim(sync)
    Sync.objects.filter(pk=sync.pk).update(claim_token="another-worker")
    held.renewed -= queue.HEARTBEAT
    with pytest.raises(queue.LostClaim):
        held.beat()


def test_sync_now_queues_a_held_sync_and_waits_for_its_run(emulator, make_sync, settings,
                                                           capsys):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 3
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    dead = _dead_worker_run(sync, beat_ago=0)
    with pytest.raises(CommandError, match="pass --wait"):
        call_command("sync_now", str(sync.pk))
    assert Sync.objects.get(pk=sync.pk).run_requested == "manual"

    call_command("sync_now", str(sync.pk), "--wait", "30")

    said = capsys.readouterr().out
    assert "is held by another worker; queued: starts when the current run ends" in said
    run = sync.runs.exclude(pk=dead.pk).get()
    assert f"Run {run.pk} of {sync.name!r} (manual, full): succeeded" in said
    dead.refresh_from_db()
    assert dead.status == "failed"


def test_sync_now_after_a_crash_waits_for_the_stopped_workers_claim(emulator, make_sync,
                                                                    settings, monkeypatch):
    monkeypatch.setattr(queue, "HEARTBEAT", 1)  # watch the claim for 3 s, not 30
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 6
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    dead = _dead_worker_run(sync, beat_ago=0)  # pressed right after the crash
    sync.request_run()
    started = time.monotonic()

    outcome = run_sync_task(sync.pk, "manual")

    assert outcome["ran"] and outcome["status"] == "succeeded" and outcome["created"] == 2
    assert 5 <= time.monotonic() - started < 20  # at the claim's expiry, not the next dispatch
    dead.refresh_from_db()
    assert dead.status == "failed"


@pytest.mark.django_db(transaction=True)
def test_sync_now_while_a_live_run_holds_the_sync_is_left_to_that_run(make_sync, settings,
                                                                      monkeypatch):
    monkeypatch.setattr(queue, "HEARTBEAT", 1)
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 60
    live = make_sync("Lead", fields=["LastName"])
    _dead_worker_run(live, beat_ago=0)
    live.request_run()
    beating = threading.Event()

    def heartbeat() -> None:  # the live run's worker, renewing its claim
        try:
            while not beating.wait(0.3):
                Sync.objects.filter(pk=live.pk).update(claimed_at=timezone.now())
        finally:
            db_connection.close()

    thread = threading.Thread(target=heartbeat)
    thread.start()
    try:
        assert run_sync_task(live.pk, "manual") == {"sync": live.pk, "ran": False}
    finally:
        beating.set()
        thread.join(10)
    assert Sync.objects.get(pk=live.pk).run_requested == "manual"


def test_no_page_shows_a_run_as_running_once_its_claim_is_gone(staff_client, make_sync,
                                                               settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 120
    sync = make_sync("Contact", fields=["LastName"])
    dead = _dead_worker_run(sync, beat_ago=130)  # not reaped yet: the dispatcher has not run
    for url in (reverse("admin:syncs_syncrun_changelist"),
                reverse("admin:syncs_syncrun_change", args=[dead.pk]),
                reverse("admin:syncs_sync_changelist"),
                reverse("admin:syncs_sync_change", args=[sync.pk])):
        page = staff_client.get(url).content.decode()
        assert "failed (the worker stopped)" in page, url
        assert not re.search(r"fb-run-status[^>]*>running<", page), url
