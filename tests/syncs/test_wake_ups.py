"""Duplicate wake-ups: the run queue can wake a worker twice for one run (the request's own
wake-up and the dispatcher's lease of the same due slot; a lease sent again while the first
wake-up waited for a busy worker). Whichever comes second finds the run answered and claims
nothing: one run, not two."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from syncs import tasks
from syncs.actions import Action
from syncs.models import Sync
from syncs.tasks import dispatch, run_action_task, run_sync_task
from tests.syncs.conftest import contacts
from tests.syncs.push_cast import hub_people, make_action

pytestmark = pytest.mark.django_db


def _leased(sync: Sync) -> dt.datetime:
    """The due slot the dispatcher leased: what its wake-up carries."""
    return Sync.objects.get(pk=sync.pk).next_run_at


def _due_and_dispatched(emulator, make_sync) -> Sync:
    """A sync of two contacts whose scheduled slot came due, leased by the dispatcher."""
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    Sync.objects.filter(pk=sync.pk).update(next_run_at=timezone.now())
    dispatch()
    return sync


@pytest.mark.parametrize("request_first", [True, False], ids=["request-first", "lease-first"])
def test_sync_now_woken_twice_runs_once(emulator, make_sync, request_first):
    emulator.control.insert("Contact", *contacts(2))
    sync = make_sync("Contact", fields=["LastName"])
    sync.request_run()
    assert dispatch() >= 1  # the request is due: the dispatcher leases it and wakes a worker
    wake_ups = [(sync.pk, "manual"), (sync.pk, "manual", _leased(sync))]
    first, second = wake_ups if request_first else wake_ups[::-1]

    assert run_sync_task(*first)["ran"]
    assert run_sync_task(*second) == {"sync": sync.pk, "ran": False}
    assert sync.runs.count() == 1


def test_a_lease_sent_again_runs_once_and_the_newest_wake_up_runs_it(emulator, make_sync):
    sync = _due_and_dispatched(emulator, make_sync)
    stale = _leased(sync)
    # The first wake-up waited behind busy workers: half a claim expiry later the dispatcher
    # leases the slot again and sends a second one.
    dispatch(now=stale + dt.timedelta(seconds=1))
    fresh = _leased(sync)
    assert fresh > stale

    assert run_sync_task(sync.pk, "schedule", stale) == {"sync": sync.pk, "ran": False}
    assert sync.runs.count() == 0 and Sync.objects.get(pk=sync.pk).claimed_at is None
    assert run_sync_task(sync.pk, "schedule", fresh)["ran"]
    assert run_sync_task(sync.pk, "schedule", fresh) == {"sync": sync.pk, "ran": False}
    assert sync.runs.count() == 1


def test_a_scheduled_wake_up_runs_its_leased_slot(emulator, make_sync):
    sync = _due_and_dispatched(emulator, make_sync)
    outcome = run_sync_task(sync.pk, "schedule", _leased(sync))
    assert outcome["ran"] and outcome["status"] == "succeeded" and outcome["created"] == 2


def test_an_action_woken_twice_for_one_change_drains_once(emulator, connection):
    action = make_action(connection)
    hub_people({"email": "a@x.io", "lastName": "A"})
    assert tasks.wake_actions("api:test") == 1
    assert run_action_task(action.pk)["ran"]
    # The dispatcher's safety net re-sent the wake-up the first run already answered.
    assert run_action_task(action.pk) == {"action": action.pk, "ran": False}
    assert action.runs.count() == 1


@pytest.mark.parametrize("change_first", [True, False], ids=["change-first", "schedule-first"])
def test_an_action_woken_for_a_change_while_its_reconcile_is_due(emulator, connection,
                                                                  change_first):
    """Change first: it drains and leaves the leased slot, whose wake-up then reconciles.
    Reconcile first: it covers the change, whose wake-up then finds nothing to do."""
    action = make_action(connection)
    hub_people({"email": "a@x.io", "lastName": "A"})
    Action.objects.filter(pk=action.pk).update(next_run_at=timezone.now())
    assert tasks.wake_actions("api:test") == 1
    dispatch()
    lease = Action.objects.get(pk=action.pk).next_run_at
    change, scheduled = (action.pk,), (action.pk, "schedule", lease)

    if change_first:
        assert run_action_task(*change)["ran"] and run_action_task(*scheduled)["ran"]
        assert [run.mode for run in action.runs.order_by("pk")] == ["changes", "reconcile"]
    else:
        assert run_action_task(*scheduled)["ran"]
        assert run_action_task(*change) == {"action": action.pk, "ran": False}
        assert [run.mode for run in action.runs.all()] == ["reconcile"]
