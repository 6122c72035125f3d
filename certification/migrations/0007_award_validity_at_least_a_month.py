"""An award's validity is a month at least, or empty for no limit.

A validity of 0 was read as « no limit » while showing « 0 »: it becomes empty, which
it meant, so that the award can still be saved in the admin.
"""

import django.core.validators
from django.db import migrations, models


def zero_means_no_limit(apps, schema_editor):
    Award = apps.get_model("certification", "Award")
    Award.objects.filter(validity_months=0).update(validity_months=None)


class Migration(migrations.Migration):
    dependencies = [("certification", "0006_bulk_issue_failed")]

    operations = [
        migrations.RunPython(zero_means_no_limit, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="award",
            name="validity_months",
            field=models.PositiveSmallIntegerField(
                blank=True,
                help_text="Empty: valid without limit.",
                null=True,
                validators=[django.core.validators.MinValueValidator(1)],
                verbose_name="validity (months)",
            ),
        ),
    ]
