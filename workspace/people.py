"""Finding people for a page of records: by customer id, by an earlier link, by e-mail.

Used only by `workspace.hub`; it loads the candidates of a whole page in one query and then
answers in memory, indexing people created earlier in the same page too. People are held as
`PersonRow`s, plain rows with the columns of `Person`: a page builds thousands of them, and a
model instance costs several times as much to make.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workspace.models import Person, SourceRecord
from workspace.sql_rows import select_in

PERSON_COLUMNS = ("id", "customer_id", "email", "attributes", "owned", "deleted_at",
                  "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a person: `id` (a customer id, or any source record id) or `email`."""

    kind: str
    value: str


@dataclass(slots=True, eq=False)
class PersonRow:
    """A person as the hub writer handles it (the columns of `Person`; `pk` None until saved).

    Compared by identity, like unsaved model instances.
    """

    pk: int | None
    customer_id: str | None
    email: str
    attributes: dict[str, Any]
    owned: list[str] | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def new(cls, now: datetime, *, customer_id: str | None = None, email: str = "",
            attributes: dict[str, Any] | None = None) -> PersonRow:
        return cls(None, customer_id, email, attributes or {}, None, None, now, now)

    def writable(self, attributes: dict[str, Any], customer_id: str | None,
                 took_over: bool) -> dict[str, Any]:
        """The part of a record's attributes it may write to this person.

        A record with a customer id writes all of them (and they are its). A record
        identified by e-mail alone (a lead) writes to a person whose customer id came from
        another record only the attributes that record did not give, so the hub ends the
        same whichever sync ran last, and a lead still updates what only it provides.
        """
        if customer_id is not None:
            if took_over:  # the person was a lead's until now: only these are the record's
                self.owned = sorted(attributes)
            elif self.owned is not None and not set(attributes) <= set(self.owned):
                self.owned = sorted({*self.owned, *attributes})
            return attributes
        if not self.customer_id:
            return attributes
        owned = set(self.attributes if self.owned is None else self.owned)
        self.owned = sorted(owned)
        return {name: value for name, value in attributes.items() if name not in owned}


