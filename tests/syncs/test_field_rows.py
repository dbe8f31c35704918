"""Field mappings as rows: the data migration from `fields` + `renames`, and the transforms."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.db.migrations.executor import MigrationExecutor

from mappings.mapping import FieldRow, Transform
from mappings.values import InvalidValue, transformed
from syncs.models import Sync
from syncs.pull import run_sync
from tests.syncs.conftest import hub_snapshot, wipe_hub

BEFORE = [("syncs", "0006_actions"), ("mappings", "0001_initial")]
FIELDS = ["FirstName", "LastName", "Email", "Department", "CreatedDate", "Account.Name"]
RENAMES = {"Department": "department", "LastName": "surname"}


@pytest.mark.django_db(transaction=True)
def test_a_migrated_sync_writes_the_hub_a_sync_made_with_rows_writes(emulator, connection,
                                                                     make_sync):
    (account,) = emulator.control.insert("Account", {"Name": "Acme"})
    emulator.control.insert("Contact", *[{
        "FirstName": f"F{i}", "LastName": f"L{i}", "Email": f"p{i}@x.io", "Department": "Ops",
        "AccountId": account} for i in range(5)])
    executor = MigrationExecutor(db)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("syncs", "Sync")
    legacy = old.objects.create(connection_id=connection.pk, name="legacy", sobject="Contact",
                                data_format="person", person_id_field="Id", fields=FIELDS,
                                renames=RENAMES, convert_dates=True)
    executor = MigrationExecutor(db)
    executor.migrate(executor.loader.graph.leaf_nodes())

    migrated = Sync.objects.get(pk=legacy.pk)
    assert migrated.fields == FIELDS and migrated.renames == RENAMES
    assert [(m.source, m.target, m.position) for m in migrated.field_mappings.all()] == [
        (name, RENAMES.get(name, ""), i) for i, name in enumerate(FIELDS)]
    assert run_sync(migrated.pk).status == "succeeded"
    from_migration = hub_snapshot()
    assert len(from_migration["people"]) == 5

    wipe_hub()
    fresh = make_sync("Contact", name="fresh", fields=FIELDS, renames=RENAMES,
                      convert_dates=True)
    assert run_sync(fresh.pk).status == "succeeded"
    assert hub_snapshot() == from_migration


@pytest.mark.django_db
def test_renames_and_fields_set_in_any_order_become_rows(connection):
    sync = Sync(connection=connection, name="s", sobject="Contact", data_format="person",
                person_id_field="Id")
    sync.renames = {"Title": "job"}
    sync.fields = ["Title", "Email"]
    sync.save()
    sync = Sync.objects.get(pk=sync.pk)
    assert [m.row for m in sync.field_mappings.all()] == [FieldRow("Title", "job"),
                                                          FieldRow("Email")]
    sync.fields = ["Email"]
    sync.save()
    sync.refresh_from_db()
    assert sync.fields == ["Email"] and sync.renames == {}


@pytest.mark.parametrize(("row", "value", "expected"), [
    (FieldRow("a", transform=Transform.LOWER), "Ann@X.IO", "ann@x.io"),
    (FieldRow("a", transform=Transform.UNIX_TO_ISO), 1630486800, "2021-09-01T09:00:00.000+0000"),
    (FieldRow("a", transform=Transform.ISO_TO_UNIX), "2021-09-01T11:00:00+02:00", 1630486800),
    (FieldRow("", "Lead_Source__c", Transform.CONSTANT, "Forcebridge"), "x", "Forcebridge"),
    (FieldRow("a", default="n/a"), None, "n/a"),
    (FieldRow("a", default="n/a"), "", "n/a"),
    (FieldRow("a"), "", None),
])
def test_transforms_and_defaults(row, value, expected):
    assert transformed(row, value) == expected


def test_a_value_a_transform_cannot_convert_is_reported():
    with pytest.raises(InvalidValue, match="a: 'soon'"):
        transformed(FieldRow("a", transform=Transform.UNIX_TO_ISO), "soon")
