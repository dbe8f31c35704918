from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SyncsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "syncs"
    verbose_name = "Syncs"

    def ready(self) -> None:
        # The dispatcher and log-pruning schedules are rows; migrate keeps them present.
        from syncs.exchanges import follow_merge
        from syncs.tasks import ensure_schedules, wake_actions
        from workspace.merge import person_merged
        from workspace.outbox import WAKE_UPS

        post_migrate.connect(ensure_schedules, sender=self, dispatch_uid="syncs.ensure_schedules")
        # The loop's memory follows a merge of people to the survivor.
        person_merged.connect(follow_merge, dispatch_uid="syncs.follow_merge")
        # A hub change wakes the actions that may write it once its transaction commits.
        if wake_actions not in WAKE_UPS:
            WAKE_UPS.append(wake_actions)
