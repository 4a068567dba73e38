# The hourly and daily rollups belong to the operations app now (its 0001 takes them over in
# Django's state); their tables stay where they are. No dependency on that app: the framework
# names no other project package, and neither step touches the database.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('utils', '0002_analytics_rollups'),
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
