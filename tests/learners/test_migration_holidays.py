"""The data migration that takes unsigned public holidays out of sessions."""

import datetime
import importlib

from django.apps import apps

from learners.session_models import Attendance, HalfDay
from tests.learners.test_migration_weekends import plan_every_day
from tests.learners.test_sessions import on

migration = importlib.import_module(
    "learners.migrations.0013_unplan_public_holidays_inside_sessions"
)


def test_holidays_inside_a_session_go_unless_signed_and_a_first_day_holiday_stays(journey, camille):
    ascension_week = on(datetime.date(2026, 5, 11), journey.track, days=5)  # Mon–Fri
    plan_every_day(ascension_week)
    whit_monday_start = on(datetime.date(2026, 5, 25), journey.track, days=2)
    plan_every_day(whit_monday_start)
    may_day_week = on(datetime.date(2026, 4, 28), journey.track, days=4)  # Tue–Fri 1 May
    plan_every_day(may_day_week)
    signed = may_day_week.half_days.get(date=datetime.date(2026, 4, 30), period="am")
    Attendance.objects.create(half_day=signed, learner=camille, status=Attendance.Status.PRESENT)
    ascension_afternoon = ascension_week.half_days.get(date=datetime.date(2026, 5, 14), period="pm")
    Attendance.objects.create(
        half_day=ascension_afternoon, learner=camille, status=Attendance.Status.PRESENT
    )

    migration.unplan_holidays(apps, None)

    assert sorted(
        (h.date.day, h.period) for h in ascension_week.half_days.filter(date__day=14)
    ) == [(14, "pm")]  # signed: kept as evidence
    assert ascension_week.half_days.count() == 9
    assert whit_monday_start.half_days.count() == 4  # its first day: the team trains on it
    assert HalfDay.objects.filter(session=may_day_week, date=datetime.date(2026, 5, 1)).count() == 2
