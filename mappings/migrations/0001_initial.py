"""Field mappings as rows, owned by a sync or an action."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('syncs', '0006_actions'),
    ]

    operations = [
        migrations.CreateModel(
            name='FieldMapping',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(blank=True, help_text='Sync: a Salesforce field path. Action: a hub attribute (customer_id, email, object_id, related:Account...).', max_length=255)),
                ('target', models.CharField(blank=True, help_text='Sync: the hub trait (blank: the usual name). Action: the Salesforce field (Account.Ext__c for an external-id lookup).', max_length=255)),
                ('transform', models.CharField(choices=[('', 'None'), ('unix_to_iso', 'Unix timestamp → ISO-8601'), ('iso_to_unix', 'ISO-8601 → Unix timestamp'), ('lower', 'Lower case'), ('constant', 'Constant (the default value)')], default='', max_length=16)),
                ('default', models.CharField(blank=True, help_text='Used when the source is empty; for a constant, the value itself.', max_length=255, verbose_name='default when empty')),
                ('position', models.PositiveIntegerField(default=0)),
            ],
            options={
                'ordering': ['position', 'id'],
            },
        ),
        migrations.AddField(
            model_name='fieldmapping',
            name='action',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='field_mappings', to='syncs.action'),
        ),
        migrations.AddField(
            model_name='fieldmapping',
            name='sync',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='field_mappings', to='syncs.sync'),
        ),
        migrations.AddConstraint(
            model_name='fieldmapping',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('action__isnull', True), ('sync__isnull', False)), models.Q(('action__isnull', False), ('sync__isnull', True)), _connector='OR'), name='field_mapping_one_owner'),
        ),
    ]
