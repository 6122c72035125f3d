"""The data migration that takes unsigned weekend half-days out of weekday sessions."""

import datetime
import importlib

from django.apps import apps
from django.utils import timezone

from learners.session_models import Attendance, HalfDay
from tests.learners.test_sessions import make_session

migration = importlib.import_module("learners.migrations.0011_unplan_weekends_inside_sessions")


def plan_every_day(session):
    day = session.starts_on
    while day <= session.ends_on:
        for period, start, end in (("am", 9, 12), ("pm", 13, 17)):
            HalfDay.objects.create(
                session=session,
                date=day,
                period=period,
                starts_at=datetime.time(start),
                ends_at=datetime.time(end),
            )
        day += datetime.timedelta(days=1)


def test_weekend_half_days_inside_a_weekday_session_go_unless_someone_signed_them(journey, camille):
    today = timezone.localdate()
    friday_in = 7 + (4 - today.weekday()) % 7
    session = make_session(journey.track, starts_in=friday_in, days=4)  # Friday to Monday
    plan_every_day(session)
    saturday_morning = session.half_days.get(
        date=session.starts_on + datetime.timedelta(days=1), period="am"
    )
    Attendance.objects.create(
        half_day=saturday_morning, learner=camille, status=Attendance.Status.PRESENT
    )
    weekend = make_session(journey.track, starts_in=friday_in + 1, days=2)  # Saturday, Sunday
    plan_every_day(weekend)

    migration.unplan_weekends(apps, None)

    kept = sorted((h.date.weekday(), h.period) for h in session.half_days.all())
    assert kept == [(0, "am"), (0, "pm"), (4, "am"), (4, "pm"), (5, "am")]
    assert weekend.half_days.count() == 4
