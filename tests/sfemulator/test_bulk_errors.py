"""Bulk API 2.0 ingest errors, as a CSV job on a real org reports them in failedResults."""

from __future__ import annotations

from simple_salesforce import Salesforce

from .conftest import Api
from .test_bulk import open_job, rows_of, wait_job


def test_wrong_type_is_a_csv_deserialize_error(api: Api) -> None:
    # Bulk API 2.0 Developer Guide, "Get Job Failed Record Results": a cell that does not parse
    # as its field's type fails that row with INVALID_FIELD, never JSON_PARSER_ERROR.
    job_id = open_job(api, b"Name,NumberOfEmployees\nFine,12\nBad,twelve\n", object="Account")
    job = wait_job(api, job_id)
    assert (job["numberRecordsProcessed"], job["numberRecordsFailed"]) == (2, 1)
    [failed] = rows_of(api("GET", f"jobs/ingest/{job_id}/failedResults").text)
    assert failed["sf__Error"] == (
        "INVALID_FIELD:Failed to deserialize field at col 2. Due to, 'twelve' is not a valid "
        "value for the type xsd:int:NumberOfEmployees --")


def test_update_of_missing_id_and_malformed_delete(sf: Salesforce, api: Api) -> None:
    # A well-formed id naming no record: INVALID_CROSS_REFERENCE_KEY on the write path;
    # a malformed id: MALFORMED_ID, as sObject Collections say.
    [update] = sf.bulk2.Contact.update(records=[{"Id": "003000000000000AAA", "Title": "X"}],
                                       wait=0)
    [failed] = rows_of(sf.bulk2.Contact.get_failed_records(update["job_id"]))
    assert failed["sf__Error"] == "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--"
    [delete] = sf.bulk2.Contact.delete(records=[{"Id": "not-an-id"}], wait=0)
    [failed] = rows_of(sf.bulk2.Contact.get_failed_records(delete["job_id"]))
    assert (failed["sf__Id"], failed["sf__Error"]) == (
        "not-an-id", "MALFORMED_ID:malformed id not-an-id:--")
