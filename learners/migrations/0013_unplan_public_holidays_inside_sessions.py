"""Half-days planned on a public holiday inside a session go, unless someone signed them.

Sessions saved before half-days skipped France's public holidays (learners/sessions.py
`training_days`) kept them: unsigned half-days on the sheet, and their hours counted
on the certificat de réalisation. The same rule, written here as it stood, so that the
migration never changes with the code: a holiday that is the session's first or last
day stays, its dates say the team trains on it.
"""

import datetime

from django.db import migrations


def _easter_sunday(year: int) -> datetime.date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return datetime.date(year, month, day + 1)


def _public_holidays(year: int) -> set[datetime.date]:
    easter = _easter_sunday(year)
    fixed = [(1, 1), (5, 1), (5, 8), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25)]
    moving = {easter + datetime.timedelta(days=n) for n in (1, 39, 50)}
    return {datetime.date(year, month, day) for month, day in fixed} | moving


def unplan_holidays(apps, schema_editor):
    TrainingSession = apps.get_model("learners", "TrainingSession")
    HalfDay = apps.get_model("learners", "HalfDay")
    for session in TrainingSession.objects.iterator():
        first, last = session.starts_on, session.ends_on
        years = range(first.year, last.year + 1)
        inside = {
            day
            for year in years
            for day in _public_holidays(year)
            if first < day < last
        }
        if inside:
            HalfDay.objects.filter(
                session=session, date__in=inside, attendances__isnull=True
            ).delete()


class Migration(migrations.Migration):
    dependencies = [("learners", "0012_feedback_one_per_respondent")]

    operations = [migrations.RunPython(unplan_holidays, migrations.RunPython.noop)]
