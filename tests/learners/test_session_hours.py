"""A session's half-days follow its hours: mornings only, afternoons only, or both."""

import datetime

from django.urls import reverse

from learners import sessions
from learners.session_models import Periods, Seat, TrainingSession
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


def edit_form(session) -> dict:
    """The session's edit form sent back as it was shown."""
    return {
        **admin_form(session.track, capacity=session.capacity),
        **{
            name: getattr(session, name)
            for name in ("title", "format", "place_name", "place_address", "online_link")
        },
        "starts_on": session.starts_on.isoformat(),
        "ends_on": session.ends_on.isoformat(),
        "periods": session.periods,
    }


def test_a_session_under_way_keeps_its_half_days_and_their_hours(client, journey, staff):
    # Nobody signed anything yet: its past half-days are still those of its sheet.
    session = make_session(journey.track, starts_in=-1, days=3)
    sessions.plan_half_days(session)
    planned = hours_of(session)
    client.force_login(staff)
    url = reverse(EDIT, args=[session.pk])

    moved = client.post(url, {**edit_form(session), "afternoon_ends_at": "16:00"})
    dropped = client.post(url, {**edit_form(session), "periods": Periods.MORNING})
    other_change = client.post(url, {**edit_form(session), "capacity": 5})

    assert moved.context["form"].errors["afternoon_ends_at"] == [
        "Cette session a commencé : ses demi-journées et leurs horaires restent tels "
        "qu'ils étaient, ceux de sa feuille d'émargement."
    ]
    assert "periods" in dropped.context["form"].errors
    assert other_change.status_code == 302
    assert hours_of(session) == planned


def test_hours_of_a_half_day_it_does_not_train_change_nothing_and_tell_nobody(
    client, journey, staff, camille, mails
):
    session = make_session(journey.track, starts_in=-1, days=2, periods=Periods.MORNING)
    sessions.plan_half_days(session)
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)
    planned = hours_of(session)
    client.force_login(staff)

    response = mails.after(
        client.post,
        reverse(EDIT, args=[session.pk]),
        {**edit_form(session), "afternoon_starts_at": "14:00"},
    )

    assert response.status_code == 302, response.context["form"].errors
    assert hours_of(session) == planned
    assert mails.outbox == []


def test_a_session_of_mornings_shows_its_hours_on_the_track_page(client, journey):
    make_session(
        journey.track,
        starts_in=10,
        periods=Periods.MORNING,
        morning_starts_at=t("08:30"),
        morning_ends_at=t("12:00"),
    )

    page = client.get(journey.track.url).content.decode()

    assert "matin 08:30–12:00" in page
    assert "après-midi" not in page.split('data-testid="session-hours">')[1].split("</dd>")[0]
