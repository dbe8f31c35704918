"""Writing the inbound API's messages to the hub: once per messageId, through the one writer.

`Inbound(api_key).receive(entries)` takes the valid messages of one request (each with its
index in a batch, or None) and writes them in one transaction, as the source "api:<key id>",
so every change has its outbox row and wakes the actions. How an API record is keyed:

- identify → a person; record key the userId (or "anonymous:<anonymousId>" with traits.email).
- group → an object of the named type (default Account/Accounts, the type an Accounts sync
  makes); record key "<type id>:<groupId>"; with a userId, a relationship to that person.
- track → an event; record key and `Event.source_id` "api:<key id>:<messageId>", so a replay
  after the messageId has left `InboundMessage` still updates the same event.

The keys are the `SourceRecord` ids of the "api:<key id>" source (up to 255 characters).
Messages are written identify, then group, then track, so a batch that identifies someone
and tracks them writes the person first; messages about the same record go in rounds, in
their order in the batch, so each is applied after the one before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from workspace.hub import HubWriter, Item, Ref, Result
from workspace.lock import lock_hub
from workspace.messages import OBJECT_TYPE_TRAITS, Message, Problem
from workspace.models import ApiKey, InboundMessage, ObjectType
from workspace.sql_rows import insert, select_in

# The object type of a group that names none: Customer.io's typical mapping of Accounts.
DEFAULT_OBJECT_TYPE = ("Account", "Accounts")

Entry = tuple[int | None, Message]


@dataclass
class Receipt:
    """What a request's messages did: accepted (replays included), replays, and problems."""

    accepted: int = 0
    duplicates: int = 0
    errors: list[tuple[int | None, Problem]] = field(default_factory=list)
    invalid: int = 0  # messages naming what does not exist (an unknown object type)

    def as_json(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "duplicates": self.duplicates,
                "errors": [problem.as_json(index) for index, problem in
                           sorted(self.errors, key=lambda e: -1 if e[0] is None else e[0])]}


def rounds(entries: list[Entry], key: Callable[[Message], str]) -> list[list[Entry]]:
    """Split entries so no round holds two with the same key, keeping their order."""
    split: list[list[Entry]] = []
    seen: dict[str, int] = defaultdict(int)
    for entry in entries:
        n = seen[key(entry[1])]
        seen[key(entry[1])] += 1
        if n == len(split):
            split.append([])
        split[n].append(entry)
    return split


