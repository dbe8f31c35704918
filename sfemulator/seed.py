"""Seed an emulated org with realistic, deterministic CRM data.

`apply(org, "demo")` builds a small org for demos and tests; `apply(org, 1_000_000)` builds
a large one for benchmarks. Both use the same generator so the large org has the same
awkward data (apostrophes, non-ASCII names, duplicate e-mails) as the demo.

Records are dated on a fixed calendar of the two years before `now` (see seed_rows.Calendar),
demo lead conversions included. `now` defaults to today at 00:00 UTC by the org's clock, so a
seed changes from one day to the next; pass the same `now` (Emulator `seed_now=`, CLI
`--seed-now`, the control API's `seed_now`) and the same `rng_seed` to get byte-identical
records on any day (only formulas reading TODAY differ, as they would in a real org).

Memory matters at a million contacts: accounts are generated in rounds and each round's
rows are handed to `org.load` and dropped, so only ids and a few small samples outlive it.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any, Protocol

from sfemulator.clock import parse_datetime
from sfemulator.seed_rows import Calendar, Person, Picklists, RowFactory

DEMO_CONTACTS = 3000
ACCOUNTS_PER_ROUND = 1000
LEADS_PER_CHUNK = 10_000

# Shares of the generated data; each names a messy-but-real pattern the sync must survive.
LEAD_DUPLICATE_SHARE = 0.04  # a lead re-entered with the same e-mail
LEAD_ALSO_CONTACT_SHARE = 0.02  # a contact who is also still a lead (same e-mail)
MULTI_ACCOUNT_SHARE = 0.10  # contacts related to more than one account
DEMO_CONVERTED_SHARE = 0.06  # demo leads converted through org.convert_lead
LEAD_TASK_SHARE = 0.2  # tasks whose WhoId is a lead rather than a contact
# Leads kept as candidates for LEAD_ALSO_CONTACT_SHARE: leads number a quarter of the
# contacts, so a tenth of them covers the 2% of contacts drawn from the pool.
LEAD_SAMPLE_SHARE = 0.1
CONVERSION_RESULTS = (
    ("accountId", "Account"),
    ("contactId", "Contact"),
    ("contactId", "AccountContactRelation"),
    ("opportunityId", "Opportunity"),
)


# A record id with the day (see seed_rows.Calendar) it was created on.
Dated = tuple[str, int]


class SeedableOrg(Protocol):
    def load(self, sobject: str, rows: list[dict[str, Any]]) -> list[str]: ...

    def convert_lead(self, lead_id: str, *, at: datetime | None = None) -> dict[str, Any]: ...

    def now(self) -> datetime: ...

    @property
    def schema(self) -> Any: ...


def apply(
    org: SeedableOrg,
    spec: str | int,
    *,
    rng_seed: int = 42,
    now: datetime | str | None = None,
) -> dict[str, int]:
    """Seed `org` according to `spec` ("none", "demo" or a contact count).

    1. Parse the spec; "none" and 0 create nothing. Anchor the calendar on `now` (a datetime
       or ISO-8601 text with an offset), by default today at 00:00 UTC.
    2. Generate leads, then accounts in rounds with their contacts, opportunities,
       relations and tasks, then tasks on leads; demo orgs also get converted leads.
    3. Return how many records of each sObject were created.
    """
    contacts, demo = parse_spec(spec)
    if contacts == 0:
        return {}
    seeder = _Seeder(org, random.Random(rng_seed), anchor(org, now), demo)
    return seeder.run(contacts)


def anchor(org: SeedableOrg, now: datetime | str | None) -> datetime:
    """The moment the seed calendar ends at: `now` as given, or today 00:00 UTC."""
    if isinstance(now, str):
        parsed = parse_datetime(now)
        if parsed is None:
            raise ValueError(f"seed_now must be an ISO-8601 datetime with an offset, not {now!r}")
        return parsed
    if now is not None:
        return now.astimezone(UTC)
    return org.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def parse_spec(spec: str | int) -> tuple[int, bool]:
    """Return (contact count, is demo) for a seed spec."""
    if isinstance(spec, int):
        count = spec
    else:
        text = spec.strip().lower()
        if text == "none":
            return 0, False
        if text == "demo":
            return DEMO_CONTACTS, True
        try:
            count = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(
                f"seed must be 'none', 'demo' or a contact count, not {spec!r}"
            ) from None
    if count < 0:
        raise ValueError(f"seed contact count must not be negative, got {count}")
    return count, False


def split_total(rng: random.Random, total: int, parts: int) -> list[int]:
    """Split `total` into `parts` random non-negative sizes (skewed, like real account sizes)."""
    if parts <= 0:
        return []
    cuts = sorted(rng.randint(0, total) for _ in range(parts - 1))
    sizes = []
    previous = 0
    for cut in cuts:
        sizes.append(cut - previous)
        previous = cut
    sizes.append(total - previous)
    return sizes


class _Seeder:
    """One seeding run: owns the random stream, the row factory and the running counts."""

    def __init__(self, org: SeedableOrg, rng: random.Random, now: datetime, demo: bool) -> None:
        self.org = org
        self.rng = rng
        self.demo = demo
        self.rows = RowFactory(rng, Calendar(now.astimezone(UTC)), Picklists(org.schema))
        self.counts: Counter[str] = Counter()
        self.account_ids: list[str] = []
        self.lead_ids: list[str] = []
        # Creation day and stamp of each lead, kept for demo conversions (which come after).
        self.lead_created: list[tuple[int, str]] = []
        # A thin sample of lead people, reused as contacts so lead and contact e-mails overlap.
        self.lead_people: list[Person] = []

    def run(self, contacts: int) -> dict[str, int]:
        """Generate everything for `contacts` contacts and return the counts."""
        accounts = max(1, contacts // 10)
        tasks = contacts // 2
        lead_tasks = int(tasks * LEAD_TASK_SHARE)
        self._seed_leads(contacts // 4)
        contact_sizes = split_total(self.rng, contacts, accounts)
        opportunity_sizes = split_total(self.rng, contacts // 8, accounts)
        task_sizes = split_total(self.rng, tasks - lead_tasks, accounts)
        for start in range(0, accounts, ACCOUNTS_PER_ROUND):
            end = start + ACCOUNTS_PER_ROUND
            self._seed_round(
                contact_sizes[start:end], opportunity_sizes[start:end], task_sizes[start:end]
            )
        self._seed_lead_tasks(lead_tasks)
        if self.demo:
            self._convert_leads()
        return dict(self.counts)

    def _load(self, sobject: str, rows: list[dict[str, Any]]) -> list[str]:
        if not rows:
            return []
        ids = self.org.load(sobject, rows)
        self.counts[sobject] += len(ids)
        return ids

    def _seed_leads(self, total: int) -> None:
        """Create leads in chunks; a share repeat an earlier lead's person (duplicate e-mail)."""
        recent: list[Person] = []
        for start in range(0, total, LEADS_PER_CHUNK):
            rows = []
            for _ in range(min(LEADS_PER_CHUNK, total - start)):
                if recent and self.rng.random() < LEAD_DUPLICATE_SHARE:
                    person = self.rows.duplicate_person(self.rng.choice(recent))
                else:
                    person = self.rows.person()
                    if len(recent) < 1000:
                        recent.append(person)
                    else:
                        recent[self.rng.randrange(1000)] = person
                    if self.rng.random() < LEAD_SAMPLE_SHARE:
                        self.lead_people.append(person)
                row, day = self.rows.lead(person)
                rows.append(row)
                if self.demo:
                    self.lead_created.append((day, row["CreatedDate"]))
            self.lead_ids.extend(self._load("Lead", rows))

    def _seed_round(
        self, contact_sizes: list[int], opp_sizes: list[int], task_sizes: list[int]
    ) -> None:
        """Create one round of accounts with their contacts, deals, relations and tasks."""
        accounts = [self.rows.account() for _ in contact_sizes]
        account_ids = self._load("Account", [account.row for account in accounts])
        contact_rows: list[dict[str, Any]] = []
        contact_days: list[int] = []
        for account, account_id, size in zip(accounts, account_ids, contact_sizes, strict=True):
            for _ in range(size):
                row, day = self.rows.contact(account, account_id, self._contact_person(account))
                contact_rows.append(row)
                contact_days.append(day)
        loaded = zip(self._load("Contact", contact_rows), contact_days, strict=True)
        del contact_rows
        members: list[list[Dated]] = [[next(loaded) for _ in range(size)] for size in contact_sizes]
        opportunities = [
            self.rows.opportunity(account, account_id)
            for account, account_id, size in zip(accounts, account_ids, opp_sizes, strict=True)
            for _ in range(size)
        ]
        opportunity_ids = self._load("Opportunity", [row for row, _ in opportunities])
        opened = zip(opportunity_ids, [day for _, day in opportunities], strict=True)
        deals = [[next(opened) for _ in range(size)] for size in opp_sizes]
        self.account_ids.extend(account_ids)
        self._seed_relations(account_ids, members, deals)
        self._seed_account_tasks(account_ids, members, deals, task_sizes)

    def _contact_person(self, account: Any) -> Person:
        if self.lead_people and self.rng.random() < LEAD_ALSO_CONTACT_SHARE:
            index = self.rng.randrange(len(self.lead_people))
            # Swap-remove so each lead person becomes a contact at most once.
            self.lead_people[index], self.lead_people[-1] = (
                self.lead_people[-1],
                self.lead_people[index],
            )
            return self.lead_people.pop()
        return self.rows.person(account.domain)

    def _seed_relations(
        self, account_ids: list[str], members: list[list[Dated]], deals: list[list[Dated]]
    ) -> None:
        """Create AccountContactRelations (one direct per contact) and OpportunityContactRoles."""
        relations: list[dict[str, Any]] = []
        for account_id, people in zip(account_ids, members, strict=True):
            for contact_id, day in people:
                relations.append(
                    self.rows.account_relation(account_id, contact_id, day, direct=True)
                )
                if len(self.account_ids) > 1 and self.rng.random() < MULTI_ACCOUNT_SHARE:
                    others = {
                        self.rng.choice(self.account_ids) for _ in range(self.rng.choice((1, 1, 2)))
                    }
                    for other in sorted(others - {account_id}):
                        relations.append(
                            self.rows.account_relation(other, contact_id, day, direct=False)
                        )
        self._load("AccountContactRelation", relations)
        roles: list[dict[str, Any]] = []
        for people, opportunities in zip(members, deals, strict=True):
            if not people:
                continue
            for opportunity_id, opened in opportunities:
                chosen = self.rng.sample(people, min(len(people), self.rng.choice((1, 1, 2, 3))))
                for position, (contact_id, joined) in enumerate(chosen):
                    day = max(opened, joined)
                    roles.append(
                        self.rows.contact_role(
                            opportunity_id, contact_id, day, primary=position == 0
                        )
                    )
        self._load("OpportunityContactRole", roles)

    def _seed_account_tasks(
        self,
        account_ids: list[str],
        members: list[list[Dated]],
        deals: list[list[Dated]],
        task_sizes: list[int],
    ) -> None:
        """Create tasks about an account or one of its deals, mostly with one of its contacts."""
        rows: list[dict[str, Any]] = []
        for account_id, people, opportunities, size in zip(
            account_ids, members, deals, task_sizes, strict=True
        ):
            for _ in range(size):
                who, day = self.rng.choice(people) if people else (None, 0)
                what = account_id
                if opportunities and self.rng.random() < 0.5:
                    what, opened = self.rng.choice(opportunities)
                    day = max(day, opened)
                rows.append(self.rows.task(who, what, day))
        self._load("Task", rows)

    def _seed_lead_tasks(self, total: int) -> None:
        """Create tasks on leads; Salesforce forbids a WhatId when the WhoId is a lead."""
        if not self.lead_ids:
            return
        for start in range(0, total, LEADS_PER_CHUNK):
            count = min(LEADS_PER_CHUNK, total - start)
            self._load(
                "Task", [self.rows.task(self.rng.choice(self.lead_ids), None) for _ in range(count)]
            )

    def _convert_leads(self) -> None:
        """Convert a share of the demo's leads through the org, as a sales rep would.

        Each conversion creates an account, a contact (with its direct relation) and an
        opportunity, which are counted with the rest. It happens on a calendar day after the
        lead was created, and everything it writes is stamped then.
        """
        count = int(len(self.lead_ids) * DEMO_CONVERTED_SHARE)
        calendar = self.rows.calendar
        for index in sorted(self.rng.sample(range(len(self.lead_ids)), count)):
            day, created = self.lead_created[index]
            moment = calendar.moment(self.rng, self.rng.randrange(day, Calendar.HISTORY_DAYS))
            # On the lead's own day the drawn time may precede its creation: take the later.
            moment = max(moment, calendar.parse(created))
            result = self.org.convert_lead(self.lead_ids[index], at=moment)
            self.counts["LeadConversion"] += 1
            for key, sobject in CONVERSION_RESULTS:
                if result.get(key):
                    self.counts[sobject] += 1
