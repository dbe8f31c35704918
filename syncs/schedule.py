"""When a sync runs next: every N minutes, hourly, daily or a cron expression, from a start time.

A schedule that cannot give a next slot within a year (an interval of 0 or past year 9999, a
cron expression for 31 February) is refused when saved (`problem`); one stored anyway makes
`next_run` raise `Unschedulable`, which the queue turns into a disabled row with its reason.
"""

from __future__ import annotations

import datetime as dt

from croniter import CroniterError, croniter

MINUTES = "minutes"
HOURLY = "hourly"
DAILY = "daily"
CRON = "cron"
CHOICES = [(MINUTES, "Every N minutes"), (HOURLY, "Hourly"), (DAILY, "Daily"), (CRON, "Cron")]
# The longest interval, and how far away the next slot of a cron expression may be: a year.
MAX_MINUTES = 525_600
HORIZON = dt.timedelta(days=366)


class Unschedulable(ValueError):
    """A stored schedule that has no next slot (written before validation, or by a script)."""


def valid_cron(expression: str) -> bool:
    return bool(expression.strip()) and croniter.is_valid(expression.strip())


def problem(kind: str, *, every_minutes: int | None, cron: str,
            now: dt.datetime | None = None) -> tuple[str, str]:
    """(field, message) for a schedule that cannot run, or ("", "") when it can."""
    if kind not in dict(CHOICES):
        return "schedule_kind", f"Unknown schedule {kind!r}."
    if not isinstance(every_minutes, int) or not 1 <= every_minutes <= MAX_MINUTES:
        return "every_minutes", (f"Between 1 and {MAX_MINUTES:,} minutes (a year); "
                                 f"got {every_minutes}.")
    if kind != CRON:
        return "", ""
    if not valid_cron(cron):
        return "cron", "Not a valid cron expression (five fields, e.g. */30 * * * *)."
    now = now or dt.datetime.now(dt.UTC)
    try:
        upcoming = croniter(cron.strip(), now).get_next(dt.datetime)
    except CroniterError:
        return "cron", f"The cron expression {cron.strip()!r} never fires (no such date)."
    if upcoming - now > HORIZON:
        return "cron", (f"The cron expression {cron.strip()!r} next fires on {upcoming:%Y-%m-%d}, "
                        "more than a year away.")
    return "", ""


def next_run(kind: str, *, after: dt.datetime, start: dt.datetime | None = None,
             every_minutes: int = 60, cron: str = "") -> dt.datetime:
    """The first slot strictly after `after` (never before `start`).

    Interval schedules are anchored on `start` (a daily sync started at 06:30 stays at 06:30);
    cron expressions are read in UTC, from `start` when that is later.
    """
    field, message = problem(kind, every_minutes=every_minutes, cron=cron, now=after)
    if message:
        raise Unschedulable(f"{field}: {message}")
    if kind == CRON:
        # croniter returns slots strictly after its base: step back a second to allow `start`.
        base = after if start is None or start <= after else start - dt.timedelta(seconds=1)
        return croniter(cron.strip(), base).get_next(dt.datetime)
    step = dt.timedelta(minutes={HOURLY: 60, DAILY: 1440}.get(kind, every_minutes))
    anchor = start or after
    if anchor > after:
        return anchor
    slots = (after - anchor) // step + 1
    return anchor + slots * step
