"""Record logs of actions (data out)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('logs', '0002_initial'),
        ('syncs', '0006_actions'),
    ]

    operations = [
        migrations.AddField(
            model_name='recordlog',
            name='action',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='record_logs', to='syncs.action'),
        ),
    ]
