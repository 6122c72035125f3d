"""Half-days planned on a weekend inside a weekday session go, unless someone signed them.

Sessions saved before half-days followed training days (learners/sessions.py
`training_days`) kept their Saturdays and Sundays: unsigned half-days on the sheet,
and planned hours doubled on the certificat de réalisation. The same rule, written
here as it stood, so that the migration never changes with the code.
"""

import datetime

from django.db import migrations
from django.db.models import F


def _weekend_inside(session) -> list[datetime.date]:
    first, last = session.starts_on, session.ends_on
    if first.weekday() >= 5 or last.weekday() >= 5:
        return []
    span = [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
    return [day for day in span if day.weekday() >= 5]


def unplan_weekends(apps, schema_editor):
    TrainingSession = apps.get_model("learners", "TrainingSession")
    HalfDay = apps.get_model("learners", "HalfDay")
    for session in TrainingSession.objects.filter(ends_on__gt=F("starts_on")).iterator():
        days = _weekend_inside(session)
        if days:
            HalfDay.objects.filter(
                session=session, date__in=days, attendances__isnull=True
            ).delete()


class Migration(migrations.Migration):
    dependencies = [("learners", "0010_invitation_withdrawn")]

    operations = [migrations.RunPython(unplan_weekends, migrations.RunPython.noop)]
