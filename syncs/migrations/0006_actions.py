"""Actions (data out), and runs that belong to a sync or an action, in either direction."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('connections', '0001_initial'),
        ('syncs', '0005_retry'),
        ('workspace', '0002_person_owned'),
    ]

    operations = [
        migrations.AddField(
            model_name='syncrun',
            name='direction',
            field=models.CharField(choices=[('in', 'Salesforce → hub'), ('out', 'hub → Salesforce')], default='in', max_length=3),
        ),
        migrations.AlterField(
            model_name='syncrun',
            name='sync',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='syncs.sync'),
        ),
        migrations.AlterField(
            model_name='syncrun',
            name='trigger',
            field=models.CharField(choices=[('schedule', 'Schedule'), ('manual', 'Manual'), ('resync', 'Resync'), ('retry', 'retry failed records'), ('change', 'Hub change')], max_length=8),
        ),
        migrations.CreateModel(
            name='Action',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('enabled', models.BooleanField(default=True)),
                ('schedule_kind', models.CharField(choices=[('minutes', 'Every N minutes'), ('hourly', 'Hourly'), ('daily', 'Daily'), ('cron', 'Cron')], default='hourly', max_length=8, verbose_name='schedule')),
                ('every_minutes', models.PositiveIntegerField(default=15)),
                ('cron', models.CharField(blank=True, max_length=100, verbose_name='cron expression')),
                ('start_at', models.DateTimeField(blank=True, null=True, verbose_name='start time')),
                ('next_run_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('run_requested', models.CharField(blank=True, editable=False, max_length=8)),
                ('claimed_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('claim_token', models.CharField(blank=True, editable=False, max_length=36)),
                ('last_status', models.CharField(blank=True, editable=False, max_length=10)),
                ('last_run_at', models.DateTimeField(blank=True, editable=False, null=True)),
                ('last_error', models.TextField(blank=True, editable=False)),
                ('last_run_id', models.BigIntegerField(blank=True, editable=False, null=True)),
                ('name', models.CharField(max_length=100, unique=True)),
                ('sobject', models.CharField(max_length=80, verbose_name='Salesforce object')),
                ('entity', models.CharField(choices=[('people', 'People'), ('objects', 'Objects of one type')], default='people', help_text='Which hub records this action writes.', max_length=8, verbose_name='trigger')),
                ('operation', models.CharField(choices=[('create', 'Create'), ('update', 'Update'), ('upsert', 'Upsert'), ('delete', 'Delete')], default='update', max_length=8)),
                ('matchers', models.JSONField(blank=True, default=list, help_text='Hub attribute → Salesforce field pairs: [["email", "Email"]]. Use "Id", an external id or any filterable field.', verbose_name='record matchers')),
                ('matcher_operator', models.CharField(choices=[('and', 'All matchers (AND)'), ('or', 'Any matcher (OR)')], default='or', max_length=3)),
                ('allow_create', models.BooleanField(default=False, help_text='Off: records with no match in Salesforce are skipped (update only).', verbose_name='allow creating records')),
                ('batch_mode', models.CharField(choices=[('auto', 'Auto (sObject Collections; Bulk API 2.0 from the threshold)'), ('collections', 'sObject Collections only'), ('bulk', 'Bulk API 2.0 only')], default='auto', max_length=12)),
                ('bulk_threshold', models.PositiveIntegerField(default=2000, help_text='In auto mode, batches of at least this many records use Bulk API 2.0.')),
                ('assignment_rules', models.BooleanField(default=False, help_text='Sends Sforce-Auto-Assign: TRUE (owners of leads, cases and accounts may be reassigned) instead of FALSE.', verbose_name='run assignment rules')),
                ('duplicate_allow_save', models.BooleanField(default=False, help_text='Sends Sforce-Duplicate-Rule-Header: allowSave=true.', verbose_name='save despite duplicate rules')),
                ('outbox_position', models.BigIntegerField(default=0, editable=False)),
                ('created', models.DateTimeField(auto_now_add=True)),
                ('updated', models.DateTimeField(auto_now=True)),
                ('connection', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='actions', to='connections.connection')),
                ('object_type', models.ForeignKey(blank=True, help_text='Objects only: the hub object type written.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='actions', to='workspace.objecttype')),
            ],
            options={
                'ordering': ['name'],
            },
        ),
        migrations.AddField(
            model_name='syncrun',
            name='action',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='runs', to='syncs.action'),
        ),
        migrations.AddIndex(
            model_name='syncrun',
            index=models.Index(fields=['action', '-started_at'], name='actionrun_latest_idx'),
        ),
        migrations.AddConstraint(
            model_name='syncrun',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('action__isnull', True), ('sync__isnull', False)), models.Q(('action__isnull', False), ('sync__isnull', True)), _connector='OR'), name='syncrun_one_owner'),
        ),
        migrations.AddIndex(
            model_name='action',
            index=models.Index(fields=['enabled', 'next_run_at'], name='action_due_idx'),
        ),
    ]
