"""The sync page: live progress (a partial that answers 286 once the run ended), buttons
disabled while a run is active, the paginated run history, and a run's errors by code with
"Retry failed records"."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from connections.models import Connection
from logs.models import RecordLog
from syncs.models import Sync, SyncRun


@pytest.fixture
def sync(db) -> Sync:
    org = Connection.objects.create(name="Org")
    return Sync.objects.create(connection=org, name="Contacts", sobject="Contact",
                               person_id_field="Id")


def progress(client, sync):
    return client.get(reverse("admin:syncs_sync_progress", args=[sync.pk]))


def start_run(sync: Sync, **counts) -> SyncRun:
    """A run under way: the sync claimed (heartbeat now) and the run its last one."""
    run = SyncRun.objects.create(sync=sync, trigger="manual", mode="full",
                                 started_at=timezone.now() - dt.timedelta(seconds=10), **counts)
    Sync.objects.filter(pk=sync.pk).update(claimed_at=timezone.now(), claim_token="t",
                                           last_status="running", last_run_id=run.pk)
    return run


def test_progress_polls_until_the_run_ends_then_answers_286(staff_client, sync):
    idle = progress(staff_client, sync)
    assert idle.status_code == 286 and "No run yet" in idle.content.decode()

    sync.request_run()
    starting = progress(staff_client, sync)
    assert starting.status_code == 200 and "Starting" in starting.content.decode()

    run = start_run(sync, fetched=400, total=1000)
    running = progress(staff_client, sync)
    text = running.content.decode()
    assert running.status_code == 200
    assert "400</span> of <span id=\"progress-total\">1000</span> records (40%)" in text
    assert "records/s" in text and "left" in text

    SyncRun.objects.filter(pk=run.pk).update(status="succeeded", fetched=1000,
                                             finished_at=timezone.now())
    Sync.objects.filter(pk=sync.pk).update(claimed_at=None, claim_token="", run_requested="",
                                           last_status="succeeded")
    done = progress(staff_client, sync)
    assert done.status_code == 286
    assert 'data-state="succeeded"' in done.content.decode() and "width:100%" in done.content.decode()


def test_a_run_whose_worker_stopped_ends_the_polling(staff_client, sync):
    start_run(sync, fetched=50, total=100)
    Sync.objects.filter(pk=sync.pk).update(claimed_at=timezone.now() - dt.timedelta(hours=1))
    stopped = progress(staff_client, sync)
    assert stopped.status_code == 286
    assert "failed (the worker stopped)" in stopped.content.decode()


def test_an_incremental_run_shows_done_and_rate_without_a_total(staff_client, sync):
    start_run(sync, fetched=120)
    text = progress(staff_client, sync).content.decode()
    assert "120</span> records read" in text and "fb-progress-indeterminate" in text
    assert " of " not in text.split("progress-done")[1].split("records")[0]


def test_buttons_are_disabled_while_a_run_is_active_and_resync_asks_first(staff_client, sync):
    page = staff_client.get(reverse("admin:syncs_sync_change", args=[sync.pk])).content.decode()
    assert 'id="sync-now" class="default" data-while-running >' in page
    assert "data-confirm=" in page and "data-poll" not in page
    start_run(sync, fetched=1)
    page = staff_client.get(reverse("admin:syncs_sync_change", args=[sync.pk])).content.decode()
    assert page.count('disabled title="A run is under way"') == 2
    assert f'data-poll="{reverse("admin:syncs_sync_progress", args=[sync.pk])}"' in page


def test_view_only_staff_see_progress_but_no_buttons(client, django_user_model, sync):
    viewer = django_user_model.objects.create_user("viewer", password="viewer-pass-1",
                                                   is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_sync"),
                                Permission.objects.get(codename="view_syncrun"))
    client.force_login(viewer)
    run = start_run(sync, fetched=5, failed=1)
    page = client.get(reverse("admin:syncs_sync_change", args=[sync.pk])).content.decode()
    assert 'id="run-progress"' in page and 'id="sync-now"' not in page
    assert 'id="resync-all"' not in page
    run_page = client.get(reverse("admin:syncs_syncrun_change", args=[run.pk])).content.decode()
    assert 'id="retry-failed"' not in run_page
    assert client.post(reverse("admin:syncs_syncrun_retry", args=[run.pk])).status_code == 403


def test_run_history_is_paginated(staff_client, sync):
    now = timezone.now()
    SyncRun.objects.bulk_create([SyncRun(sync=sync, trigger="schedule", status="succeeded",
                                         started_at=now - dt.timedelta(hours=i), fetched=i)
                                 for i in range(30)])
    url = reverse("admin:syncs_sync_runs", args=[sync.pk])
    first = staff_client.get(url)
    assert len(first.context["page"].object_list) == 25 and "Page 1 of 2 · 30 runs" in first.content.decode()
    second = staff_client.get(url, {"page": 2})
    assert [run.fetched for run in second.context["page"].object_list] == [25, 26, 27, 28, 29]


def test_run_page_groups_errors_and_retries_the_failed_records(staff_client, sync):
    run = SyncRun.objects.create(sync=sync, trigger="manual", status="succeeded", failed=3)
    RecordLog.objects.bulk_create(
        [RecordLog(sync=sync, run=run, sobject="Contact", record_id=f"00300000000000{i}AAA",
                   outcome="failed", error_code="INVALID_EMAIL") for i in range(2)]
        + [RecordLog(sync=sync, run=run, sobject="Contact", record_id="003000000000009AAA",
                     outcome="failed", error_code="DUPLICATE_VALUE")])
    page = staff_client.get(reverse("admin:syncs_syncrun_change", args=[run.pk]))
    assert page.context["run_groups"] == [("INVALID_EMAIL", 2), ("DUPLICATE_VALUE", 1)]
    assert 'id="retry-failed"' in page.content.decode()

    answer = staff_client.post(reverse("admin:syncs_syncrun_retry", args=[run.pk]), follow=True)
    assert "3 failed records are read again" in answer.content.decode()
    sync.refresh_from_db()
    assert sync.run_requested == "retry" and len(sync.retry_ids) == 3
    assert staff_client.get(reverse("admin:syncs_syncrun_retry", args=[run.pk])).status_code == 405
