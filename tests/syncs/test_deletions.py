"""Soft deletes arrive through queryAll, hard deletes through getDeleted; both are logged."""

from __future__ import annotations

import pytest

from logs.models import RecordLog
from syncs import queue
from syncs.models import Sync, SyncRun
from syncs.pull import run_sync
from syncs.scans import Scanner
from tests.syncs.conftest import contacts, pull_with
from workspace.models import Change, Object, Person

pytestmark = pytest.mark.django_db


def ok(sync, **kwargs):
    run = run_sync(sync.pk, **kwargs)
    assert run is not None and run.status == "succeeded", run and run.error
    return run


def run_restoring(emulator, sync: Sync, record_id: str, at: str | None = None) -> SyncRun:
    """Run the sync, restoring `record_id` from the recycle bin after getDeleted was read (and
    before the scan), at the emulator time `at` if given."""

    class RestoringScanner(Scanner):
        def rest(self, *args, **options):
            if at:
                emulator.control.clock(freeze=at)
            emulator.control.undelete(record_id)
            super().rest(*args, **options)

    sync.refresh_from_db()
    held = queue.claim(sync)
    assert held
    run = pull_with(scanner=RestoringScanner)(sync, held, Sync.Trigger.MANUAL).run()
    assert run.status == "succeeded", run.error
    return run


def test_soft_and_hard_deletes_remove_people(emulator, make_sync):
    soft, hard, kept = emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)
    emulator.control.delete("Contact", soft)
    emulator.control.delete("Contact", hard, hard=True)
    # getDeleted lists a deletion once its minute is over (latestDateCovered is a minute).
    emulator.control.clock(advance=61)
    run = ok(sync)
    assert run.deleted == 2
    assert list(Person.objects.values_list("customer_id", flat=True)) == [kept]
    logs = RecordLog.objects.filter(run=run, outcome="deleted")
    assert set(logs.values_list("record_id", flat=True)) == {soft, hard}
    assert Change.objects.filter(op="deleted", entity="person").count() == 2
    assert ok(sync).deleted == 0


def test_deletes_can_be_recorded_instead(emulator, make_sync):
    (aid,) = emulator.control.insert("Account", {"Name": "Acme"})
    sync = make_sync("Account", fields=["Name"], on_delete="mark")
    ok(sync)
    emulator.control.delete("Account", aid)
    assert ok(sync).deleted == 1
    assert Object.objects.get().deleted_at is not None
    emulator.control.undelete(aid)
    ok(sync)
    assert Object.objects.get().deleted_at is None


def test_resync_reconciles_records_gone_for_good(emulator, make_sync):
    gone, kept = emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)
    emulator.control.delete("Contact", gone, hard=True)
    sync.resync()
    run = ok(sync)
    assert run.deleted == 1
    assert list(Person.objects.values_list("customer_id", flat=True)) == [kept]


def test_a_record_restored_while_the_run_reads_stays_in_the_hub(emulator, make_sync):
    restored, deleted = emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)
    emulator.control.delete("Contact", restored)
    emulator.control.delete("Contact", deleted)
    emulator.control.clock(advance=61)

    # getDeleted listed both before the scan; someone restores one from the bin meanwhile.
    run = run_restoring(emulator, sync, restored)
    assert run.deleted == 1
    assert list(Person.objects.values_list("customer_id", flat=True)) == [restored]
    assert RecordLog.objects.filter(run=run, record_id=restored, outcome="unchanged",
                                    message__startswith="restored in Salesforce").exists()


def test_more_deletions_than_get_deleted_lists_are_found_by_comparing_ids(emulator, make_sync):
    first, second, kept = emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)
    emulator.control.settings(max_replication_ids=1)
    emulator.control.delete("Contact", first, hard=True)
    emulator.control.delete("Contact", second, hard=True)
    emulator.control.clock(advance=61)
    run = ok(sync)  # getDeleted answers EXCEEDED_ID_LIMIT for two ids
    assert run.deleted == 2
    assert list(Person.objects.values_list("customer_id", flat=True)) == [kept]
    # Even its last two minutes were refused: the next window starts from this run's start.
    sync.refresh_from_db()
    assert sync.deleted_since is not None and sync.deleted_since <= run.started_at
    # The next run lists deletions from there again: no id reconcile this time.
    emulator.control.settings(max_replication_ids=600_000)
    emulator.control.clear_counters()
    ok(sync)
    assert emulator.control.counters().get("query", 0) == 1  # its scan, and no Id query


def test_a_deletion_and_a_restore_in_the_same_second_are_told_apart_by_asking(emulator,
                                                                            make_sync):
    """SystemModstamp and deletedDate are to the second: a tie is settled by Salesforce."""
    moment = "2024-03-04T05:06:07Z"
    emulator.control.clock(freeze=moment)
    restored, deleted, kept = emulator.control.insert("Contact", *contacts(3))
    sync = make_sync("Contact", fields=["LastName"])
    ok(sync)  # every record applied at 05:06:07
    emulator.control.delete("Contact", restored, hard=False)
    emulator.control.delete("Contact", deleted, hard=True)
    emulator.control.clock(advance=61)

    # Restored from the bin within the second it was deleted in.
    run = run_restoring(emulator, sync, restored, at=moment)
    assert sorted(Person.objects.values_list("customer_id", flat=True)) == sorted(
        [restored, kept])
    assert run.deleted == 1
