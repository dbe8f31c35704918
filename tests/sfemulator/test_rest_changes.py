"""`sobjects/{T}/updated` and `/deleted`: windows, offsets, naive datetimes."""

from __future__ import annotations

import datetime as dt

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceMalformedRequest

from sfemulator import Emulator

from .conftest import Api, error_of, salesforce

UTC = dt.timezone.utc


def test_updated_and_deleted(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:30Z")
    kept = sf.Contact.create({"LastName": "Kept"})["id"]
    gone = sf.Contact.create({"LastName": "Gone"})["id"]
    org.control.clock(advance=120)
    sf.Contact.delete(gone)
    start = dt.datetime(2024, 3, 10, 11, 0, tzinfo=UTC)
    end = dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC)
    updated = sf.Contact.updated(start, end)
    assert updated == {"ids": [kept], "latestDateCovered": "2024-03-10T12:02:00.000+0000"}
    deleted = sf.Contact.deleted(start, end)
    # Deleted at 12:02:30, after the latest date covered: listed only once that minute is over.
    assert deleted == {"deletedRecords": [],
                       "earliestDateAvailable": "2024-02-24T12:02:00.000+0000",
                       "latestDateCovered": "2024-03-10T12:02:00.000+0000"}
    org.control.clock(advance=40)
    deleted = sf.Contact.deleted(start, end)
    assert deleted["deletedRecords"] == [{"id": gone,
                                          "deletedDate": "2024-03-10T12:02:30.000+0000"}]
    assert deleted["latestDateCovered"] == "2024-03-10T12:03:00.000+0000"
    before = sf.Contact.updated(start, dt.datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    assert before == {"ids": [], "latestDateCovered": "2024-03-10T12:00:00.000+0000"}


def test_nothing_after_the_latest_date_covered(org: Emulator, sf: Salesforce) -> None:
    """Polling [latestDateCovered of the last call, now) repeatedly sees each change once."""
    org.control.clock(freeze="2024-03-10T12:00:10Z")
    early = sf.Contact.create({"LastName": "Early"})["id"]
    org.control.clock(advance=40)  # 12:00:50, same minute as the poll below
    late = sf.Contact.create({"LastName": "Late"})["id"]
    start = dt.datetime(2024, 3, 10, 11, 0, tzinfo=UTC)
    end = dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC)
    first = sf.Contact.updated(start, end)
    assert first == {"ids": [], "latestDateCovered": "2024-03-10T12:00:00.000+0000"}
    org.control.clock(advance=60)
    second = sf.Contact.updated(dt.datetime(2024, 3, 10, 12, 0, tzinfo=UTC), end)
    assert second == {"ids": [early, late], "latestDateCovered": "2024-03-10T12:01:00.000+0000"}


def test_earliest_date_available_ignores_the_log(org: Emulator, sf: Salesforce) -> None:
    org.control.clock(freeze="2024-03-10T12:00:30Z")
    start = dt.datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    end = dt.datetime(2024, 3, 11, 0, 0, tzinfo=UTC)
    empty = sf.Contact.deleted(start, end)
    sf.Contact.delete(sf.Contact.create({"LastName": "Gone"})["id"])
    org.control.clock(advance=3600)
    after = sf.Contact.deleted(start, end)
    assert empty["earliestDateAvailable"] == "2024-02-24T12:00:00.000+0000"
    assert after["earliestDateAvailable"] == "2024-02-24T13:00:00.000+0000"
    assert len(after["deletedRecords"]) == 1


def test_hard_deletes_stay_listed_by_deleted(org: Emulator, sf: Salesforce) -> None:
    """queryAll cannot see a purged record, so getDeleted is the only way a sync learns of it."""
    org.control.clock(freeze="2024-03-10T12:00:30Z")
    purged = sf.Contact.create({"LastName": "Purged"})["id"]
    binned = sf.Contact.create({"LastName": "Binned"})["id"]
    sf.Contact.delete(binned)
    org.control.clock(advance=60)
    org.control.delete("Contact", purged, hard=True)
    org.control.delete("Contact", binned, hard=True)
    org.control.clock(advance=60)
    assert sf.query_all("SELECT Id FROM Contact", include_deleted=True)["totalSize"] == 0
    start = dt.datetime(2024, 3, 10, 11, 0, tzinfo=UTC)
    deleted = sf.Contact.deleted(start, dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC))
    assert sorted(deleted["deletedRecords"], key=lambda r: r["deletedDate"]) == [
        {"id": binned, "deletedDate": "2024-03-10T12:00:30.000+0000"},
        {"id": purged, "deletedDate": "2024-03-10T12:01:30.000+0000"},
    ]


