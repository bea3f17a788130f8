"""Enterprise region and industry: foreign keys checked once per statement (registry.setfk installs
the triggers after migrate), and plain indexes instead of the indexed-text pairs
(registry/models.py says why)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_audit_append_only_postgres'),
    ]

    operations = [
        migrations.AlterField(
            model_name='enterprise',
            name='industry',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, to='registry.industrydivision', verbose_name='行业大类'),
        ),
        migrations.AlterField(
            model_name='enterprise',
            name='legal_rep_id_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='法定代表人身份证号(检索摘要)'),
        ),
        migrations.AlterField(
            model_name='enterprise',
            name='region',
            field=models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.PROTECT, to='registry.region', verbose_name='所在市(州)'),
        ),
        migrations.AlterField(
            model_name='historicalenterprise',
            name='legal_rep_id_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, verbose_name='法定代表人身份证号(检索摘要)'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['region'], name='enterprise_region'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['industry'], name='enterprise_industry'),
        ),
        migrations.AddIndex(
            model_name='enterprise',
            index=models.Index(fields=['legal_rep_id_hash'], name='enterprise_legal_rep_id_hash'),
        ),
    ]
