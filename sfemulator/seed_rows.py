"""Row factories for the seed generator: one method per sObject, plain dicts out.

Every value is drawn from the seeding run's own `random.Random`, so the same seed gives
the same rows; nothing here reads the wall clock.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sfemulator import seed_names as names

ACCOUNT_DESCRIPTORS: tuple[str, ...] = (
    "",
    "",
    "",
    "Global",
    "North",
    "Pacific",
    "Digital",
    "United",
    "First",
    "Nordic",
    "Atlantic",
    "Metro",
    "Prime",
    "Bio",
    "Micro",
    "Quantum",
    "Green",
    "Urban",
)
EMAIL_PATTERNS = ("{f}.{l}", "{f}.{l}", "{i}{l}", "{f}", "{f}_{l}", "{l}.{f}")
TASK_NOTES: tuple[str, ...] = (
    "Left voicemail, will call back Tuesday.",
    'Sent pricing sheet; asked about the "Enterprise" tier.',
    "Discussed renewal — wants a 3-year term.",
    "Meeting notes:\nbudget approved\nlegal review pending",
    "Customer's IT team needs SSO details.",
)


class Person(NamedTuple):
    first: str
    last: str
    email: str


class AccountInfo(NamedTuple):
    """What contacts and deals of an account need to know about it."""

    row: dict[str, Any]
    name: str
    domain: str
    place: tuple[str, str, str]
    day: int


class Calendar:
    """Turns day numbers (0 = two years ago, HISTORY_DAYS-1 = yesterday) into timestamps.

    Ending yesterday keeps every generated timestamp in the past even when the org's clock
    is read a moment later. Each day has SLOTS_PER_DAY possible timestamps, shared by every
    record stamped in that slot: at a million contacts, unique timestamp strings would cost
    a few hundred megabytes, and ties on SystemModstamp are what real bulk loads produce
    (and what sync cursors must cope with).
    """

    HISTORY_DAYS = 730
    SLOTS_PER_DAY = 96

    def __init__(self, now: datetime) -> None:
        last = now.date() - timedelta(days=1)
        self.days = [
            (last - timedelta(days=self.HISTORY_DAYS - 1 - i)).isoformat()
            for i in range(self.HISTORY_DAYS)
        ]
        self._stamps: dict[tuple[int, int], str] = {}

    def stamp(self, rng: random.Random, day: int) -> str:
        slot = rng.randrange(self.SLOTS_PER_DAY)
        found = self._stamps.get((day, slot))
        if found is None:
            # A fixed, irregular second within the slot's quarter hour.
            second = slot * 900 + (day * 7919 + slot * 104_729) % 900
            found = self._stamps[(day, slot)] = (
                f"{self.days[day]}T{second // 3600:02d}:{second // 60 % 60:02d}:"
                f"{second % 60:02d}.000+0000"
            )
        return found

    def moment(self, rng: random.Random, day: int) -> datetime:
        """`stamp` as a datetime, for writes that go through the org's clock."""
        return self.parse(self.stamp(rng, day))

    @staticmethod
    def parse(stamp: str) -> datetime:
        return datetime.fromisoformat(stamp.replace("+0000", "+00:00"))

    def date(self, day: int) -> str:
        return self.days[min(day, self.HISTORY_DAYS - 1)]

    def date_after(self, day: int, offset: int) -> str:
        """A date `offset` days after `day`, which may lie in the future (close dates)."""
        last = datetime.fromisoformat(self.days[-1])
        return (last + timedelta(days=day + offset - self.HISTORY_DAYS + 1)).date().isoformat()


