"""Real clusters on one database: syncs requested again and again never run twice at once and
the hub ends equal to Salesforce; a broker that loses its queued tasks loses no requested sync."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time

import pytest
from django_q.brokers import get_broker

from syncs.models import Sync, SyncRun
from syncs.tasks import dispatch, ensure_schedules
from tests.conftest import ROOT
from tests.syncs.test_concurrent_commands import child_env
from workspace.models import Object, Person, Relationship

pytestmark = [pytest.mark.cluster, pytest.mark.django_db(transaction=True)]

OBJECTS = ("Contact", "Lead", "Account", "AccountContactRelation")


def _clusters(env: dict[str, str], count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "qcluster"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        for _ in range(count)]


def _stop(clusters: list[subprocess.Popen]) -> str:
    said = ""
    for cluster in clusters:
        if cluster.poll() is None:
            os.killpg(cluster.pid, signal.SIGTERM)
        try:
            said += cluster.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
            said += cluster.communicate()[1]
    return said


def _settled(syncs: list[Sync], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = Sync.objects.filter(pk__in=[s.pk for s in syncs]).exclude(
            run_requested="", claimed_at__isnull=True).exists()
        if not busy and not SyncRun.objects.filter(status="running").exists():
            return
        time.sleep(0.5)
    raise AssertionError("the syncs did not settle")


def _data(emulator) -> tuple[set[str], int]:
    accounts = emulator.control.insert("Account", *[{"Name": f"A{i}"} for i in range(20)])
    contacts = emulator.control.insert("Contact", *[
        {"LastName": f"C{i}", "Email": f"c{i}@x.io", "AccountId": accounts[i % 20]}
        for i in range(300)])
    emulator.control.insert("Lead", *[{"LastName": f"L{i}", "Company": "Acme",
                                       "Email": f"c{i}@x.io" if i < 50 else f"l{i}@x.io"}
                                      for i in range(100)])
    return set(contacts), len(accounts)


def test_two_clusters_requested_again_and_again_never_overlap_a_run(emulator, make_sync):
    contact_ids, accounts = _data(emulator)
    syncs = [make_sync(name) for name in OBJECTS]
    ensure_schedules()
    clusters = _clusters(child_env(emulator), 2)
    try:
        for _, sync in zip(range(24), itertools.cycle(syncs)):
            sync.request_run()  # every sync, again and again, while the clusters run them
            time.sleep(0.25)
        _settled(syncs, 180)
    finally:
        said = _stop(clusters)
    assert "Traceback" not in said, said[-3000:]
    for sync in syncs:
        runs = list(SyncRun.objects.filter(sync=sync).order_by("started_at"))
        assert runs and all(r.status == "succeeded" for r in runs), [r.error for r in runs]
        for earlier, later in itertools.pairwise(runs):
            assert earlier.finished_at <= later.started_at, (sync.name, earlier.pk, later.pk)
    # The hub equals Salesforce: every contact once, the 50 leads with a contact's e-mail
    # merged into it, every account, every account-contact relation.
    assert set(Person.objects.exclude(customer_id=None).values_list("customer_id", flat=True)) \
        == contact_ids
    assert Person.objects.filter(customer_id=None).count() == 50
    assert Object.objects.count() == accounts and Relationship.objects.count() == 300


def test_a_broker_that_lost_its_tasks_loses_no_requested_sync(emulator, make_sync, settings):
    settings.FORCEBRIDGE_SYNC_CLAIM_TIMEOUT = 20
    _data(emulator)
    syncs = [make_sync(name) for name in OBJECTS[:3]]
    ensure_schedules()
    for sync in syncs:
        sync.request_run()
    assert dispatch() == len(syncs)
    get_broker().purge_queue()  # a Redis restart, say: every wake-up is gone
    lost = time.monotonic()
    # A short claim expiry (the dispatch lease is half of it) keeps the test short; the
    # dispatcher still runs once a minute, as in production.
    clusters = _clusters(dict(child_env(emulator), FORCEBRIDGE_SYNC_CLAIM_TIMEOUT="20"), 1)
    try:
        deadline = lost + 150
        while time.monotonic() < deadline:
            ran = set(SyncRun.objects.filter(status="succeeded").values_list("sync", flat=True))
            if ran >= {s.pk for s in syncs}:
                break
            time.sleep(1)
    finally:
        _stop(clusters)
    assert ran >= {s.pk for s in syncs}, "a requested sync never ran after the broker flush"
    assert time.monotonic() - lost <= 150
