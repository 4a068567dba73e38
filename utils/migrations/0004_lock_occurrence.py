# The holder's occurrence on the lock row; defaults (in the schema too) for the columns the
# original system did not write, so its plain inserts keep working.

import django.db.models.functions.datetime
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('utils', '0003_rollups_moved_to_operations'),
    ]

    operations = [
        migrations.AddField(
            model_name='cronjoblock',
            name='occurrence',
            field=models.CharField(blank=True, db_default='', default='', help_text="The holder's occurrence (Kubernetes Job or slot).", max_length=200),
        ),
        migrations.AlterField(
            model_name='cronjoblock',
            name='locked_at',
            field=models.DateTimeField(db_default=django.db.models.functions.datetime.Now(), default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='cronjoblock',
            name='token',
            field=models.CharField(blank=True, db_default='', default='', help_text='New on every acquisition.', max_length=32),
        ),
    ]
