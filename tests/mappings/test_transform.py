"""Reserved traits, renames, date conversion and REST/Bulk value normalisation."""

from __future__ import annotations

import pytest

from mappings.presets import object_choices, preset_for
from mappings.transform import Transformer, UnknownField, field_types
from mappings.values import InvalidValue, normalize, to_epoch
from syncs.models import Sync

DESCRIBE = {
    "Contact": {"name": "Contact", "label": "Contact", "labelPlural": "Contacts", "fields": [
        {"name": "Id", "type": "id"}, {"name": "FirstName", "type": "string"},
        {"name": "Email", "type": "email"}, {"name": "CreatedDate", "type": "datetime"},
        {"name": "SystemModstamp", "type": "datetime"}, {"name": "Birthdate", "type": "date"},
        {"name": "DoNotCall", "type": "boolean"}, {"name": "Score__c", "type": "double"},
        {"name": "AccountId", "type": "reference", "referenceTo": ["Account"],
         "relationshipName": "Account"}]},
    "Account": {"name": "Account", "fields": [{"name": "Id", "type": "id"},
                                              {"name": "Name", "type": "string"},
                                              {"name": "NumberOfEmployees", "type": "int"},
                                              {"name": "SystemModstamp", "type": "datetime"}]},
}


@pytest.mark.parametrize(("value", "expected"), [
    ("2021-09-01T09:00:00Z", 1630486800),
    ("2021-09-01T09:00:00.000+0000", 1630486800),
    ("2021-09-01T11:00:00+02:00", 1630486800),
    ("2021-09-01T04:30:00-0430", 1630486800),
    ("2021-09-01", 1630454400),
])
def test_to_epoch_accepts_any_offset_and_dates(value, expected):
    assert to_epoch(value) == expected


@pytest.mark.parametrize("value", ["2021-13-01", "yesterday", "2021-09-01T09:00:00", 12])
def test_to_epoch_reports_invalid_values(value):
    with pytest.raises(InvalidValue):
        to_epoch(value, "Birthdate")


def test_rest_and_bulk_values_normalise_alike():
    assert normalize("A", "boolean", "true") is normalize("A", "boolean", True) is True
    assert normalize("A", "double", "10") == normalize("A", "double", 10) == 10.0
    assert normalize("A", "int", "5") == 5
    assert normalize("A", "datetime", "2021-09-01T09:00:00.000Z") == "2021-09-01T09:00:00.000+0000"
    assert normalize("A", "string", "") is None


def _sync(**kw):
    defaults = {"sobject": "Contact", "data_format": "person", "person_id_field": "Id",
                "fields": ["FirstName", "Email", "CreatedDate", "Birthdate", "DoNotCall",
                           "Account.Name"]}
    return Sync(**{**defaults, **kw})


def test_reserved_traits_renames_and_date_conversion():
    sync = _sync(renames={"DoNotCall": "do_not_call"}, convert_dates=True)
    transformer = Transformer.for_mapping(sync.mapping(), DESCRIBE.__getitem__)
    record = {"Id": "003A", "FirstName": "Ann", "Email": " Ann@X.io ", "DoNotCall": "false",
              "CreatedDate": "2021-09-01T09:00:00.000+0000", "Birthdate": "1990-01-02",
              "SystemModstamp": "2021-09-01T09:00:00.000Z", "Account": {"Name": "Acme"}}
    (item,), failed = transformer.page([record])
    assert failed == []
    assert item.customer_id == "003A" and item.email == "ann@x.io"
    assert item.modstamp == "2021-09-01T09:00:00.000+0000"
    assert item.attributes == {"firstName": "Ann", "email": " Ann@X.io ",
                               "CreatedDate": 1630486800, "created_at": 1630486800,
                               "Birthdate": 631238400, "do_not_call": False,
                               "Account.Name": "Acme"}


def test_without_conversion_created_at_is_still_epoch():
    transformer = Transformer.for_mapping(_sync().mapping(), DESCRIBE.__getitem__)
    (item,), _ = transformer.page([{"Id": "003A", "CreatedDate": "2021-09-01T09:00:00Z",
                                    "SystemModstamp": "2021-09-01T09:00:00Z"}])
    assert item.attributes["CreatedDate"] == "2021-09-01T09:00:00.000+0000"
    assert item.attributes["created_at"] == 1630486800


def test_an_invalid_value_fails_the_record_with_the_field_named():
    transformer = Transformer.for_mapping(_sync(convert_dates=True).mapping(), DESCRIBE.__getitem__)
    items, failed = transformer.page([{"Id": "003A", "Birthdate": "not a date",
                                       "SystemModstamp": "2021-09-01T09:00:00Z"}])
    assert items == [] and failed[0].error_code == "INVALID_VALUE"
    assert "Birthdate" in failed[0].message


def test_object_traits_are_the_smaller_set():
    sync = Sync(sobject="Account", data_format="object", object_id_field="Id",
                fields=["Name", "NumberOfEmployees"])
    (item,), _ = Transformer.for_mapping(sync.mapping(), DESCRIBE.__getitem__).page(
        [{"Id": "001A", "Name": "Acme", "NumberOfEmployees": "12",
          "SystemModstamp": "2021-09-01T09:00:00Z"}])
    assert item.object_id == "001A" and item.attributes == {"name": "Acme",
                                                            "NumberOfEmployees": 12}


def test_unknown_fields_are_named():
    with pytest.raises(UnknownField, match="Nope"):
        field_types(DESCRIBE.__getitem__, "Contact", ["Nope"])
    with pytest.raises(UnknownField, match="Owner"):
        field_types(DESCRIBE.__getitem__, "Contact", ["Owner.Name"])


def test_presets_follow_the_typical_mappings():
    assert preset_for("Lead", DESCRIBE["Contact"])["person_id_field"] == "Email"
    assert preset_for("Contact", DESCRIBE["Contact"])["data_format"] == "person"
    acr = preset_for("AccountContactRelation", {"fields": [], "label": "ACR"})
    assert acr["data_format"] == "relationship"
    assert acr["object_type_names"] == ("Account", "Accounts")
    custom = preset_for("Invoice__c", {"fields": [], "label": "Invoice",
                                       "labelPlural": "Invoices"})
    assert custom["data_format"] == "object"
    assert custom["object_type_names"] == ("Invoice", "Invoices")


def test_object_choices_put_popular_objects_first():
    described = {"sobjects": [
        {"name": "Zebra__c", "label": "Zebra", "labelPlural": "Zebras", "queryable": True},
        {"name": "Contact", "label": "Contact", "labelPlural": "Contacts", "queryable": True},
        {"name": "Apple__c", "label": "Apple", "labelPlural": "Apples", "queryable": True},
        {"name": "Hidden", "label": "Hidden", "labelPlural": "Hidden", "queryable": False}]}
    assert object_choices(described) == [
        ("Popular", [("Contact", "Contacts")]),
        ("Other objects", [("Apple__c", "Apples"), ("Zebra__c", "Zebras")])]
