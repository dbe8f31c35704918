"""A sync is checked against describe and a LIMIT 1 query; each problem names its field."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from syncs.models import Sync
from syncs.pull import run_sync
from workspace.models import Person

pytestmark = pytest.mark.django_db


def test_unknown_fields_and_identifiers_are_field_errors(make_sync, sf_client):
    sync = make_sync("Contact", fields=["FirstName", "Nope__c", "Account.Nope"],
                     person_id_field="Missing")
    with pytest.raises(ValidationError) as caught:
        sync.validate_against_salesforce(sf_client)
    errors = caught.value.message_dict
    assert "Nope__c" in " ".join(errors["fields"]) and "Account" in " ".join(errors["fields"])
    assert "Missing" in " ".join(errors["person_id_field"])


def test_a_filter_salesforce_rejects_is_a_filter_error(make_sync, sf_client):
    sync = make_sync("Contact", fields=["FirstName"], filter="Email = = 'x'")
    with pytest.raises(ValidationError) as caught:
        sync.validate_against_salesforce(sf_client)
    assert list(caught.value.message_dict) == ["filter"]
    assert "MALFORMED_QUERY" in caught.value.message_dict["filter"][0]
    sync.filter = "Nope__c != null"
    with pytest.raises(ValidationError, match="INVALID_FIELD"):
        sync.validate_against_salesforce(sf_client)


def test_a_filter_that_escapes_its_parentheses_is_refused(make_sync, sf_client):
    # Alone, "WHERE (A) OR (B)" is valid SOQL; combined with the cursor it would read everything.
    sync = make_sync("Contact", fields=["FirstName"], filter="Email = 'a@x.com') OR (LastName = 'B'")
    with pytest.raises(ValidationError) as caught:
        sync.validate_against_salesforce(sf_client)
    assert "MALFORMED_QUERY" in caught.value.message_dict["filter"][0]


def test_a_good_sync_validates_and_its_filter_applies(emulator, make_sync, sf_client):
    emulator.control.insert("Contact", {"LastName": "A", "Email": "a@x.io"}, {"LastName": "B"})
    sync = make_sync("Contact", fields=["LastName", "Email"], filter="Email != null")
    sync.validate_against_salesforce(sf_client)
    run = run_sync(sync.pk)
    assert run.status == "succeeded" and run.fetched == 1
    assert list(Person.objects.values_list("email", flat=True)) == ["a@x.io"]


def test_local_checks_need_no_salesforce(connection):
    sync = Sync(connection=connection, name="x", sobject="Account", data_format="relationship",
                schedule_kind="cron", cron="not cron", batch_size=10, refresh_days=0)
    with pytest.raises(ValidationError) as caught:
        sync.full_clean()
    assert {"person_id_field", "object_id_field", "object_type", "cron",
            "batch_size", "refresh_days"} <= set(caught.value.message_dict)


def test_a_run_of_an_invalid_sync_fails_with_the_reason(make_sync):
    sync = make_sync("Contact", fields=["Gone__c"])
    run = run_sync(sync.pk)
    assert run.status == "failed" and "Gone__c" in run.error
    sync.refresh_from_db()
    assert sync.last_status == "failed" and sync.claimed_at is None