class PersonIndex:
    """People of one page, by primary key, customer id, e-mail and source record id."""

    def __init__(self, people: list[PersonRow]) -> None:
        self.by_pk: dict[int, PersonRow] = {}
        self.by_cid: dict[str, PersonRow] = {}
        self.by_email: dict[str, list[PersonRow]] = {}
        self.by_record: dict[str, PersonRow] = {}
        for person in sorted(people, key=lambda p: p.pk):
            if person.pk not in self.by_pk:
                self.add(person)

    @classmethod
    def load(cls, *, customer_ids: set[str], emails: set[str], pks: set[int]) -> PersonIndex:
        # One query for the three kinds of candidate (each column is indexed).
        wanted = {name: values for name, values in
                  (("customer_id", customer_ids), ("email", emails), ("id", pks)) if values}
        if not wanted:
            return cls([])
        return cls([PersonRow(*row) for row in select_in(Person, PERSON_COLUMNS, **wanted)])

    @classmethod
    def load_refs(cls, refs: set[Ref]) -> PersonIndex:
        ids = {r.value for r in refs if r.kind == "id"}
        emails = {r.value for r in refs if r.kind == "email"}
        index = cls.load(customer_ids=ids, emails=emails, pks=set())
        # A WhoId may name a lead that its sync identified by e-mail: follow that link.
        unresolved = [value for value in ids if value not in index.by_cid]
        if unresolved:
            # Oldest link last, so it is the one the dict keeps.
            links = dict(select_in(SourceRecord.objects.filter(person__isnull=False)
                                   .order_by("-pk"), ["record_id", "person_id"],
                                   record_id=unresolved))
            found = {row[0]: PersonRow(*row) for row in select_in(
                Person, PERSON_COLUMNS, id={pk for pk in links.values() if pk not in index.by_pk})}
            for record_id, pk in links.items():
                person = index.by_pk.get(pk) or found.get(pk)
                if person is not None:
                    index.by_record[record_id] = person
        return index

    def add(self, person: PersonRow) -> PersonRow:
        if person.pk is not None:
            self.by_pk[person.pk] = person
        if person.customer_id:
            self.by_cid[person.customer_id] = person
        if person.email:
            self.by_email.setdefault(person.email, []).append(person)
        return person

    def by_ref(self, ref: Ref) -> PersonRow | None:
        if ref.kind == "email":
            candidates = self.by_email.get(ref.value, [])
            identified = [p for p in candidates if p.customer_id]
            return (identified or candidates or [None])[0]
        return self.by_cid.get(ref.value) or self.by_record.get(ref.value)

    @staticmethod
    def stub(ref: Ref, now: datetime) -> PersonRow:
        if ref.kind == "email":
            return PersonRow.new(now, email=ref.value, attributes={"email": ref.value})
        return PersonRow.new(now, customer_id=ref.value)

    def forget(self, person: PersonRow) -> None:
        """Drop a person from the index (merged into another)."""
        self.by_pk.pop(person.pk, None)
        if person.customer_id and self.by_cid.get(person.customer_id) is person:
            del self.by_cid[person.customer_id]
        if person in self.by_email.get(person.email, []):
            self.by_email[person.email].remove(person)
        for record_id in [r for r, p in self.by_record.items() if p is person]:
            del self.by_record[record_id]

    def mergeable(self, customer_id: str | None, email: str | None,
                  person: PersonRow | None) -> PersonRow | None:
        """The lead's person to merge into `person` (the record's, by its customer id): the one
        person identified by e-mail alone that holds the record's e-mail, if both are saved."""
        if not customer_id or not email or person is None or person.pk is None \
                or person.customer_id != customer_id or email == person.email:
            return None
        others = [p for p in self.by_email.get(email, []) if p is not person]
        if len(others) == 1 and not others[0].customer_id and others[0].pk is not None:
            return others[0]
        return None

    def match(self, customer_id: str | None, email: str | None,
              linked_pk: int | None) -> tuple[PersonRow | None, str | None]:
        """The person a record belongs to (None: a new one), or a reason it must not be applied.

        A record whose customer id person differs from the lead holding its e-mail is no
        conflict when `mergeable` finds them one human: the caller merges them first."""
        person = self.by_cid.get(customer_id) if customer_id else None
        if person is None and linked_pk is not None:
            linked = self.by_pk.get(linked_pk)
            if linked and (not customer_id or linked.customer_id in (None, customer_id)):
                person = linked
        candidates = self.by_email.get(email) if person is None and email else None
        if candidates:
            if customer_id:
                taken = [p for p in candidates if p.customer_id and p.customer_id != customer_id]
                if taken:
                    return None, self._clash(customer_id, email, taken[0])
                free = [p for p in candidates if not p.customer_id]
                person = free[0] if free else None
            else:
                person = self.by_ref(Ref("email", email))
        if person is not None and email and email != person.email and email in self.by_email:
            clash = [p for p in self.by_email.get(email, []) if p is not person]
            if clash and not self.mergeable(customer_id, email, person):
                return None, self._clash(customer_id or person.customer_id or "", email, clash[0])
        return person, None

    @staticmethod
    def _clash(customer_id: str, email: str, other: PersonRow) -> str:
        who = other.customer_id or "a person identified by e-mail only"
        held = f"hub person #{other.pk}" if other.pk is not None else "a person new in this page"
        return (f"{customer_id or 'this record'} has the e-mail {email}, which already belongs to "
                f"{who} ({held}); not merged")

    def reidentify(self, person: PersonRow, customer_id: str | None, email: str | None) -> list[str]:
        """Give a matched person the record's customer id / e-mail; the identity fields changed."""
        changed = []
        if customer_id and person.customer_id != customer_id:
            person.customer_id = customer_id
            self.by_cid[customer_id] = person
            changed.append("customer_id")
        if email and person.email != email:
            if person.email and person in self.by_email.get(person.email, []):
                self.by_email[person.email].remove(person)
            person.email = email
            self.by_email.setdefault(email, []).append(person)
            changed.append("email")
        return changed
