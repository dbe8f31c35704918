"""When a sync runs next: every N minutes, hourly, daily or a cron expression, from a start time."""

from __future__ import annotations

import datetime as dt

from croniter import croniter

MINUTES = "minutes"
HOURLY = "hourly"
DAILY = "daily"
CRON = "cron"
CHOICES = [(MINUTES, "Every N minutes"), (HOURLY, "Hourly"), (DAILY, "Daily"), (CRON, "Cron")]


def valid_cron(expression: str) -> bool:
    return bool(expression.strip()) and croniter.is_valid(expression.strip())


def next_run(kind: str, *, after: dt.datetime, start: dt.datetime | None = None,
             every_minutes: int = 60, cron: str = "") -> dt.datetime:
    """The first slot strictly after `after` (never before `start`).

    Interval schedules are anchored on `start` (a daily sync started at 06:30 stays at 06:30);
    cron expressions are read in UTC, from `start` when that is later.
    """
    if kind == CRON:
        # croniter returns slots strictly after its base: step back a second to allow `start`.
        base = after if start is None or start <= after else start - dt.timedelta(seconds=1)
        return croniter(cron.strip(), base).get_next(dt.datetime)
    step = dt.timedelta(minutes={HOURLY: 60, DAILY: 1440}.get(kind, max(1, every_minutes)))
    anchor = start or after
    if anchor > after:
        return anchor
    slots = (after - anchor) // step + 1
    return anchor + slots * step