def test_naive_datetimes_are_rejected(org: Emulator, sf: Salesforce) -> None:
    naive = dt.datetime.now() - dt.timedelta(hours=1)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.updated(naive, naive + dt.timedelta(minutes=30))
    assert caught.value.content[0]["errorCode"] == "INVALID_REPLICATION_DATE"


def test_windows(org: Emulator, api: Api) -> None:
    now = dt.datetime.now(UTC)
    too_old = (now - dt.timedelta(days=31)).isoformat()
    reply = api("GET", "sobjects/Contact/updated/", params={"start": too_old,
                                                           "end": now.isoformat()})
    assert error_of(reply) == (400, "INVALID_REPLICATION_DATE",
                               "startDate cannot be more than 30 days ago")
    sixteen = (now - dt.timedelta(days=16)).isoformat()
    reply = api("GET", "sobjects/Contact/deleted/", params={"start": sixteen,
                                                           "end": now.isoformat()})
    assert error_of(reply)[:2] == (400, "INVALID_REPLICATION_DATE")
    ok = api("GET", "sobjects/Contact/updated/", params={"start": sixteen,
                                                        "end": now.isoformat()})
    assert ok.status_code == 200
    backwards = api("GET", "sobjects/Contact/updated/",
                    params={"start": now.isoformat(), "end": sixteen})
    assert error_of(backwards)[:2] == (400, "INVALID_REPLICATION_DATE")


def _window(org: Emulator) -> dict[str, str]:
    """Freeze the clock at 12:00:30 and return a start/end window covering that hour."""
    org.control.clock(freeze="2024-03-10T12:00:30Z")
    return {"start": "2024-03-10T11:00:00+00:00", "end": "2024-03-10T13:00:00+00:00"}


def test_updated_refuses_more_ids_than_the_limit(org: Emulator, sf: Salesforce,
                                                 api: Api) -> None:
    window = _window(org)
    assert org.control.settings(max_replication_ids=2)["max_replication_ids"] == 2
    first, second = (sf.Contact.create({"LastName": n})["id"] for n in ("A", "B"))
    org.control.clock(advance=60)
    at_limit = api("GET", "sobjects/Contact/updated/", params=window)
    assert at_limit.status_code == 200 and at_limit.json()["ids"] == [first, second]
    sf.Contact.create({"LastName": "C"})
    org.control.clock(advance=60)
    over = api("GET", "sobjects/Contact/updated/", params=window)
    assert over.json() == [{"message": "The number of ids exceeds the limit of 2",
                            "errorCode": "EXCEEDED_ID_LIMIT", "fields": []}]
    assert over.status_code == 400
    start = dt.datetime(2024, 3, 10, 11, 0, tzinfo=UTC)
    with pytest.raises(SalesforceMalformedRequest) as caught:
        sf.Contact.updated(start, dt.datetime(2024, 3, 10, 13, 0, tzinfo=UTC))
    assert caught.value.content[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    # A narrower window holds fewer ids and passes: what a poller must do.
    narrow = sf.Contact.updated(start, dt.datetime(2024, 3, 10, 12, 0, tzinfo=UTC))
    assert narrow["ids"] == []


def test_deleted_refuses_more_ids_than_the_limit(org: Emulator, sf: Salesforce,
                                                 api: Api) -> None:
    window = _window(org)
    org.control.settings(max_replication_ids=2)
    ids = [sf.Contact.create({"LastName": n})["id"] for n in ("A", "B", "C")]
    for record_id in ids[:2]:
        sf.Contact.delete(record_id)
    org.control.clock(advance=60)
    at_limit = api("GET", "sobjects/Contact/deleted/", params=window)
    assert at_limit.status_code == 200
    assert [r["id"] for r in at_limit.json()["deletedRecords"]] == ids[:2]
    # Other objects' deletions do not count towards a Contact window.
    org.control.delete("Account", org.control.insert("Account", {"Name": "X"})[0])
    sf.Contact.delete(ids[2])
    org.control.clock(advance=60)
    over = api("GET", "sobjects/Contact/deleted/", params=window)
    assert error_of(over) == (400, "EXCEEDED_ID_LIMIT", "The number of ids exceeds the limit of 2")
    assert over.json()[0]["fields"] == []


def test_id_limit_is_a_setting_that_reset_restores(org: Emulator) -> None:
    assert org.control.settings()["max_replication_ids"] == 600_000
    org.control.settings(max_replication_ids=1)
    org.control.reset()
    assert org.control.settings()["max_replication_ids"] == 600_000
    sf = salesforce(org, org.control.session())  # reset ended every session
    window = _window(org)
    ids = [sf.Contact.create({"LastName": n})["id"] for n in ("A", "B")]
    org.control.clock(advance=60)
    start, end = (dt.datetime.fromisoformat(window[k]) for k in ("start", "end"))
    assert sf.Contact.updated(start, end)["ids"] == ids
