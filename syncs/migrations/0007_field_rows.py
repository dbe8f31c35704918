"""Each sync's `fields` + `renames` become its FieldMapping rows, then the columns go.

A field keeps its place (position) and its rename (target; blank: the usual trait name, as
before), so the sync writes exactly the hub it wrote. Reversible: rows back to the columns.
"""

from django.db import migrations, models


def to_rows(apps, schema_editor):
    Sync = apps.get_model("syncs", "Sync")
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    rows = []
    for sync in Sync.objects.all():
        fields = sync.fields if isinstance(sync.fields, list) else []
        renames = sync.renames if isinstance(sync.renames, dict) else {}
        for position, name in enumerate(dict.fromkeys(str(f) for f in fields)):
            rows.append(FieldMapping(sync_id=sync.pk, source=name,
                                     target=str(renames.get(name) or ""), position=position))
    FieldMapping.objects.bulk_create(rows, batch_size=500)


def to_columns(apps, schema_editor):
    Sync = apps.get_model("syncs", "Sync")
    FieldMapping = apps.get_model("mappings", "FieldMapping")
    for sync in Sync.objects.all():
        rows = FieldMapping.objects.filter(sync_id=sync.pk).order_by("position", "id")
        sync.fields = [row.source for row in rows if row.source]
        sync.renames = {row.source: row.target for row in rows if row.target}
        sync.save(update_fields=["fields", "renames"])


class Migration(migrations.Migration):

    dependencies = [
        ("syncs", "0006_actions"),
        ("mappings", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(to_rows, to_columns),
        migrations.RemoveField(model_name="sync", name="fields"),
        migrations.RemoveField(model_name="sync", name="renames"),
    ]
