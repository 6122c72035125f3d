"""Personal-link signatures of on-site half-days recorded before they needed a trainer's
confirmation (AttendanceQuerySet.counted) keep counting as they did.

Sheets already handed to funders, and certificates issued from them, must keep saying
what they said, and trainers can no longer confirm a session closed two weeks after its
end. These rows get a confirmation time (their signing time) and no confirmer: the
sheet shows them as before, « present, to confirm », and counts them.
"""

from django.db import migrations
from django.db.models import F


def count_as_before(apps, schema_editor):
    Attendance = apps.get_model("learners", "Attendance")
    Attendance.objects.filter(
        status="present",
        method="link",
        half_day__online=False,
        confirmed_at__isnull=True,
        signed_at__isnull=False,
    ).update(confirmed_at=F("signed_at"))


class Migration(migrations.Migration):
    dependencies = [("learners", "0018_accommodation_note_for_trainers")]

    operations = [migrations.RunPython(count_as_before, migrations.RunPython.noop)]
