"""Certificates issued before expiry moved to the end of the printed day keep that day
whole too: « valable jusqu'au 1 mars » turned « expiré » at the hour of issue."""

import datetime

from django.db import migrations
from django.utils import timezone


def end_of_the_printed_day(apps, schema_editor):
    Certificate = apps.get_model("certification", "Certificate")
    for pk, expires_at in Certificate.objects.filter(expires_at__isnull=False).values_list(
        "pk", "expires_at"
    ):
        last_day = timezone.localdate(expires_at)
        end = timezone.make_aware(datetime.datetime.combine(last_day, datetime.time(23, 59, 59)))
        if end != expires_at:
            Certificate.objects.filter(pk=pk).update(expires_at=end)


class Migration(migrations.Migration):
    dependencies = [("certification", "0012_certificate_awarded_at")]

    operations = [migrations.RunPython(end_of_the_printed_day, migrations.RunPython.noop)]
