"""A worker killed mid-run (SIGKILL of its whole process group, as a lost machine) blocks
nothing: the next worker closes the dead run, takes the sync once the claim expires and
finishes it, and the hub equals Salesforce."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from syncs.models import Sync, SyncRun
from tests.conftest import ROOT, run_manage
from tests.syncs.conftest import contacts
from tests.syncs.test_concurrent_commands import child_env
from workspace.models import Person, SourceRecord

RECORDS = 3000
CLAIM_EXPIRY = 5  # seconds; the default is 120, shortened so the test waits seconds


def _start_worker(sync: Sync, env: dict[str, str]) -> subprocess.Popen:
    """`manage.py sync_now` in a process group of its own (so the whole group can be killed)."""
    return subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "sync_now", str(sync.pk)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def _kill_after(child: subprocess.Popen, sync: Sync, fetched: int, timeout: float = 90) -> None:
    """SIGKILL the child's process group once its run has applied `fetched` records."""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            run = SyncRun.objects.filter(sync=sync).first()
            if run is not None and run.fetched >= fetched:
                return
            assert child.poll() is None, "the worker ended before it could be killed"
            time.sleep(0.05)
        raise AssertionError(f"the run never reached {fetched} records")
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait(10)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["rest", "bulk"])
def test_a_worker_killed_mid_run_is_closed_and_its_sync_completes(emulator, make_sync, path):
    ids = set(emulator.control.insert("Contact", *contacts(RECORDS), load=True))
    sync = make_sync("Contact", fields=["LastName", "Email"], batch_size=200,
                     bulk_threshold=0 if path == "bulk" else None)
    env = dict(child_env(emulator), FORCEBRIDGE_SYNC_CLAIM_TIMEOUT=str(CLAIM_EXPIRY))
    emulator.control.faults(latency_ms=150)  # slow enough to be killed mid-run
    _kill_after(_start_worker(sync, env), sync, fetched=600)
    killed = time.monotonic()
    dead = SyncRun.objects.get(sync=sync)
    assert dead.status == "running" and 0 < dead.fetched < RECORDS
    emulator.control.faults(latency_ms=0)

    again = run_manage(["manage.py", "sync_now", str(sync.pk), "--wait", "60"], env,
                       timeout=120)

    assert again.returncode == 0, again.stdout + again.stderr
    assert time.monotonic() - killed < 60
    dead.refresh_from_db()
    assert dead.status == "failed" and dead.finished_at is not None
    assert dead.error.startswith("the worker stopped during this run (last heartbeat ")
    done = SyncRun.objects.exclude(pk=dead.pk).get(sync=sync)
    assert done.status == "succeeded", done.error
    stored = Sync.objects.get(pk=sync.pk)
    assert (stored.last_status, stored.last_run_id, stored.claimed_at) == (
        "succeeded", done.pk, None)
    # The hub equals Salesforce: every contact once, nothing else.
    assert set(Person.objects.values_list("customer_id", flat=True)) == ids
    assert Person.objects.count() == RECORDS
    assert SourceRecord.objects.filter(source=sync.source).count() == RECORDS
