# The hourly and daily rollups belong to the operations app now (operations 0001 takes them
# over in Django's state); their tables stay where they are.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('utils', '0002_analytics_rollups'),
        ('operations', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='CronJobDailyStats'),
                migrations.DeleteModel(name='CronJobHourlyStats'),
            ],
            database_operations=[],
        ),
    ]