class Picklists:
    """Picklist values read from the org's describe, so every seeded value is a valid one."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema

    def __call__(self, sobject: str, field: str) -> tuple[str, ...]:
        describe = self._schema.describe(sobject) or {}
        for entry in describe.get("fields", []):
            if entry["name"] == field:
                return tuple(
                    item["value"]
                    for item in entry.get("picklistValues", [])
                    if item.get("active", True)
                )
        return ()


class RowFactory:
    """Builds one row at a time; keeps only the set of account domains handed out."""

    def __init__(self, rng: random.Random, calendar: Calendar, picklists: Picklists) -> None:
        self.rng = rng
        self.calendar = calendar
        self.domains: set[str] = set()
        self.phones: dict[tuple[str, int], str] = {}
        self.industries = picklists("Account", "Industry")
        self.account_types = picklists("Account", "Type")
        self.lead_sources = picklists("Contact", "LeadSource")
        self.lead_statuses = tuple(
            status
            for status in picklists("Lead", "Status")
            if "Converted" not in status or "Not" in status
        )
        self.open_stages = tuple(
            stage
            for stage in picklists("Opportunity", "StageName")
            if not stage.startswith("Closed")
        )
        self.closed_stages = tuple(
            stage for stage in picklists("Opportunity", "StageName") if stage.startswith("Closed")
        )
        self.opportunity_types = picklists("Opportunity", "Type")
        self.relation_roles = picklists("AccountContactRelation", "Roles")
        self.contact_roles = picklists("OpportunityContactRole", "Role")
        self.task_statuses = picklists("Task", "Status")
        self.task_types = frozenset(picklists("Task", "Type"))

    def _pick(self, values: tuple[str, ...]) -> str | None:
        return self.rng.choice(values) if values else None

    def _day(self, start: int = 0) -> int:
        return self.rng.randrange(start, Calendar.HISTORY_DAYS)

    def _audit(self, day: int) -> dict[str, Any]:
        created = self.calendar.stamp(self.rng, day)
        modified = created
        if self.rng.random() < 0.3:
            modified = max(created, self.calendar.stamp(self.rng, self._day(day)))
        return {"CreatedDate": created, "LastModifiedDate": modified, "SystemModstamp": modified}

    def _phone(self, place: tuple[str, str, str]) -> str:
        """A phone number in the place's format; repeats share one string to save memory."""
        key = (place[2], self.rng.randrange(10_000))
        found = self.phones.get(key)
        if found is None:
            found = self.phones[key] = key[0].format(key[1])
        return found

    def person(self, domain: str | None = None) -> Person:
        """A new person; without a company domain, half use free mail like real leads do."""
        first, first_ascii = self.rng.choice(names.FIRST_NAMES)
        last, last_ascii = self.rng.choice(names.LAST_NAMES)
        local = self.rng.choice(EMAIL_PATTERNS).format(
            f=first_ascii, l=last_ascii, i=first_ascii[0]
        )
        if domain is None:
            if self.rng.random() < 0.5:
                local = f"{local}{self.rng.randrange(1, 10_000)}"
                domain = self.rng.choice(names.EMAIL_DOMAINS_FREE)
            else:
                domain = f"{self.rng.choice(names.COMPANY_STEMS)[1]}.com"
        return Person(first, last, f"{local}@{domain}")

    def duplicate_person(self, person: Person) -> Person:
        """The same person typed in again, sometimes with different e-mail capitalisation."""
        local, _, domain = person.email.partition("@")
        variant = self.rng.choice(
            (person.email, person.email, f"{local.title()}@{domain}", person.email.upper())
        )
        return Person(person.first, person.last, variant)

    def account(self) -> AccountInfo:
        stem, slug = self.rng.choice(names.COMPANY_STEMS)
        descriptor = self.rng.choice(ACCOUNT_DESCRIPTORS)
        suffix = self.rng.choice(names.COMPANY_SUFFIXES)
        name = " ".join(part for part in (descriptor, stem, suffix) if part)
        domain = f"{descriptor.lower()}{slug}.{self.rng.choice(('com', 'com', 'io', 'net', 'co.uk', 'de'))}"
        if domain in self.domains:
            domain = f"{descriptor.lower()}{slug}{len(self.domains)}.com"
        self.domains.add(domain)
        place = self.rng.choice(names.PLACES)
        day = self._day()
        employees = int(self.rng.lognormvariate(4.5, 1.6)) + 1
        row = {
            "Name": name,
            "Industry": self._pick(self.industries),
            "Type": self._pick(self.account_types),
            "Phone": self._phone(place),
            "Website": f"https://www.{domain}",
            "BillingCity": place[0],
            "BillingCountry": place[1],
            "NumberOfEmployees": employees,
            "AnnualRevenue": float(employees * self.rng.randrange(50, 400) * 1000),
            **self._audit(day),
        }
        return AccountInfo(row, name, domain, place, day)

    def contact(
        self, account: AccountInfo, account_id: str, person: Person
    ) -> tuple[dict[str, Any], int]:
        """A contact row and its creation day (relations to it must not predate it)."""
        day = self._day(account.day)
        row = {
            "AccountId": account_id,
            "FirstName": person.first,
            "LastName": person.last,
            "Email": person.email,
            "Phone": self._phone(account.place),
            "MobilePhone": self._phone(account.place) if self.rng.random() < 0.25 else None,
            "Title": self.rng.choice(names.TITLES),
            "Department": self.rng.choice(names.DEPARTMENTS),
            "LeadSource": self._pick(self.lead_sources),
            "MailingCity": account.place[0],
            "MailingCountry": account.place[1],
            "HasOptedOutOfEmail": self.rng.random() < 0.04,
            **self._audit(day),
        }
        return row, day

    def lead(self, person: Person) -> tuple[dict[str, Any], int]:
        """A lead row and its creation day (a conversion must not predate it)."""
        place = self.rng.choice(names.PLACES)
        stem = self.rng.choice(names.COMPANY_STEMS)[0]
        day = self._day()
        row = {
            "FirstName": person.first,
            "LastName": person.last,
            "Email": person.email,
            "Company": f"{stem} {self.rng.choice(names.COMPANY_SUFFIXES)}",
            "Phone": self._phone(place),
            "Title": self.rng.choice(names.TITLES),
            "Status": self._pick(self.lead_statuses),
            "LeadSource": self._pick(self.lead_sources),
            "Industry": self._pick(self.industries),
            "City": place[0],
            "Country": place[1],
            **self._audit(day),
        }
        return row, day

    def opportunity(self, account: AccountInfo, account_id: str) -> tuple[dict[str, Any], int]:
        """An opportunity row and its creation day; deals whose close date passed are closed."""
        day = self._day(account.day)
        close_offset = self.rng.randrange(14, 180)
        closed = day + close_offset < Calendar.HISTORY_DAYS
        if closed and self.closed_stages:
            stage = self.rng.choice(self.closed_stages)
            probability = 100.0 if "Won" in stage else 0.0
        else:
            position = self.rng.randrange(len(self.open_stages)) if self.open_stages else 0
            stage = self.open_stages[position] if self.open_stages else None
            probability = float(10 + 80 * position // max(1, len(self.open_stages) - 1))
        row = {
            "AccountId": account_id,
            "Name": f"{account.name} - {self.rng.choice(names.OPPORTUNITY_PRODUCTS)}",
            "StageName": stage,
            "Probability": probability,
            "CloseDate": self.calendar.date_after(day, close_offset),
            "Amount": float(self.rng.randrange(5, 500) * 500),
            "Type": self._pick(self.opportunity_types),
            "LeadSource": self._pick(self.lead_sources),
            **self._audit(day),
        }
        return row, day

    def account_relation(
        self, account_id: str, contact_id: str, day: int, *, direct: bool
    ) -> dict[str, Any]:
        roles = None
        if self.relation_roles and self.rng.random() < 0.4:
            roles = ";".join(
                sorted(self.rng.sample(self.relation_roles, self.rng.choice((1, 1, 2))))
            )
        return {
            "AccountId": account_id,
            "ContactId": contact_id,
            "IsDirect": direct,
            "IsActive": True,
            "Roles": roles,
            "StartDate": self.calendar.date(day),
            **self._audit(day),
        }

    def contact_role(
        self, opportunity_id: str, contact_id: str, day: int, *, primary: bool
    ) -> dict[str, Any]:
        return {
            "OpportunityId": opportunity_id,
            "ContactId": contact_id,
            "Role": self._pick(self.contact_roles),
            "IsPrimary": primary,
            **self._audit(self._day(day)),
        }

    def task(self, who_id: str | None, what_id: str | None, day: int = 0) -> dict[str, Any]:
        """A task created on or after `day` (the day its contact or deal appeared)."""
        subject, kind = self.rng.choice(names.TASK_SUBJECTS)
        status = (
            "Completed" if "Completed" in self.task_statuses and self.rng.random() < 0.5 else None
        )
        day = self._day(day)
        return {
            "WhoId": who_id,
            "WhatId": what_id,
            "Subject": subject,
            "Type": kind if kind in self.task_types else None,
            "Status": status or self._pick(self.task_statuses),
            "Priority": "High" if self.rng.random() < 0.15 else "Normal",
            "ActivityDate": self.calendar.date(day + self.rng.randrange(0, 10)),
            "Description": self.rng.choice(TASK_NOTES) if self.rng.random() < 0.2 else None,
            **self._audit(day),
        }
