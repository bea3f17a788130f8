"""Loan programme, bank, enterprise, guarantor and registering user: foreign keys checked once per
statement (registry.setfk installs the triggers after migrate) instead of once per row (100,000
look-ups each per registration workbook)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('fund', '0006_loan_fewer_indexes'),
        ('registry', '0006_set_checked_keys'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='loan',
            name='bank',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='registry.bank', verbose_name='银行'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='enterprise',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='registry.enterprise', verbose_name='借款企业'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='guarantor',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='registry.guarantor', verbose_name='担保机构'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='programme',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='loans', to='fund.programme', verbose_name='项目'),
        ),
        migrations.AlterField(
            model_name='loan',
            name='registered_by',
            field=models.ForeignKey(blank=True, db_constraint=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='备案人'),
        ),
    ]
