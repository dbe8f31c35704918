"""Indexes of the logs browser: one per filter, in the order pages are read."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('logs', '0003_recordlog_action'),
        ('syncs', '0004_bulk_state_and_resync_start'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['sync', 'created_at', 'id'], name='log_sync_time_idx'),
        ),
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['run', 'created_at', 'id'], name='log_run_time_idx'),
        ),
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['direction', 'created_at', 'id'], name='log_direction_time_idx'),
        ),
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['outcome', 'created_at', 'id'], name='log_outcome_time_idx'),
        ),
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['error_code', 'created_at', 'id'], name='log_error_time_idx'),
        ),
        migrations.AddIndex(
            model_name='recordlog',
            index=models.Index(fields=['hub_ref'], name='log_hub_ref_idx'),
        ),
    ]
