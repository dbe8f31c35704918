"""sObject Collections through the client against the emulator: writes, chunks, allOrNone."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_collection_create_update_upsert_delete(emulator, sf_client):
    created = sf_client.collection("create", "Account", [{"Name": "A"}, {"Name": None}])
    assert created[0]["success"] and created[0]["id"].startswith("001")
    assert not created[1]["success"]
    assert created[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"

    account = created[0]["id"]
    updated = sf_client.collection("update", "Account", [{"Id": account, "Name": "A2"}])
    assert updated == [{"id": account, "success": True, "errors": []}]

    upserted = sf_client.collection("upsert", "Account",
                                    [{"Forcebridge_Id__c": "hub-1", "Name": "Hub"}],
                                    external_id_field="Forcebridge_Id__c")
    assert upserted[0]["success"] and upserted[0]["created"] is True

    deleted = sf_client.collection("delete", "Account", [{"Id": account}])
    assert deleted[0]["success"]
    assert sorted(r["Name"] for r in emulator.control.records("Account")) == ["Hub"]


def test_collection_chunks_by_200_and_keeps_order(emulator, sf_client):
    records = [{"Name": f"N{n}"} for n in range(450)]
    records[321]["Name"] = None
    results = sf_client.collection("create", "Account", records)
    assert len(results) == 450
    assert [n for n, r in enumerate(results) if not r["success"]] == [321]
    assert emulator.control.counters()["composite"] == 3


def test_collection_all_or_none_rolls_back(emulator, sf_client):
    results = sf_client.collection("create", "Account", [{"Name": "A"}, {"Name": None}],
                                   all_or_none=True)
    assert [r["success"] for r in results] == [False, False]
    assert emulator.control.records("Account") == []
