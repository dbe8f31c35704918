"""Salesforce record ids: key prefixes, the 18-character checksum, 15-to-18 conversion."""

from __future__ import annotations

import itertools
import threading

_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
# Characters 4-5 are the pod and 6 is reserved in real ids; a fixed value keeps ids plausible.
_POD = "8d0"


def checksum(id15: str) -> str:
    """Return the 3-character suffix that makes a 15-character id case-insensitive."""
    suffix = []
    for start in (0, 5, 10):
        bits = 0
        for offset, char in enumerate(id15[start : start + 5]):
            if "A" <= char <= "Z":
                bits |= 1 << offset
        suffix.append(_CHECKSUM_ALPHABET[bits])
    return "".join(suffix)


def to18(value: str) -> str | None:
    """Return the canonical 18-character form of a 15- or 18-character id, or None if malformed.

    The first 15 characters are case-sensitive and decide the record; an 18-character input
    must carry the right checksum (compared case-insensitively, as Salesforce does).
    """
    if len(value) not in (15, 18) or not value.isalnum() or not value.isascii():
        return None
    id15 = value[:15]
    expected = checksum(id15)
    if len(value) == 18 and value[15:].upper() != expected:
        return None
    return id15 + expected


def encode62(number: int, width: int) -> str:
    """Encode a non-negative integer in base 62, left-padded with zeros to `width`."""
    chars = []
    while number:
        number, rest = divmod(number, 62)
        chars.append(_BASE62[rest])
    return "".join(reversed(chars)).rjust(width, "0")


class IdFactory:
    """Hands out unique 18-character ids; one sequence per org so ids never collide across types."""

    def __init__(self, start: int = 1) -> None:
        self._counter = itertools.count(start)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            number = next(self._counter)
        id15 = prefix + _POD + encode62(number, 9)
        return id15 + checksum(id15)


def fixed_id(prefix: str, number: int) -> str:
    """A deterministic id (organization, default user) that stays the same across restarts."""
    id15 = prefix + _POD + encode62(number, 9)
    return id15 + checksum(id15)
