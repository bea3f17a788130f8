"""Status report → loan: checked once per statement (registry.setfk installs the triggers after migrate), not once per row."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('banks', '0001_initial'),
        ('fund', '0007_set_checked_keys'),
    ]

    operations = [
        migrations.AlterField(
            model_name='statusreport',
            name='loan',
            field=models.ForeignKey(db_constraint=False, on_delete=django.db.models.deletion.PROTECT, related_name='status_reports', to='fund.loan', verbose_name='贷款'),
        ),
    ]
