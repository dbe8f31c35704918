"""Every write path moves SystemModstamp to the org's clock, or pollers would miss the change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from simple_salesforce import Salesforce

from sfemulator import Emulator

from .conftest import Api

CREATED = "2024-03-10T12:00:00Z"
CHANGED = "2024-03-10T12:07:30.125+0000"
Change = Callable[[Emulator, Salesforce, Api, str], str]  # returns the id to look at


def _undelete(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    org.control.undelete(contact)
    return contact


def _convert_lead(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    [lead] = org.control.records("Lead")
    return org.control.convert_lead(lead["Id"])["leadId"]


def _collection_update(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    sf.restful("composite/sobjects", method="PATCH", json={"records": [
        {"attributes": {"type": "Contact"}, "id": contact, "Title": "Changed"}]})
    return contact


def _bulk_update(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    [totals] = sf.bulk2.Contact.update(records=[{"Id": contact, "Title": "Bulk"}], wait=0)
    assert totals["numberRecordsFailed"] == 0
    return contact


def _bulk_upsert(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    [totals] = sf.bulk2.Contact.upsert(records=[{"Forcebridge_Id__c": "m-1", "Title": "Up"}],
                                       external_id_field="Forcebridge_Id__c", wait=0)
    assert totals["numberRecordsFailed"] == 0
    return contact


def _upsert_by_id(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    assert api("PATCH", f"sobjects/Contact/Id/{contact}", json={"Title": "ById"}).ok
    return contact


def _is_direct_flip(org: Emulator, sf: Salesforce, api: Api, contact: str) -> str:
    [relation] = sf.query("SELECT Id FROM AccountContactRelation")["records"]
    sf.Contact.update(contact, {"AccountId": sf.Account.create({"Name": "Next"})["id"]})
    return relation["Id"]


@pytest.mark.parametrize("change", [_undelete, _convert_lead, _collection_update, _bulk_update,
                                    _bulk_upsert, _upsert_by_id, _is_direct_flip],
                         ids=lambda change: change.__name__.strip("_"))
def test_system_modstamp_moves(org: Emulator, sf: Salesforce, api: Api, change: Change) -> None:
    org.control.clock(freeze=CREATED)
    account = sf.Account.create({"Name": "First"})["id"]
    contact = sf.Contact.create({"LastName": "M", "AccountId": account,
                                 "Forcebridge_Id__c": "m-1"})["id"]
    sf.Lead.create({"LastName": "L", "Company": "LCo"})
    if change is _undelete:
        sf.Contact.delete(contact)
    org.control.clock(advance=450.125)
    record_id = change(org, sf, api, contact)
    record = next(r for name in ("Contact", "Lead", "AccountContactRelation")
                  for r in org.control.records(name) if r["Id"] == record_id)
    assert record["SystemModstamp"] == record["LastModifiedDate"] == CHANGED
    assert record["CreatedDate"] == "2024-03-10T12:00:00.000+0000"
