"""Repair schedules stored before they were validated, so no sync sticks on one.

An interval outside 1..525,600 minutes is brought into that range; a sync whose cron
expression has no slot within a year is disabled with the reason as its last error.
"""

import datetime as dt

from croniter import CroniterError, croniter
from django.db import migrations

MAX_MINUTES = 525_600


def _cron_problem(expression: str, now: dt.datetime) -> str:
    expression = expression.strip()
    if not expression or not croniter.is_valid(expression):
        return f"the cron expression {expression!r} is not valid"
    try:
        upcoming = croniter(expression, now).get_next(dt.datetime)
    except CroniterError:
        return f"the cron expression {expression!r} never fires"
    if upcoming - now > dt.timedelta(days=366):
        return f"the cron expression {expression!r} next fires more than a year away"
    return ""


def repair(apps, schema_editor):
    Sync = apps.get_model("syncs", "Sync")
    now = dt.datetime.now(dt.UTC)
    for sync in Sync.objects.all():
        changed = []
        if not 1 <= sync.every_minutes <= MAX_MINUTES:
            sync.every_minutes = min(max(sync.every_minutes, 1), MAX_MINUTES)
            changed.append("every_minutes")
        problem = _cron_problem(sync.cron, now) if sync.schedule_kind == "cron" else ""
        if problem:
            sync.enabled = False
            sync.next_run_at = None
            sync.last_error = f"Disabled: {problem}. Fix the schedule and enable it again."
            changed += ["enabled", "next_run_at", "last_error"]
        if changed:
            sync.save(update_fields=changed)


class Migration(migrations.Migration):
    dependencies = [("syncs", "0002_refresh")]
    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
