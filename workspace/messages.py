"""Segment-spec messages of the inbound API (identify, group, track), checked field by field.

`parse(data, type)` turns one decoded JSON object into a `Message`, or raises `Invalid` with
every problem found, each naming its field ("traits.email") and why. Only what the hub stores
is read; other Segment fields (context, integrations, sentAt...) are accepted and ignored.

The hub identifies people by userId (a person's customer id) or e-mail, so an identify with
only an anonymousId needs traits.email, and a track needs a userId: an anonymous visitor the
hub cannot tell apart is refused with that reason rather than stored under a made-up id.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from workspace.models import Person

TYPES = ("identify", "group", "track")
# The longest userId, anonymousId, groupId or messageId: a hub record key is built from one
# with a short prefix and must fit `SourceRecord.record_id` and `Event.source_id` (255).
MAX_ID = 200
MAX_EVENT_NAME = 255
# Traits naming the object type of a group (Customer.io's `object_type_id`, camel case too).
OBJECT_TYPE_TRAITS = ("object_type_id", "objectTypeId")


@dataclass(frozen=True, slots=True)
class Problem:
    """One rejected field: its dotted path in the message and the reason."""

    field: str
    message: str

    def as_json(self, index: int | None = None) -> dict[str, Any]:
        shown: dict[str, Any] = {} if index is None else {"index": index}
        return {**shown, "field": self.field, "message": self.message}


class Invalid(Exception):  # noqa: N818 - reads as "raise Invalid(problems)"
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


@dataclass(slots=True)
class Message:
    """One valid message, in hub terms."""

    type: str
    message_id: str
    # True when the sender gave the messageId (only those can be recognised when replayed).
    given_id: bool
    user_id: str | None = None
    anonymous_id: str | None = None
    traits: dict[str, Any] = field(default_factory=dict)
    email: str | None = None
    group_id: str | None = None
    object_type: str | None = None
    event: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None


class Reader:
    """Reads the fields of one message, collecting a `Problem` for each bad one."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.problems: list[Problem] = []

    def bad(self, name: str, message: str) -> None:
        self.problems.append(Problem(name, message))

    def named(self, *names: str) -> bool:
        """Whether one of these fields already has a problem."""
        return any(p.field in names for p in self.problems)

    def identifier(self, name: str) -> str | None:
        """An id: a non-empty string or an integer (Segment allows both), as text."""
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.bad(name, "must be a string or an integer")
            return None
        text = str(value).strip()
        if not text:
            self.bad(name, "must not be blank")
        elif len(text) > MAX_ID:
            self.bad(name, f"must be at most {MAX_ID} characters (got {len(text)})")
        else:
            return text
        return None

    def mapping(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.bad(name, f"must be a JSON object, not {type_name(value)}")
            return {}
        return value

    def timestamp(self) -> datetime | None:
        value = self.data.get("timestamp")
        if value is None:
            return None
        parsed = None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:  # well-formed but impossible, e.g. month 13
                parsed = None
        if parsed is None:
            self.bad("timestamp", "must be an ISO-8601 date and time, e.g. "
                                  "2026-12-05T08:00:00Z")
            return None
        return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed,
                                                                            timezone.utc)

    def email(self, traits: dict[str, Any]) -> str | None:
        value = traits.get("email")
        if value in (None, ""):
            return None
        if not isinstance(value, str) or "@" not in value.strip()[1:-1]:
            self.bad("traits.email", "must be an e-mail address such as ada@example.com")
            return None
        if len(value.strip()) > 254:
            self.bad("traits.email", "must be at most 254 characters")
            return None
        return Person.normalize_email(value)

    def object_type(self, traits: dict[str, Any]) -> str | None:
        for name in OBJECT_TYPE_TRAITS:
            value = traits.get(name)
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, str | int) \
                    or not str(value).strip():
                self.bad(f"traits.{name}", "must name an object type (e.g. \"Account\") or "
                                           "give its number")
                return None
            return str(value).strip()
        return None


def type_name(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
            type(None): "null"}.get(type(value), "a number")


def parse(data: Any, kind: str | None = None) -> Message:
    """One message of `kind` (or of its own "type", in a batch); `Invalid` lists every problem.

    1. The envelope: an object, of a supported type.
    2. Identity: userId or anonymousId, as text of at most `MAX_ID` characters.
    3. The type's own fields: traits / groupId / event and properties.
    4. Identity rules of the hub (see the module docstring).
    """
    if not isinstance(data, dict):
        raise Invalid([Problem("message", f"must be a JSON object, not {type_name(data)}")])
    read = Reader(data)
    if kind is None:
        kind = data.get("type")
        if kind not in TYPES:
            read.bad("type", f"must be one of {', '.join(TYPES)} (got {kind!r})")
            raise Invalid(read.problems)
    message_id = read.identifier("messageId")
    user_id, anonymous_id = read.identifier("userId"), read.identifier("anonymousId")
    if user_id is None and anonymous_id is None and not read.named("userId", "anonymousId"):
        read.bad("userId", "userId or anonymousId is required")
    message = Message(kind, message_id or f"generated-{uuid.uuid4()}", message_id is not None,
                      user_id=user_id, anonymous_id=anonymous_id, timestamp=read.timestamp())
    if kind in ("identify", "group"):
        message.traits = dict(read.mapping("traits"))
    if kind == "identify":
        message.email = read.email(message.traits)
        if user_id is None and anonymous_id is not None and message.email is None \
                and not read.named("traits.email"):
            read.bad("traits.email", "required with only an anonymousId: the hub identifies "
                                     "people by userId or e-mail")
    elif kind == "group":
        message.group_id = read.identifier("groupId")
        if message.group_id is None and not read.named("groupId"):
            read.bad("groupId", "is required")
        message.object_type = read.object_type(message.traits)
        for name in OBJECT_TYPE_TRAITS:
            message.traits.pop(name, None)
    else:
        message.event = event_name(read, data.get("event"))
        message.properties = read.mapping("properties")
        if user_id is None and anonymous_id is not None:
            read.bad("userId", "required for track: the hub keeps the events of identified "
                               "people (send an identify first, then track with its userId)")
    if read.problems:
        raise Invalid(read.problems)
    return message


def event_name(read: Reader, value: Any) -> str:
    if value is None:
        read.bad("event", "is required (the event's name)")
    elif not isinstance(value, str) or not value.strip():
        read.bad("event", "must be a non-empty string")
    elif len(value.strip()) > MAX_EVENT_NAME:
        read.bad("event", f"must be at most {MAX_EVENT_NAME} characters")
    else:
        return value.strip()
    return ""
