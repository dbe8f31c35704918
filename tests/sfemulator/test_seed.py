"""The seed generator: deterministic, realistic, proportional; and the emulator benchmark."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from simple_salesforce import Salesforce

from sfemulator import Emulator, Org, seed

ROOT = Path(__file__).resolve().parents[2]
MOMENT = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
SEEDED = ("Account", "Contact", "Lead", "Opportunity", "Task", "AccountContactRelation",
          "OpportunityContactRole")


def seeded_org(spec: str | int, rng_seed: int = 42) -> tuple[Org, dict[str, int]]:
    org = Org()
    org.clock.freeze(MOMENT)  # conversions stamp records with the org's clock
    return org, seed.apply(org, spec, rng_seed=rng_seed)


def snapshot(org: Org) -> dict[str, list[dict[str, Any]]]:
    return {name: list(org.iter_records(name, include_deleted=True)) for name in SEEDED}


@pytest.fixture(scope="module")
def demo() -> Org:
    return seeded_org("demo")[0]


def test_same_seed_gives_identical_records(demo: Org) -> None:
    again, _ = seeded_org("demo")
    assert snapshot(again) == snapshot(demo)
    other, _ = seeded_org("demo", rng_seed=7)
    assert snapshot(other)["Contact"] != snapshot(demo)["Contact"]


def test_contact_count_sets_the_proportions() -> None:
    org, counts = seeded_org(2000)
    assert {name: counts[name] for name in ("Contact", "Account", "Lead", "Opportunity", "Task")} \
        == {"Contact": 2000, "Account": 200, "Lead": 500, "Opportunity": 250, "Task": 1000}
    assert counts["AccountContactRelation"] > 2000  # one direct each, plus indirect ones
    assert counts["OpportunityContactRole"] > 0
    assert "LeadConversion" not in counts  # conversions would add contacts beyond N
    for name in SEEDED:
        assert sum(1 for _ in org.iter_records(name)) == counts[name]


@pytest.mark.parametrize(("spec", "expected"), [
    ("none", (0, False)), ("demo", (seed.DEMO_CONTACTS, True)), (0, (0, False)),
    ("1_000", (1000, False)), (" 25 ", (25, False)),
])
def test_seed_specs(spec: str | int, expected: tuple[int, bool]) -> None:
    assert seed.parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["-5", "lots", ""])
def test_bad_seed_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="seed"):
        seed.parse_spec(spec)


def test_none_creates_nothing() -> None:
    org, counts = seeded_org("none")
    assert counts == {}
    assert all(not list(org.iter_records(name)) for name in SEEDED)


def test_demo_has_duplicate_and_shared_emails(demo: Org) -> None:
    leads = [lead["Email"].lower() for lead in demo.iter_records("Lead") if lead["Email"]]
    repeated = [email for email, count in Counter(leads).items() if count > 1]
    assert len(repeated) >= 10
    contact_emails = {c["Email"].lower() for c in demo.iter_records("Contact") if c["Email"]}
    assert len(contact_emails & set(leads)) >= 10


def test_demo_converted_leads(demo: Org) -> None:
    converted = [lead for lead in demo.iter_records("Lead") if lead["IsConverted"]]
    assert 20 <= len(converted) <= 100
    contact = demo.get_record(converted[0]["ConvertedContactId"])
    assert contact is not None and contact["Email"] == converted[0]["Email"]


def test_demo_conversions_are_spread_over_the_calendar(demo: Org) -> None:
    converted = [lead for lead in demo.iter_records("Lead") if lead["IsConverted"]]
    today = MOMENT.date().isoformat()
    dates = [lead["ConvertedDate"] for lead in converted]
    assert len(set(dates)) > len(converted) // 2 and max(dates) < today
    for lead in converted:
        assert lead["CreatedDate"] <= lead["SystemModstamp"]
        assert lead["SystemModstamp"].startswith(lead["ConvertedDate"])
        made = [demo.get_record(lead[key]) for key in
                ("ConvertedAccountId", "ConvertedContactId", "ConvertedOpportunityId")]
        assert {record["CreatedDate"] for record in made if record} == {lead["SystemModstamp"]}


def test_demo_relations(demo: Org) -> None:
    contacts = {c["Id"]: c for c in demo.iter_records("Contact")}
    relations: dict[str, list[dict[str, Any]]] = {}
    for relation in demo.iter_records("AccountContactRelation"):
        relations.setdefault(relation["ContactId"], []).append(relation)
    for contact_id, contact in contacts.items():
        direct = [r for r in relations.get(contact_id, []) if r["IsDirect"]]
        assert [r["AccountId"] for r in direct] == [contact["AccountId"]]
    multi = [rows for rows in relations.values() if len({r["AccountId"] for r in rows}) > 1]
    assert len(multi) >= len(contacts) // 20
    roles: dict[str, list[bool]] = {}
    for role in demo.iter_records("OpportunityContactRole"):
        roles.setdefault(role["OpportunityId"], []).append(role["IsPrimary"])
    assert roles and all(flags.count(True) == 1 for flags in roles.values())


def test_demo_tasks_link_people_and_things(demo: Org) -> None:
    prefixes = Counter((t["WhoId"] or "")[:3] + "/" + (t["WhatId"] or "")[:3]
                       for t in demo.iter_records("Task"))
    assert {"003/001", "003/006", "00Q/"} <= set(prefixes)
    assert not any(key.startswith("00Q/") and key != "00Q/" for key in prefixes)


def test_demo_names_and_dates_are_realistic(demo: Org) -> None:
    contacts = list(demo.iter_records("Contact"))
    names = {c["LastName"] for c in contacts} | {c["FirstName"] for c in contacts}
    assert {"O'Brien", "Zoë", "Łukasz", "Müller", "田中"} <= names
    assert all(c["Email"].isascii() and "@" in c["Email"] for c in contacts)
    assert len({c["Title"] for c in contacts}) > 10
    assert len({a["Industry"] for a in demo.iter_records("Account")}) > 5
    created = sorted(c["CreatedDate"] for c in contacts)  # converted contacts included
    assert created[0] >= "2022-05-01" and created[-1] < MOMENT.strftime("%Y-%m-%d")
    assert created[-1][:7] != created[0][:7]


def test_seed_now_gives_identical_records_on_any_day(org: Emulator) -> None:
    """With rng_seed and seed_now fixed, the day the seed runs on changes nothing."""

    def seeded_on(day: str) -> dict[str, Any]:
        org.control.reset()
        org.control.clock(freeze=day)
        counts = org.control.seed("demo", rng_seed=5, seed_now="2024-01-15T00:00:00Z")
        # Read on one common day, so formulas reading TODAY agree too.
        org.control.clock(freeze="2024-02-01T00:00:00Z")
        return {"counts": counts, **{name: org.control.records(name, include_deleted=True)
                                     for name in SEEDED}}

    first = seeded_on("2024-03-01T08:00:00Z")
    second = seeded_on("2024-07-19T23:00:00Z")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert max(c["CreatedDate"] for c in first["Contact"]) < "2024-01-15"
    assert any(lead["IsConverted"] for lead in first["Lead"])


def test_default_seed_anchors_on_today(org: Emulator) -> None:
    org.control.clock(freeze="2024-03-01T17:45:00Z")
    org.control.seed(40)
    created = [c["CreatedDate"] for c in org.control.records("Contact")]
    assert max(created) < "2024-03-01" and max(created) >= "2024-01-01"


def test_demo_through_the_api(org: Emulator, sf: Salesforce) -> None:
    counts = org.control.seed("demo")
    assert counts["Contact"] >= seed.DEMO_CONTACTS
    found = sf.query_all("SELECT Id, Account.Name FROM Contact WHERE LastName = 'O\\'Brien'")
    assert found["totalSize"] > 0
    assert sf.query("SELECT COUNT() FROM Lead WHERE IsConverted = true")["totalSize"] > 0


def test_benchmark_quick_mode_prints_its_report() -> None:
    finished = subprocess.run([sys.executable, "bench/emulator.py", "--quick"], cwd=ROOT,
                              capture_output=True, text=True, timeout=300, check=True)
    report = json.loads(finished.stdout)
    assert report["quick"] is True and isinstance(report["pass"], bool)
    assert set(report["throughput"]) >= {"contacts", "records_per_second",
                                         "goal_records_per_second", "pass"}
    assert set(report["memory"]) >= {"contacts", "peak_rss_mb_after_seed",
                                     "peak_rss_mb_after_query", "goal_peak_rss_mb", "pass"}
    assert report["throughput"]["records_received"] == report["throughput"]["contacts"]
