"""The outbox keeps every unprocessed change and lets processed ones go after the retention."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from workspace.hub import HubWriter, Item
from workspace.models import Change

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2025, 6, 1, 12, tzinfo=dt.UTC)


def change(created_days_ago: float, processed_days_ago: float | None = None) -> Change:
    processed = None if processed_days_ago is None else NOW - dt.timedelta(processed_days_ago)
    return Change.objects.create(entity="person", entity_id=1, op="created",
                                 created_at=NOW - dt.timedelta(created_days_ago),
                                 processed_at=processed)


def test_only_rows_processed_before_the_cut_off_go():
    gone = change(60, processed_days_ago=31)
    kept = [change(60, processed_days_ago=29),  # processed recently, though made long ago
            change(30, processed_days_ago=30),  # exactly at the cut-off
            change(400)]                        # never processed: push still owes it
    assert Change.prune(days=30, now=NOW) == 1
    assert not Change.objects.filter(pk=gone.pk).exists()
    assert sorted(Change.objects.values_list("pk", flat=True)) == sorted(c.pk for c in kept)
    assert Change.prune(days=30, now=NOW) == 0


def test_prune_deletes_a_batch_per_statement():
    for _ in range(5):
        change(90, processed_days_ago=60)
    change(90)
    with CaptureQueriesContext(connection) as queries:
        assert Change.prune(days=30, now=NOW, batch=2) == 5
    deletes = [q["sql"] for q in queries if q["sql"].startswith("DELETE")]
    assert len(deletes) == 3  # 2 + 2 + 1
    assert Change.objects.count() == 1


def test_what_the_hub_writer_announces_stays_until_push_processes_it():
    HubWriter("sync:1").people([Item("003A", "2024-01-01T00:00:00.000+0000", {"a": 1},
                                     customer_id="003A")])
    assert Change.objects.filter(processed_at__isnull=True).count() == 1
    assert Change.prune(days=1, now=timezone.now() + dt.timedelta(days=365)) == 0
    assert Change.objects.count() == 1
