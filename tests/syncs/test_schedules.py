"""Schedules that cannot run are refused when saved; one stored anyway never sticks its sync."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError

from syncs import queue, schedule
from syncs.models import Sync

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"schedule_kind": "minutes", "every_minutes": 0}, "every_minutes", "Between 1 and 525,600"),
    ({"schedule_kind": "minutes", "every_minutes": 99_999_999_999}, "every_minutes",
     "Between 1 and 525,600"),
    ({"schedule_kind": "cron", "cron": "0 0 31 2 *"}, "cron", "never fires"),
    ({"schedule_kind": "cron", "cron": "61 * * * *"}, "cron", "Not a valid cron expression"),
    ({"schedule_kind": "cron", "cron": ""}, "cron", "Not a valid cron expression"),
])
def test_a_schedule_that_cannot_run_is_refused_with_the_reason(make_sync, changes, field,
                                                                reason):
    sync = make_sync("Contact", fields=["LastName"])
    for name, value in changes.items():
        setattr(sync, name, value)
    with pytest.raises(ValidationError) as refused:
        sync.full_clean()
    assert reason in " ".join(refused.value.message_dict[field])


def test_a_cron_more_than_a_year_away_is_refused():
    now = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    field, message = schedule.problem("cron", every_minutes=15, cron="0 0 29 2 *", now=now)
    assert field == "cron" and "next fires on 2028-02-29, more than a year away" in message
    assert schedule.problem("cron", every_minutes=15, cron="0 9 * * 1", now=now) == ("", "")


def test_a_stored_schedule_that_cannot_run_disables_its_sync_instead_of_sticking(make_sync):
    sync = make_sync("Contact", fields=["LastName"])
    Sync.objects.filter(pk=sync.pk).update(schedule_kind="cron", cron="0 0 31 2 *")
    sync.refresh_from_db()
    held = queue.claim(sync)

    held.release()

    stored = Sync.objects.get(pk=sync.pk)
    assert stored.claimed_at is None and not stored.enabled and stored.next_run_at is None
    assert stored.last_error.startswith("Disabled: its schedule cannot run (cron: The cron "
                                        "expression '0 0 31 2 *' never fires")


def test_the_migration_repairs_stored_schedules(make_sync):
    huge = make_sync("Contact", fields=["LastName"])
    never = make_sync("Lead", fields=["LastName"])
    fine = make_sync("Account", fields=["Name"], schedule_kind="cron", cron="*/5 * * * *")
    # The largest a PostgreSQL integer column holds, far past a year of minutes.
    Sync.objects.filter(pk=huge.pk).update(schedule_kind="minutes", every_minutes=2**31 - 1)
    Sync.objects.filter(pk=never.pk).update(schedule_kind="cron", cron="0 0 31 2 *")
    migration = importlib.import_module("syncs.migrations.0003_repair_schedules")

    migration.repair(apps, None)

    huge, never, fine = (Sync.objects.get(pk=s.pk) for s in (huge, never, fine))
    assert huge.every_minutes == schedule.MAX_MINUTES and huge.enabled
    assert not never.enabled and "never fires" in never.last_error
    assert fine.enabled and fine.last_error == ""
