"""Readers of environment variables for config/settings.py: parse once, refuse a bad value at start.

Each reader names the variable, the value it got and what it accepts, so `check`, `runserver`,
`qcluster` and `serve` stop with one clear line instead of a run failing hours later. An unset
or empty variable means its default.
"""

from __future__ import annotations

import logging
import os
import re

from django.core.exceptions import ImproperlyConfigured

TRUE = {"1", "true", "yes", "on"}
FALSE = {"0", "false", "no", "off"}
# The level names Python's logging accepts (FATAL and WARN are its aliases).
LOG_LEVELS = tuple(logging.getLevelNamesMapping())


def raw(name: str) -> str | None:
    """The variable's text, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return value or None


def refuse(name: str, value: object, accepted: str) -> ImproperlyConfigured:
    """The one shape of a start-up error: variable, bad value, what is accepted."""
    return ImproperlyConfigured(f"{name}: expected {accepted}, got {value!r}")


def boolean(name: str, default: bool) -> bool:
    """A boolean, refusing anything that is not clearly one (``DEBUG=ture`` is an error)."""
    value = raw(name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise refuse(name, value, "true/false")


def whole_number(name: str, default: int, minimum: int, maximum: int | None = None, *,
                 minimum_is: str = "") -> int:
    """A whole number within [minimum, maximum] (no maximum when None); `minimum_is` says
    where a minimum taken from another setting comes from, for the message."""
    value = raw(name)
    low = f"{minimum} ({minimum_is})" if minimum_is else f"{minimum}"
    accepted = (f"a whole number from {low} to {maximum}" if maximum is not None
                else f"a whole number ≥ {low}")
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise refuse(name, value, accepted) from None
    if number < minimum or (maximum is not None and number > maximum):
        raise refuse(name, value, accepted)
    return number


def log_level(name: str, default: str) -> str:
    """One of Python's level names, in any case (``info`` is INFO)."""
    value = raw(name)
    if value is None:
        return default
    if value.upper() not in LOG_LEVELS:
        raise refuse(name, value, "one of " + ", ".join(LOG_LEVELS))
    return value.upper()


def url(name: str, default: str, schemes: tuple[str, ...]) -> str:
    """A URL with one of *schemes* (e.g. ``("https://",)``), without a trailing slash."""
    value = (raw(name) or default).rstrip("/")
    if value and not value.startswith(schemes):
        raise refuse(name, value, "a URL starting with " + " or ".join(schemes))
    return value


def comma_list(name: str) -> list[str]:
    """A comma-separated list, blanks dropped."""
    return [item.strip() for item in (raw(name) or "").split(",") if item.strip()]


def word(name: str, default: str) -> str:
    """A name made of letters, digits and ``-_.:`` (queue names, used as keys and salts)."""
    value = raw(name) or default
    if not re.fullmatch(r"[A-Za-z0-9_.:-]+", value):
        raise refuse(name, value, "letters, digits and - _ . : only")
    return value


def header_name(name: str) -> str:
    """An HTTP header name, e.g. ``X-Forwarded-Proto``, as Django's META key; empty if unset."""
    value = raw(name)
    if value is None:
        return ""
    if not re.fullmatch(r"[A-Za-z0-9-]+", value):
        raise refuse(name, value, "an HTTP header name such as X-Forwarded-Proto")
    return "HTTP_" + value.upper().replace("-", "_")
