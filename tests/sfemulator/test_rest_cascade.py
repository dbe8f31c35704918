"""Deletes cascade like Salesforce's: to children, through undelete and purge, and in SOQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from simple_salesforce import Salesforce

from sfemulator import Emulator

from .conftest import Api

UTC = dt.timezone.utc
DELETED_AT = "2024-03-10T12:05:00.000+0000"


def _account_family(sf: Salesforce) -> dict[str, Any]:
    """An account with two contacts, a deal, a case, roles, tasks, and an outside contact."""
    account = sf.Account.create({"Name": "Acme"})["id"]
    other = sf.Account.create({"Name": "Other"})["id"]
    contacts = [sf.Contact.create({"LastName": name, "AccountId": account})["id"]
                for name in ("Ann", "Bob")]
    outsider = sf.Contact.create({"LastName": "Out", "AccountId": other})["id"]
    indirect = sf.AccountContactRelation.create({"AccountId": account,
                                                 "ContactId": outsider})["id"]
    deal = sf.Opportunity.create({"Name": "Deal", "AccountId": account, "StageName": "Prospecting",
                                  "CloseDate": "2024-06-01"})["id"]
    role = sf.OpportunityContactRole.create({"OpportunityId": deal,
                                             "ContactId": contacts[0]})["id"]
    case = sf.Case.create({"AccountId": account, "Subject": "Broken"})["id"]
    tasks = [sf.Task.create({"Subject": "Call", "WhoId": contacts[1]})["id"],
             sf.Task.create({"Subject": "Visit", "WhatId": account})["id"],
             sf.Task.create({"Subject": "Pitch", "WhatId": deal, "WhoId": contacts[0]})["id"]]
    outsider_task = sf.Task.create({"Subject": "Chat", "WhoId": outsider})["id"]
    return {"account": account, "other": other, "contacts": contacts, "outsider": outsider,
            "indirect": indirect, "deal": deal, "role": role, "case": case, "tasks": tasks,
            "outsider_task": outsider_task}


def _state(sf: Salesforce, sobject: str) -> dict[str, tuple[bool, str]]:
    """Id -> (IsDeleted, SystemModstamp) for every record queryAll can see."""
    rows = sf.query_all(f"SELECT Id, IsDeleted, SystemModstamp FROM {sobject}",
                        include_deleted=True)["records"]
    return {row["Id"]: (row["IsDeleted"], row["SystemModstamp"]) for row in rows}


def _deleted_ids(sf: Salesforce) -> set[str]:
    deleted = set()
    for sobject in ("Account", "Contact", "Opportunity", "Case", "Task",
                    "AccountContactRelation", "OpportunityContactRole"):
        deleted |= {i for i, (gone, _) in _state(sf, sobject).items() if gone}
    return deleted


def _family_ids(family: dict[str, Any]) -> set[str]:
    """What deleting the account takes along, the account included (but not its contacts'
    direct relations, whose ids the API never returned)."""
    return {family["account"], *family["contacts"], family["deal"], family["role"],
            family["case"], family["indirect"], *family["tasks"]}


def test_deleting_an_account_takes_its_family(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:00Z")
    family = _account_family(sf)
    org.control.clock(advance=300)
    sf.Account.delete(family["account"])
    relations = _state(sf, "AccountContactRelation")
    direct = {i for i, (gone, _) in relations.items() if gone} - {family["indirect"]}
    assert len(direct) == 2  # the direct relations of Ann and Bob
    assert _deleted_ids(sf) == _family_ids(family) | direct
    for sobject in ("Contact", "Task", "OpportunityContactRole", "Case", "Opportunity"):
        stamps = {stamp for gone, stamp in _state(sf, sobject).values() if gone}
        assert stamps == {DELETED_AT}, sobject
    # The outsider, its own account and its task are untouched; only its relation went.
    assert sf.Contact.get(family["outsider"])["IsDeleted"] is False
    assert sf.Task.get(family["outsider_task"])["IsDeleted"] is False
    org.control.clock(advance=60)
    window = (dt.datetime(2024, 3, 10, 12, 0, tzinfo=UTC),
              dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC))
    listed = {r["id"]: r["deletedDate"] for r in sf.Task.deleted(*window)["deletedRecords"]}
    assert listed == dict.fromkeys(family["tasks"], DELETED_AT)
    assert [r["id"] for r in sf.Contact.deleted(*window)["deletedRecords"]] == family["contacts"]


def test_undelete_restores_what_went_with_the_parent(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:00Z")
    family = _account_family(sf)
    sf.Contact.delete(family["contacts"][1])  # deleted on its own first: stays in the bin
    alone = _deleted_ids(sf)
    org.control.clock(advance=300)
    sf.Account.delete(family["account"])
    org.control.clock(advance=60)
    org.control.undelete(family["account"])
    assert _deleted_ids(sf) == alone
    contact = _state(sf, "Contact")[family["contacts"][0]]
    assert contact == (False, "2024-03-10T12:06:00.000+0000")
    assert sf.Task.get(family["tasks"][2])["SystemModstamp"] == "2024-03-10T12:06:00.000+0000"
    org.control.undelete(family["contacts"][1])  # and its own children come back with it
    assert _deleted_ids(sf) == set()


def test_deleting_a_contact_or_a_deal(org: Emulator, sf: Salesforce) -> None:
    family = _account_family(sf)
    ann, bob = family["contacts"]
    sf.Contact.delete(ann)
    relations = _state(sf, "AccountContactRelation")
    ann_relation = {i for i, (gone, _) in relations.items() if gone}
    assert len(ann_relation) == 1
    assert _deleted_ids(sf) == {ann, family["role"], family["tasks"][2]} | ann_relation
    assert sf.Opportunity.get(family["deal"])["IsDeleted"] is False
    org.control.undelete(ann)  # simple-salesforce has no undelete
    sf.Opportunity.delete(family["deal"])
    assert _deleted_ids(sf) == {family["deal"], family["role"], family["tasks"][2]}
    assert sf.Contact.get(bob)["IsDeleted"] is False


def test_purging_cascades(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:00Z")
    family = _account_family(sf)
    binned = _account_family(sf)
    sf.Account.delete(binned["account"])
    org.control.clock(advance=60)
    org.control.delete("Account", family["account"], hard=True)  # live: purged with children
    org.control.delete("Account", binned["account"], hard=True)  # from the bin: its cascade
    remaining = set()
    for sobject in ("Contact", "Task", "Opportunity", "Case", "OpportunityContactRole"):
        remaining |= set(_state(sf, sobject))
    assert remaining == {family["outsider"], family["outsider_task"], binned["outsider"],
                         binned["outsider_task"]}
    org.control.clock(advance=60)
    window = (dt.datetime(2024, 3, 10, 12, 0, tzinfo=UTC),
              dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC))
    listed = {r["id"]: r["deletedDate"] for r in sf.Contact.deleted(*window)["deletedRecords"]}
    assert listed == {**dict.fromkeys(binned["contacts"], "2024-03-10T12:00:00.000+0000"),
                      **dict.fromkeys(family["contacts"], "2024-03-10T12:01:00.000+0000")}


def test_rolled_back_collection_delete_restores_the_cascade(sf: Salesforce, api: Api) -> None:
    family = _account_family(sf)
    reply = api("DELETE", "composite/sobjects",
                params={"ids": f"{family['account']},001000000000000AAA", "allOrNone": "true"})
    assert [r["success"] for r in reply.json()] == [False, False]
    assert _deleted_ids(sf) == set()


def test_lookup_to_a_deleted_parent_reads_as_null_outside_query_all(sf: Salesforce) -> None:
    contact = sf.Contact.create({"LastName": "Gone"})["id"]
    sf.Case.create({"Subject": "Kept", "ContactId": contact})  # a plain lookup: no cascade
    sf.Contact.delete(contact)
    query = "SELECT Subject, ContactId, Contact.LastName FROM Case"
    [live] = sf.query(query)["records"]
    assert live["ContactId"] == contact and live["Contact"] is None
    assert sf.query("SELECT COUNT() FROM Case WHERE Contact.LastName = 'Gone'")["totalSize"] == 0
    [everything] = sf.query_all(query, include_deleted=True)["records"]
    assert everything["Contact"]["LastName"] == "Gone"