class Inbound:
    """The messages one API key sends."""

    def __init__(self, api_key: ApiKey) -> None:
        self.api_key = api_key
        self.writer = HubWriter(api_key.source)

    def receive(self, entries: list[Entry]) -> Receipt:
        """Write the messages not seen before; what happened to each.

        1. One transaction, holding the hub's write lock (so a replay sent twice at once is
           recognised by one of the two).
        2. Drop the messageIds this key sent before (and repeats within the request).
        3. Write identifies, groups, tracks, each type in rounds (`rounds`).
        4. Remember the messageIds written, in the same transaction.
        """
        receipt = Receipt()
        with transaction.atomic():
            lock_hub()
            fresh = self._unseen(entries, receipt)
            by_type: dict[str, list[Entry]] = defaultdict(list)
            for entry in fresh:
                by_type[entry[1].type].append(entry)
            written = [*self._identify(by_type["identify"], receipt),
                       *self._group(by_type["group"], receipt),
                       *self._track(by_type["track"], receipt)]
            self._remember(written)
        receipt.accepted = receipt.duplicates + len(written)
        return receipt

    def _unseen(self, entries: list[Entry], receipt: Receipt) -> list[Entry]:
        given = [m.message_id for _, m in entries if m.given_id]
        seen = {row[0] for row in select_in(InboundMessage.objects.filter(api_key=self.api_key),
                                            ["message_id"], message_id=given)}
        fresh = []
        for entry in entries:
            if entry[1].message_id in seen:
                receipt.duplicates += 1
            else:
                seen.add(entry[1].message_id)
                fresh.append(entry)
        return fresh

    def _remember(self, written: list[Message]) -> None:
        now = timezone.now()
        insert(InboundMessage, ["api_key_id", "message_id", "received_at"],
               [(self.api_key.pk, m.message_id, now) for m in written if m.given_id])

    def _write(self, entries: list[Entry], key: Callable[[Message], str],
               build: Callable[[Message], Item], write: Callable[[list[Item]], list[Result]],
               receipt: Receipt, field_of_conflict: str) -> list[Message]:
        """Write entries in rounds; the messages applied (a refused one becomes a problem)."""
        applied = []
        for batch in rounds(entries, key):
            for (index, message), result in zip(batch, write([build(m) for _, m in batch]),
                                                strict=True):
                if result.outcome in ("conflict", "skipped", "failed"):
                    receipt.errors.append((index, Problem(field_of_conflict, result.message)))
                else:
                    applied.append(message)
        return applied

    # -- identify, group, track --------------------------------------------------------------

    def _identify(self, entries: list[Entry], receipt: Receipt) -> list[Message]:
        return self._write(entries, person_key, lambda m: Item(
            person_key(m), attributes=m.traits, customer_id=m.user_id, email=m.email),
            self.writer.people, receipt, "traits.email")

    def _group(self, entries: list[Entry], receipt: Receipt) -> list[Message]:
        types = self._object_types({m.object_type for _, m in entries}, entries, receipt)
        applied = []
        for object_type, members in types:
            applied += self._write(members, lambda m, t=object_type: f"{t.pk}:{m.group_id}",
                                   lambda m, t=object_type: Item(
                                       f"{t.pk}:{m.group_id}", attributes=m.traits,
                                       object_id=m.group_id,
                                       person=Ref("id", m.user_id) if m.user_id else None),
                                   lambda items, t=object_type: self.writer.objects(t, items),
                                   receipt, "groupId")
        return applied

    def _track(self, entries: list[Entry], receipt: Receipt) -> list[Message]:
        now = timezone.now()
        return self._write(entries, self._event_key, lambda m: Item(
            self._event_key(m), attributes=m.properties, name=m.event,
            timestamp=m.timestamp or now, person=Ref("id", m.user_id)),
            self.writer.events, receipt, "userId")

    def _event_key(self, message: Message) -> str:
        return f"{self.api_key.source}:{message.message_id}"

    def _object_types(self, names: Iterable[str | None], entries: list[Entry],
                      receipt: Receipt) -> list[tuple[ObjectType, list[Entry]]]:
        """The entries of each object type; a group naming an unknown type is a problem."""
        found = {name: object_type_named(name) for name in names}
        members: dict[int, tuple[ObjectType, list[Entry]]] = {}
        for index, message in entries:
            object_type = found[message.object_type]
            if object_type is None:
                known = ", ".join(ObjectType.objects.values_list("singular", flat=True))
                receipt.errors.append((index, Problem(
                    "traits." + OBJECT_TYPE_TRAITS[0],
                    f"no object type is named {message.object_type!r} "
                    f"(known: {known or 'none yet'})")))
                receipt.invalid += 1
                continue
            members.setdefault(object_type.pk, (object_type, []))[1].append((index, message))
        return list(members.values())


def person_key(message: Message) -> str:
    return message.user_id or f"anonymous:{message.anonymous_id}"


def object_type_named(name: str | None) -> ObjectType | None:
    """The type a group names (singular or plural, any case, or its number); the default
    type (created if missing) when it names none; None when no type has that name."""
    if name is None:
        return ObjectType.objects.get_or_create(singular=DEFAULT_OBJECT_TYPE[0],
                                                defaults={"plural": DEFAULT_OBJECT_TYPE[1]})[0]
    found = (ObjectType.objects.filter(singular__iexact=name).first()
             or ObjectType.objects.filter(plural__iexact=name).first())
    if found is None and name.isdigit():
        found = ObjectType.objects.filter(pk=int(name)).first()
    return found
