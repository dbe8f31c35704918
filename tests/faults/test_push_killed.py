"""A push worker killed mid-run (SIGKILL of its process group) writes no Salesforce record twice
and loses no outbox row: the next run, once the claim expires, finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from syncs.models import SyncRun
from tests.conftest import ROOT, run_manage
from tests.syncs.push_cast import hub_people, make_action
from tests.syncs.test_concurrent_commands import child_env
from workspace.models import Change

PEOPLE = 1500  # below the Bulk API threshold: sObject Collections of 200


@pytest.mark.django_db(transaction=True)
def test_a_push_killed_mid_run_writes_nothing_twice_and_loses_no_change(emulator, connection):
    hub_people(*[{"email": f"p{i}@x.io", "lastName": f"L{i}"} for i in range(PEOPLE)])
    action = make_action(connection, rows=[("lastName", "LastName")], allow_create=True)
    env = dict(child_env(emulator), FORCEBRIDGE_SYNC_CLAIM_TIMEOUT="5")
    emulator.control.faults(latency_ms=300)  # slow enough to be killed mid-run
    worker = subprocess.Popen(  # noqa: S603 - our own argv
        [sys.executable, "manage.py", "push_now", str(action.pk)], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if len(emulator.control.records("Contact")) >= 200:
                break
            assert worker.poll() is None, "the push ended before it could be killed"
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
    written = len(emulator.control.records("Contact"))
    assert 0 < written < PEOPLE
    emulator.control.faults(latency_ms=0)

    deadline = time.monotonic() + 60
    while True:  # the claim expires 5 s after the killed run's last heartbeat
        again = run_manage(["manage.py", "push_now", str(action.pk)], env, timeout=120)
        if again.returncode == 0 or time.monotonic() > deadline:
            break
        assert "held by another worker" in again.stderr, again.stderr[-2000:]
        time.sleep(1)

    assert again.returncode == 0, again.stdout + again.stderr
    contacts = emulator.control.records("Contact")
    emails = [c["Email"] for c in contacts]
    assert len(emails) == PEOPLE == len(set(emails))  # every person once, none twice
    runs = list(SyncRun.objects.filter(action=action).order_by("started_at"))
    assert runs[0].status == "failed" and "the worker stopped" in runs[0].error
    assert runs[-1].status == "succeeded"
    assert not Change.objects.filter(processed_at__isnull=True).exists()
