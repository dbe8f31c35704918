"""Actions in the run queue: wake-ups on hub changes, the dispatcher's safety net, one run
at a time, and outbox rows processed once every enabled action passed them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.brokers import get_broker

from syncs import queue, tasks
from syncs.actions import Action
from syncs.models import Sync
from syncs.push import run_action
from tests.syncs.push_cast import hub_people, make_action
from workspace.models import Change

pytestmark = pytest.mark.django_db


def test_a_hub_change_wakes_each_action_once(connection):
    action = make_action(connection)
    broker = get_broker()
    before = broker.queue_size()
    assert tasks.wake_actions("api:test") == 1
    assert tasks.wake_actions("api:test") == 0  # already asked: one run answers both
    action.refresh_from_db()
    assert action.run_requested == queue.Trigger.CHANGE
    assert broker.queue_size() == before + 1


def test_changes_pulled_from_the_actions_own_org_wake_nothing(connection):
    make_action(connection)
    sync = Sync.objects.create(connection=connection, name="pull", sobject="Contact",
                               data_format="person", person_id_field="Id")
    assert tasks.wake_actions(sync.source) == 0


def test_the_dispatcher_asks_for_undrained_changes_and_passes_echoes(connection):
    action = make_action(connection)
    sync = Sync.objects.create(connection=connection, name="pull", sobject="Contact",
                               data_format="person", person_id_field="Id")
    hub_people({"email": "a@x.io", "lastName": "A"}, origin=sync.source)
    assert tasks.undrained_actions() == 0
    action.refresh_from_db()
    assert action.outbox_position == Change.objects.order_by("-id").first().pk
    assert not Change.objects.filter(processed_at__isnull=True).exists()
    hub_people({"email": "b@x.io", "lastName": "B"})
    assert tasks.undrained_actions() == 1
    action.refresh_from_db()
    assert action.run_requested == queue.Trigger.CHANGE
    assert Change.objects.filter(processed_at__isnull=True).count() == 1


def test_a_change_stays_unprocessed_until_every_enabled_action_passed_it(emulator, connection):
    first = make_action(connection, name="first")
    make_action(connection, name="second")
    hub_people({"email": "a@x.io", "lastName": "A"})
    assert run_action(first.pk).status == "succeeded"
    assert Change.objects.filter(processed_at__isnull=True).count() == 1
    assert Change.prune(days=0) == 0


def test_an_action_held_by_a_worker_is_not_run_twice(connection):
    action = make_action(connection)
    held = queue.claim(action)
    assert held is not None
    assert run_action(action.pk) is None
    held.release()


def test_due_actions_are_dispatched_like_syncs(connection):
    action = make_action(connection)
    broker = get_broker()
    before = broker.queue_size()
    assert tasks.dispatch() >= 1
    action.refresh_from_db()
    assert action.next_run_at is not None and broker.queue_size() > before


def test_a_change_drain_keeps_the_reconcile_schedule_and_a_scheduled_run_moves_it(
        emulator, connection):
    action = make_action(connection, schedule_kind="hourly")
    assert run_action(action.pk, trigger=queue.Trigger.SCHEDULE).mode == "reconcile"
    action.refresh_from_db()
    slot = action.next_run_at
    assert slot > timezone.now() + dt.timedelta(minutes=59)
    hub_people({"email": "a@x.io", "lastName": "A"})
    assert tasks.wake_actions("api:test") == 1
    action.refresh_from_db()
    assert action.next_run_at == slot  # the wake-up does not touch the slot
    drained = run_action(action.pk)
    assert drained.mode == "changes" and drained.fetched == 1
    action.refresh_from_db()
    assert (action.next_run_at, action.run_requested) == (slot, "")
    # A schedule that comes due while changes wait runs the reconcile, and moves the slot.
    Action.objects.filter(pk=action.pk).update(next_run_at=timezone.now() - dt.timedelta(
        minutes=1), run_requested=queue.Trigger.CHANGE)
    later = run_action(action.pk, trigger=queue.Trigger.SCHEDULE)
    assert later.mode == "reconcile"
    action.refresh_from_db()
    assert action.next_run_at > timezone.now() + dt.timedelta(minutes=59)


def test_the_dispatcher_wakes_an_action_again_when_its_wake_up_was_lost(connection):
    action = make_action(connection, schedule_kind="hourly")
    slot = timezone.now() + dt.timedelta(minutes=30)
    Action.objects.filter(pk=action.pk).update(next_run_at=slot)
    hub_people({"email": "a@x.io", "lastName": "A"})
    assert tasks.wake_actions("api:test") == 1
    assert tasks.undrained_actions() == 0  # asked moments ago: its wake-up is on its way
    Change.objects.update(created_at=timezone.now() - queue.claim_expiry())
    broker = get_broker()
    before = broker.queue_size()
    assert tasks.undrained_actions() == 1
    assert broker.queue_size() == before + 1
    action.refresh_from_db()
    assert action.next_run_at == slot
