"""`manage.py resync NAME|ID`: "Resync all data" for one sync, run now in this process."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from syncs.management.commands.sync_now import find_sync, run_and_report
from syncs.models import Sync


class Command(BaseCommand):
    help = "Forget a sync's progress and read and rewrite every record now."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("sync", help="the sync's name or id")

    def handle(self, *args: Any, **options: Any) -> None:
        run_and_report(find_sync(options["sync"]), self.stdout, trigger=Sync.Trigger.RESYNC)
