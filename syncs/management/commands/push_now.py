"""`manage.py push_now NAME|ID [--full]`: run one action now, in this process, and report the
run: its changes (or, with --full, a reconcile of every hub record it covers)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from syncs import queue
from syncs.actions import Action
from syncs.management.commands.sync_now import summary
from syncs.models import SyncRun
from syncs.push import run_action


def find_action(name_or_id: str) -> Action:
    """The action with this id or name (exact, then the one whose name contains the words)."""
    if name_or_id.isdigit() and (found := Action.objects.filter(pk=int(name_or_id)).first()):
        return found
    matches = list(Action.objects.filter(name=name_or_id)[:1]) or list(
        Action.objects.filter(name__icontains=name_or_id)[:10])
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(repr(a) for a in Action.objects.values_list("name", flat=True)[:20])
        raise CommandError(f"No action named or numbered {name_or_id!r}. Actions: "
                           f"{known or 'none'}.")
    names = ", ".join(f"{a.name!r} (id {a.pk})" for a in matches)
    raise CommandError(f"{name_or_id!r} matches several actions: {names}. Give the id.")


class Command(BaseCommand):
    help = "Run an action now (in this process) and print what the run did."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("action", help="the action's name or id")
        parser.add_argument("--full", action="store_true",
                            help="write every hub record the action covers (a reconcile), "
                            "not only what changed")

    def handle(self, *args: Any, **options: Any) -> None:
        action = find_action(options["action"])
        if not action.enabled:
            raise CommandError(f"Action {action.name!r} is disabled; enable it first.")
        trigger = queue.Trigger.RESYNC if options["full"] else queue.Trigger.MANUAL
        run = run_action(action.pk, trigger=trigger, full=options["full"])
        if run is None:
            action.request_run(trigger)
            action.refresh_from_db()
            raise CommandError(f"Action {action.name!r} is held by another worker; "
                               f"{queue.waiting_for(action) or 'queued'}.")
        self.stdout.write(summary(run))
        if run.status != SyncRun.Status.SUCCEEDED:
            raise CommandError(f"Run {run.pk} of {action.name!r} "
                               f"{run.get_status_display().lower()}: "
                               f"{run.error or 'no reason recorded'}")
