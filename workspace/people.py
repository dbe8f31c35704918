"""Finding people for a page of records: by customer id, by an earlier link, by e-mail.

Used only by `workspace.hub`; it loads the candidates of a whole page in three queries and
then answers in memory, indexing people created earlier in the same page too.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from workspace.models import Person, SourceRecord


@dataclass(frozen=True, slots=True)
class Ref:
    """A reference to a person: `id` (a customer id, or any source record id) or `email`."""

    kind: str
    value: str


class PersonIndex:
    """People of one page, by primary key, customer id, e-mail and source record id."""

    def __init__(self, people: list[Person]) -> None:
        self.by_pk: dict[int, Person] = {}
        self.by_cid: dict[str, Person] = {}
        self.by_email: dict[str, list[Person]] = {}
        self.by_record: dict[str, Person] = {}
        for person in sorted(people, key=lambda p: p.pk):
            if person.pk not in self.by_pk:
                self.add(person)

    @classmethod
    def load(cls, *, customer_ids: set[str], emails: set[str], pks: set[int]) -> PersonIndex:
        # One query for the three kinds of candidate (each column is indexed).
        wanted = Q()
        if customer_ids:
            wanted |= Q(customer_id__in=list(customer_ids))
        if emails:
            wanted |= Q(email__in=list(emails))
        if pks:
            wanted |= Q(pk__in=list(pks))
        return cls(list(Person.objects.filter(wanted)) if wanted else [])

    @classmethod
    def load_refs(cls, refs: set[Ref]) -> PersonIndex:
        ids = {r.value for r in refs if r.kind == "id"}
        emails = {r.value for r in refs if r.kind == "email"}
        index = cls.load(customer_ids=ids, emails=emails, pks=set())
        # A WhoId may name a lead that its sync identified by e-mail: follow that link.
        unresolved = [value for value in ids if value not in index.by_cid]
        if unresolved:
            links = SourceRecord.objects.filter(record_id__in=unresolved,
                                                person__isnull=False).select_related("person")
            for link in sorted(links, key=lambda x: x.pk):
                index.by_record.setdefault(link.record_id, link.person)
        return index

    def add(self, person: Person) -> Person:
        if person.pk is not None:
            self.by_pk[person.pk] = person
        if person.customer_id:
            self.by_cid[person.customer_id] = person
        if person.email:
            self.by_email.setdefault(person.email, []).append(person)
        return person

    def by_ref(self, ref: Ref) -> Person | None:
        if ref.kind == "email":
            candidates = self.by_email.get(ref.value, [])
            identified = [p for p in candidates if p.customer_id]
            return (identified or candidates or [None])[0]
        return self.by_cid.get(ref.value) or self.by_record.get(ref.value)

    @staticmethod
    def stub(ref: Ref) -> Person:
        if ref.kind == "email":
            return Person(email=ref.value, attributes={"email": ref.value})
        return Person(customer_id=ref.value)

    def match(self, customer_id: str | None, email: str | None,
              linked_pk: int | None) -> tuple[Person | None, str | None]:
        """The person a record belongs to (None: a new one), or a reason it must not be applied."""
        person = self.by_cid.get(customer_id) if customer_id else None
        if person is None and linked_pk is not None:
            linked = self.by_pk.get(linked_pk)
            if linked and (not customer_id or linked.customer_id in (None, customer_id)):
                person = linked
        if person is None and email:
            candidates = self.by_email.get(email, [])
            if customer_id:
                taken = [p for p in candidates if p.customer_id and p.customer_id != customer_id]
                if taken:
                    return None, self._clash(customer_id, email, taken[0])
                free = [p for p in candidates if not p.customer_id]
                person = free[0] if free else None
            elif candidates:
                person = self.by_ref(Ref("email", email))
        if person is not None and email and email != person.email:
            clash = [p for p in self.by_email.get(email, []) if p is not person]
            if clash:
                return None, self._clash(customer_id or person.customer_id or "", email, clash[0])
        return person, None

    @staticmethod
    def _clash(customer_id: str, email: str, other: Person) -> str:
        who = other.customer_id or "a person identified by e-mail only"
        return (f"{customer_id or 'this record'} has the e-mail {email}, which already belongs to "
                f"{who} (hub person #{other.pk}); not merged")

    def reidentify(self, person: Person, customer_id: str | None, email: str | None) -> list[str]:
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
