"""A session's half-days follow its hours: mornings only, afternoons only, or both."""

import datetime

from django.urls import reverse
from django.utils import timezone

from learners import sessions
from learners.session_models import Attendance, HalfDay, Periods, TrainingSession
from tests.learners.test_sessions import admin_form, make_session

ADD = "wagtailsnippets_learners_trainingsession:add"
EDIT = "wagtailsnippets_learners_trainingsession:edit"


def hours_of(session) -> list[tuple]:
    return [
        (half_day.date, half_day.period, half_day.starts_at, half_day.ends_at)
        for half_day in session.half_days.order_by("date", "period")
    ]


def t(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


def test_staff_plan_a_session_of_mornings_at_its_own_hours(client, journey, staff):
    client.force_login(staff)
    form = {
        **admin_form(journey.track, days=2),
        "periods": Periods.MORNING,
        "morning_starts_at": "08:30",
        "morning_ends_at": "12:00",
    }

    response = client.post(reverse(ADD), form)

    assert response.status_code == 302, response.context["form"].errors
    session = TrainingSession.objects.get()
    assert hours_of(session) == [
        (day, "am", t("08:30"), t("12:00")) for day in session.training_days()
    ]


def test_changing_the_hours_moves_the_half_days_not_yet_signed_and_tells_the_people(
    journey, camille, mails
):
    session = make_session(journey.track, starts_in=10, days=1)
    sessions.plan_half_days(session)
    sessions.take_seat(camille, session)
    before = sessions.details_told(session.pk)
    session.periods = Periods.AFTERNOON
    session.afternoon_starts_at, session.afternoon_ends_at = t("14:00"), t("18:00")
    session.full_clean()
    session.save()

    mails.after(sessions.session_saved, session, before)

    assert hours_of(session) == [(session.starts_on, "pm", t("14:00"), t("18:00"))]
    [changed] = mails.to(camille)
    assert "a changé" in changed.subject
    assert "14:00–18:00" in changed.body


def test_hours_that_end_before_they_start_or_overlap_are_refused(client, journey, staff):
    client.force_login(staff)
    form = admin_form(journey.track)

    backwards = client.post(reverse(ADD), {**form, "morning_ends_at": "08:00"})
    overlapping = client.post(reverse(ADD), {**form, "afternoon_starts_at": "12:00"})
    # Hours of a period the session does not train are not checked.
    mornings = client.post(
        reverse(ADD), {**form, "periods": Periods.MORNING, "afternoon_starts_at": "12:00"}
    )

    assert backwards.context["form"].errors["morning_ends_at"] == [
        "Une demi-journée finit après avoir commencé."
    ]
    assert overlapping.context["form"].errors["afternoon_starts_at"] == [
        "L'après-midi commence une fois le matin terminé."
    ]
    assert mornings.status_code == 302


def test_a_signed_half_day_keeps_its_hours(client, journey, staff, camille):
    session = make_session(journey.track, starts_in=-1, days=2)
    sessions.plan_half_days(session)
    signed = session.half_days.get(date=session.starts_on, period=HalfDay.Period.AFTERNOON)
    Attendance.objects.create(
        half_day=signed,
        learner=camille,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.TRAINER,
        signed_at=timezone.now(),
    )
    client.force_login(staff)
    form = {
        **admin_form(journey.track),
        "starts_on": session.starts_on.isoformat(),
        "ends_on": session.ends_on.isoformat(),
        "place_name": session.place_name,
    }

    moved = client.post(reverse(EDIT, args=[session.pk]), {**form, "afternoon_ends_at": "16:00"})
    dropped = client.post(reverse(EDIT, args=[session.pk]), {**form, "periods": Periods.MORNING})
    other_change = client.post(reverse(EDIT, args=[session.pk]), {**form, "capacity": 5})

    for refused in (moved, dropped):
        message = " ".join(refused.context["form"].errors["periods"])
        assert "déjà émargées" in message
        assert f"{session.starts_on:%d/%m/%Y} Après-midi" in message
    assert other_change.status_code == 302
    assert (signed.starts_at, signed.ends_at) == (t("13:30"), t("17:00"))
    signed.refresh_from_db()
    assert (signed.starts_at, signed.ends_at) == (t("13:30"), t("17:00"))
