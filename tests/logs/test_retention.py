"""Record logs are kept FORCEBRIDGE_LOG_RETENTION_DAYS (30 by default) and pruned."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from logs.models import RecordLog, retention_days
from syncs.tasks import prune_logs


def test_retention_setting(settings):
    """Read once at start-up (a bad value stops it: tests/config/test_settings.py)."""
    assert retention_days() == 30
    settings.FORCEBRIDGE_LOG_RETENTION_DAYS = 7
    assert retention_days() == 7


@pytest.mark.django_db
def test_prune_deletes_only_old_logs(settings):
    settings.FORCEBRIDGE_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    for age in (0, 29, 31, 400):
        RecordLog.objects.create(sobject="Contact", record_id=f"003{age}", outcome="created",
                                 created_at=now - dt.timedelta(days=age))
    assert prune_logs() == 2
    assert sorted(RecordLog.objects.values_list("record_id", flat=True)) == ["0030", "00329"]
    assert RecordLog.prune(now=now + dt.timedelta(days=60)) == 2
