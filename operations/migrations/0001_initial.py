# The hourly and daily rollups moved here from the utils app (the cron framework). Their tables
# keep their names; this migration only tells Django's state, and moves the content types.

import django.utils.timezone
from django.db import migrations, models

MOVED = ("cronjobdailystats", "cronjobhourlystats")


def move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="utils", model__in=MOVED).update(app_label="operations")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="operations", model__in=MOVED).update(app_label="utils")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('utils', '0002_analytics_rollups'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='CronJobDailyStats',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('job_name', models.CharField(max_length=100)),
                        ('runs', models.PositiveIntegerField(default=0, help_text='Every run that started in the period.')),
                        ('succeeded', models.PositiveIntegerField(default=0)),
                        ('failed', models.PositiveIntegerField(default=0)),
                        ('timed_out', models.PositiveIntegerField(default=0)),
                        ('interrupted', models.PositiveIntegerField(default=0)),
                        ('skipped', models.PositiveIntegerField(default=0)),
                        ('skipped_lock_held', models.PositiveIntegerField(default=0, help_text='Of the skipped runs, those that found the lock held by another pod.')),
                        ('running', models.PositiveIntegerField(default=0, help_text='Still running when aggregated.')),
                        ('success_rate', models.FloatField(blank=True, help_text='succeeded / (succeeded + failed + timed_out + interrupted).', null=True)),
                        ('duration_p50', models.FloatField(blank=True, null=True)),
                        ('duration_p95', models.FloatField(blank=True, null=True)),
                        ('duration_max', models.FloatField(blank=True, null=True)),
                        ('items_processed', models.PositiveBigIntegerField(default=0, help_text="The runs' 'processed' and 'sent' counts, added up.")),
                        ('counts', models.JSONField(blank=True, default=dict, help_text='Every summary count, added up.')),
                        ('aggregated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('day', models.DateField(help_text='The UTC day.')),
                    ],
                    options={
                        'db_table': 'utils_cronjobdailystats',
                        'verbose_name': 'cron job daily stats',
                        'verbose_name_plural': 'cron job daily stats',
                        'ordering': ['-day', 'job_name'],
                        'indexes': [models.Index(fields=['day'], name='cronjobstats_day')],
                        'constraints': [models.UniqueConstraint(fields=('job_name', 'day'), name='cronjobstats_day_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='CronJobHourlyStats',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('job_name', models.CharField(max_length=100)),
                        ('runs', models.PositiveIntegerField(default=0, help_text='Every run that started in the period.')),
                        ('succeeded', models.PositiveIntegerField(default=0)),
                        ('failed', models.PositiveIntegerField(default=0)),
                        ('timed_out', models.PositiveIntegerField(default=0)),
                        ('interrupted', models.PositiveIntegerField(default=0)),
                        ('skipped', models.PositiveIntegerField(default=0)),
                        ('skipped_lock_held', models.PositiveIntegerField(default=0, help_text='Of the skipped runs, those that found the lock held by another pod.')),
                        ('running', models.PositiveIntegerField(default=0, help_text='Still running when aggregated.')),
                        ('success_rate', models.FloatField(blank=True, help_text='succeeded / (succeeded + failed + timed_out + interrupted).', null=True)),
                        ('duration_p50', models.FloatField(blank=True, null=True)),
                        ('duration_p95', models.FloatField(blank=True, null=True)),
                        ('duration_max', models.FloatField(blank=True, null=True)),
                        ('items_processed', models.PositiveBigIntegerField(default=0, help_text="The runs' 'processed' and 'sent' counts, added up.")),
                        ('counts', models.JSONField(blank=True, default=dict, help_text='Every summary count, added up.')),
                        ('aggregated_at', models.DateTimeField(default=django.utils.timezone.now)),
                        ('hour', models.DateTimeField(help_text='Start of the UTC hour.')),
                    ],
                    options={
                        'db_table': 'utils_cronjobhourlystats',
                        'verbose_name': 'cron job hourly stats',
                        'verbose_name_plural': 'cron job hourly stats',
                        'ordering': ['-hour', 'job_name'],
                        'constraints': [models.UniqueConstraint(fields=('job_name', 'hour'), name='cronjobstats_hour_unique')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
