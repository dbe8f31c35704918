"""Two `manage.py sync_now` processes started at once on one sync: one runs it, one is refused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from logs.models import RecordLog
from syncs.models import Sync, SyncRun
from tests.conftest import ROOT, database_url_for_subprocess
from tests.syncs.conftest import contacts
from workspace.models import Person, SourceRecord

RECORDS = 1000


def child_env(emulator) -> dict[str, str]:
    """The environment a child needs: the test database and the emulator as Salesforce.

    The `settings` fixture only changes this process, so everything the child must share is
    passed here; SECRET_KEY and the encryption keys come from os.environ (tests/bootstrap.py).
    """
    return dict(
        os.environ,
        DATABASE_URL=database_url_for_subprocess(),
        SALESFORCE_LOGIN_URL=emulator.login_url,
        SALESFORCE_SANDBOX_LOGIN_URL=emulator.sandbox_login_url,
        SALESFORCE_AUTHORIZE_URL="",
        SALESFORCE_CA_BUNDLE=str(emulator.ca_path),
        SALESFORCE_CLIENT_ID=emulator.client_id,
        SALESFORCE_CLIENT_SECRET=emulator.client_secret,
    )


def run_together(args: list[str], env: dict[str, str], count: int,
                 timeout: float = 60) -> list[tuple[int, str, str]]:
    """Start `count` children with the same argv at once; (exit code, stdout, stderr) of each.

    No child outlives this call: any still running at the end (a timeout, an error) is killed.
    """
    children = [
        subprocess.Popen(  # noqa: S603 - our own argv
            [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    try:
        outputs = [child.communicate(timeout=timeout) for child in children]
        return [(child.returncode, *output)
                for child, output in zip(children, outputs, strict=True)]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.communicate()


@pytest.mark.django_db(transaction=True)
def test_two_sync_now_processes_at_once_run_the_sync_exactly_once(emulator, make_sync):
    ids = set(emulator.control.insert("Contact", *contacts(RECORDS), load=True))
    sync = make_sync("Contact", fields=["LastName", "Email"], batch_size=200)
    # Five pages and a few more calls at 400 ms each: the winner holds the claim for seconds,
    # far longer than the two children's start-ups differ.
    emulator.control.faults(latency_ms=400)

    outcomes = run_together(["manage.py", "sync_now", str(sync.pk)], child_env(emulator), 2)

    outcomes.sort(key=lambda outcome: outcome[0])
    (won, won_out, won_err), (lost, lost_out, lost_err) = outcomes
    assert won == 0, won_err
    # The loser tried while the winner held the claim: the two really overlapped.
    # Its request is queued, not dropped, and it says what the request waits for.
    assert lost == 1 and "did not run here (queued: starts when the current run ends)" in lost_err, (
        lost, lost_out, lost_err)
    assert "is held by another worker" in lost_out
    assert Sync.objects.get(pk=sync.pk).run_requested == "manual"
    run = SyncRun.objects.get(sync=sync)
    assert run.status == SyncRun.Status.SUCCEEDED, run.error
    assert run.fetched == run.created == RECORDS and run.failed == 0
    assert f"Run {run.pk} of {sync.name!r} (manual, full): succeeded" in won_out
    assert f"fetched {RECORDS}, created {RECORDS}" in won_out

    # The hub got every record exactly once.
    emails = sorted(Person.objects.values_list("email", flat=True))
    assert emails == sorted(row["Email"] for row in contacts(RECORDS))
    sources = list(SourceRecord.objects.filter(source=f"sync:{sync.pk}")
                   .values_list("record_id", flat=True))
    assert len(sources) == RECORDS and set(sources) == ids
    logs = RecordLog.objects.filter(sync=sync)
    assert logs.count() == RECORDS and set(logs.values_list("run", flat=True)) == {run.pk}
    assert set(logs.values_list("outcome", flat=True)) == {RecordLog.Outcome.CREATED}
