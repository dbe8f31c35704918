"""The org's clock: real UTC time by default, frozen or shifted by tests through the control API."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator

UTC = dt.timezone.utc


def format_datetime(moment: dt.datetime) -> str:
    """Salesforce's datetime format: UTC, milliseconds, `+0000` offset."""
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> dt.datetime | None:
    """Parse the ISO-8601 variants Salesforce accepts; None when naive or malformed.

    Accepts `Z`, `+00:00`, `+0000` offsets and optional fractions. A value without an offset is
    rejected: Salesforce reads it ambiguously, and clients that send naive datetimes are broken.
    """
    value = text.strip()
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    elif len(value) > 5 and value[-5] in "+-" and value[-4:].isdigit():
        value = value[:-2] + ":" + value[-2:]
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None or "T" not in value.upper():
        return None
    return moment.astimezone(UTC)


class Clock:
    """Millisecond-precision UTC clock that can be frozen at a moment or offset from real time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._frozen: dt.datetime | None = None
        self._offset = dt.timedelta(0)
        # Bumped on every freeze/advance/unfreeze so caches derived from the time can tell.
        self.version = 0

    def now(self) -> dt.datetime:
        with self._lock:
            moment = self._frozen or dt.datetime.now(UTC) + self._offset
        # Salesforce stores milliseconds only; truncating here keeps comparisons exact.
        return moment.replace(microsecond=moment.microsecond // 1000 * 1000)

    def freeze(self, moment: dt.datetime) -> None:
        with self._lock:
            self._frozen = moment.astimezone(UTC)
            self.version += 1

    def advance(self, seconds: float) -> None:
        """Move time forward (or back) whether frozen or running."""
        step = dt.timedelta(seconds=seconds)
        with self._lock:
            if self._frozen is not None:
                self._frozen += step
            else:
                self._offset += step
            self.version += 1

    def unfreeze(self) -> None:
        """Return to real time, dropping any offset."""
        with self._lock:
            self._frozen = None
            self._offset = dt.timedelta(0)
            self.version += 1

    @contextlib.contextmanager
    def pinned(self, moment: dt.datetime) -> Iterator[None]:
        """Read `moment` inside the block, then resume as before (frozen, offset or real).

        For seeding, which replays past business (lead conversions) through the normal write
        path; other threads see the pinned time meanwhile, as they would any frozen clock.
        """
        with self._lock:
            saved = (self._frozen, self._offset)
            self._frozen = moment.astimezone(UTC)
            self.version += 1
        try:
            yield
        finally:
            with self._lock:
                self._frozen, self._offset = saved
                self.version += 1

    @property
    def frozen(self) -> bool:
        return self._frozen is not None
