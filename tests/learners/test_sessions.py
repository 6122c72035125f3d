"""Training sessions: places in request order, a waiting list promoted as places free up."""

import datetime
import html
import threading

import pytest
from django.conf import settings
from django.contrib.messages import constants as message_levels
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from courses.models.pages import Format
from learners import dates, page_versions, sessions
from learners.models import Enrolment
from learners.session_models import Attendance, HalfDay, Seat, TrainingSession
from tests.postgres import needs_postgres

FABRIQUE = "La Fabrique des Monts (test)"
ADDRESS = "3 place du Marché, 23200 Aubusson"


def make_session(track, capacity=2, starts_in=10, days=1, format=Format.ON_SITE, **extra):
    starts_on = timezone.localdate() + datetime.timedelta(days=starts_in)
    defaults = {"place_name": FABRIQUE, "place_address": ADDRESS} if format != Format.ONLINE else {}
    return TrainingSession.objects.create(
        track=track,
        format=format,
        starts_on=starts_on,
        ends_on=starts_on + datetime.timedelta(days=days - 1),
        capacity=capacity,
        **{**defaults, **extra},
    )


def ranks(session):
    return {
        seat.learner.email: seat.rank
        for seat in sessions.with_rank(session.seats.waiting().select_related("learner"))
    }


# --- Capacity and the waiting list ----------------------------------------------------


def test_places_go_first_come_first_served_and_the_rest_wait_in_order(
    journey, camille, dominique, sophie, helene
):
    session = make_session(journey.track, capacity=2)
    seats = [sessions.take_seat(person, session) for person in (camille, dominique, sophie, helene)]

    assert [seat.status for seat in seats] == ["confirmed", "confirmed", "waiting", "waiting"]
    assert ranks(session) == {sophie.email: 1, helene.email: 2}
    assert sessions.waiting_rank(seats[3]) == 2
    assert sessions.waiting_rank(seats[0]) is None


def test_taking_a_place_enrols_the_learner_in_the_track(journey, camille):
    session = make_session(journey.track)
    sessions.take_seat(camille, session)

    assert Enrolment.objects.active().filter(learner=camille, track=journey.track).count() == 1


def test_each_notice_is_mailed_to_its_learner_in_text_and_html(journey, camille, dominique, mails):
    session = make_session(journey.track, capacity=1)
    mails.after(sessions.take_seat, camille, session)
    mails.after(sessions.take_seat, dominique, session)

    (confirmed,) = mails.to(camille)
    (waiting,) = mails.to(dominique)
    for mail in (confirmed, waiting):
        assert FABRIQUE in mail.body and ADDRESS in mail.body
        html, mimetype = mail.alternatives[0]
        assert mimetype == "text/html" and FABRIQUE in html
    assert confirmed.subject != waiting.subject


def test_a_notice_gives_the_first_day_s_hours_and_whom_to_ask_for_an_accommodation(
    journey, camille, mails, settings
):
    session = make_session(journey.track)
    sessions.plan_half_days(session)
    mails.after(sessions.take_seat, camille, session)

    (mail,) = mails.to(camille)
    html, _mimetype = mail.alternatives[0]
    for text in (mail.body, html):
        assert "Horaires du premier jour" in text
        assert "09:00–12:30, 13:30–17:00" in text
        assert settings.DISABILITY_REFERENT_EMAIL in text


def test_a_learner_cannot_take_two_places_in_the_same_session(journey, camille):
    session = make_session(journey.track)
    sessions.take_seat(camille, session)

    with pytest.raises(sessions.SeatRefused):
        sessions.take_seat(camille, session)
    assert session.seats.count() == 1


def test_a_learner_who_cancelled_may_come_back_behind_those_waiting(
    journey, camille, dominique, sophie
):
    session = make_session(journey.track, capacity=1)
    sessions.take_seat(dominique, session)
    first = sessions.take_seat(camille, session)
    sessions.take_seat(sophie, session)
    sessions.cancel_seat(first)

    again = sessions.take_seat(camille, session)

    assert again.pk != first.pk and again.status == Seat.Status.WAITING
    assert ranks(session) == {sophie.email: 1, camille.email: 2}


def test_a_finished_session_takes_no_one(journey, camille):
    session = make_session(journey.track, starts_in=-3, days=2)

    with pytest.raises(sessions.SeatRefused):
        sessions.take_seat(camille, session)
    assert not session.seats.exists()


def test_a_session_under_way_takes_no_one_from_the_learners_side(journey, camille):
    session = make_session(journey.track, starts_in=0, days=3)

    with pytest.raises(sessions.SeatRefused, match="équipe de formation"):
        sessions.take_seat(camille, session)
    assert not session.seats.exists()


def given_places(session, *learners, status=Seat.Status.CONFIRMED) -> list[Seat]:
    """Seats written as the training team gives them (sessions under way included)."""
    now = timezone.now()
    return [
        Seat.objects.create(
            session=session,
            learner=learner,
            status=status,
            requested_at=now + datetime.timedelta(seconds=position),
            confirmed_at=now if status == Seat.Status.CONFIRMED else None,
        )
        for position, learner in enumerate(learners)
    ]


def test_a_place_in_a_session_under_way_is_kept_and_nobody_is_promoted_into_it(
    journey, camille, dominique
):
    session = make_session(journey.track, capacity=1, starts_in=-1, days=3)
    [seat] = given_places(session, camille)
    [waiting] = given_places(session, dominique, status=Seat.Status.WAITING)

    with pytest.raises(sessions.SeatRefused, match="équipe de formation"):
        sessions.cancel_seat(seat)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED
    # Leaving its waiting list frees nobody's place: still allowed.
    assert sessions.cancel_seat(waiting) is None
    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CANCELLED


def test_a_freed_place_skips_waiting_learners_whose_account_is_closed(
    journey, camille, dominique, sophie
):
    session = make_session(journey.track, capacity=1)
    seat = sessions.take_seat(camille, session)
    sessions.take_seat(dominique, session)
    sessions.take_seat(sophie, session)
    dominique.is_active = False
    dominique.save(update_fields=["is_active"])
    assert ranks(session)[sophie.email] == 1  # next in line, whom a notice reaches

    promoted = sessions.cancel_seat(seat)

    assert promoted.learner == sophie
    assert session.seats.waiting().get().learner == dominique


def test_missing_prerequisites_refuse_the_place_and_the_enrolment(journey, camille):
    # The other track needs a module of the first one that Camille has not done.
    session = make_session(journey.other_track)

    with pytest.raises(sessions.services.PrerequisitesMissing):
        sessions.take_seat(camille, session)
    assert not session.seats.exists()
    assert not Enrolment.objects.filter(learner=camille, track=journey.other_track).exists()


# --- Cancellation and promotion -------------------------------------------------------


def test_cancelling_a_confirmed_place_promotes_the_first_waiting_and_tells_them(
    journey, camille, dominique, sophie, helene, mails
):
    session = make_session(journey.track, capacity=1)
    seat = sessions.take_seat(camille, session)
    sessions.take_seat(dominique, session)
    sessions.take_seat(sophie, session)
    mails.outbox.clear()

    promoted = mails.after(sessions.cancel_seat, seat)

    seat.refresh_from_db()
    assert seat.status == Seat.Status.CANCELLED and seat.cancelled_at is not None
    assert promoted.learner == dominique and promoted.status == Seat.Status.CONFIRMED
    assert Seat.objects.get(pk=promoted.pk).confirmed_at is not None
    assert ranks(session) == {sophie.email: 1}
    assert len(mails.to(dominique)) == 1
    assert len(mails.to(camille)) == 1  # her cancellation
    assert mails.to(sophie) == []


def test_a_notice_sent_after_the_seat_changed_again_is_left_for_the_later_one(
    journey, camille, dominique, mails, django_capture_on_commit_callbacks
):
    session = make_session(journey.track, capacity=1)
    first = mails.after(sessions.take_seat, camille, session)
    mails.outbox.clear()
    # Both notices wait in the queue while the broker is slow: « waiting », then
    # « a place freed up ».
    with django_capture_on_commit_callbacks() as queued:
        sessions.take_seat(dominique, session)
        sessions.cancel_seat(first)
    for notice in queued:
        notice()

    [mail] = mails.to(dominique)
    assert mail.subject.endswith(str(sessions.NOTICE_SUBJECTS["promoted"] % {"session": session}))
    assert "None" not in mail.body


def test_leaving_the_waiting_list_promotes_no_one(journey, camille, dominique, sophie):
    session = make_session(journey.track, capacity=1)
    sessions.take_seat(camille, session)
    waiting = sessions.take_seat(dominique, session)
    sessions.take_seat(sophie, session)

    assert sessions.cancel_seat(waiting) is None
    assert list(session.seats.confirmed().values_list("learner", flat=True)) == [camille.pk]
    assert ranks(session) == {sophie.email: 1}


def test_a_place_cannot_be_cancelled_twice(journey, camille):
    seat = sessions.take_seat(camille, make_session(journey.track))
    sessions.cancel_seat(seat)

    with pytest.raises(sessions.SeatRefused):
        sessions.cancel_seat(seat)


def test_raising_the_capacity_promotes_the_waiting_list_in_order(
    journey, camille, dominique, sophie, helene, mails
):
    session = make_session(journey.track, capacity=1)
    for person in (camille, dominique, sophie, helene):
        sessions.take_seat(person, session)
    mails.outbox.clear()
    session.capacity = 3
    session.save()

    promoted = mails.after(sessions.fill_from_waiting_list, session)

    assert [seat.learner for seat in promoted] == [dominique, sophie]
    assert ranks(session) == {helene.email: 1}
    assert {mail.to[0] for mail in mails.outbox} == {dominique.email, sophie.email}


def test_lowering_the_capacity_bumps_no_one(journey, camille, dominique):
    session = make_session(journey.track, capacity=2)
    sessions.take_seat(camille, session)
    sessions.take_seat(dominique, session)
    session.capacity = 1
    session.save()

    assert sessions.fill_from_waiting_list(session) == []
    assert session.seats.confirmed().count() == 2


# --- Half-days ------------------------------------------------------------------------


def test_half_days_are_planned_once_for_each_day(journey):
    session = starting_on(journey.track, MON, days=3)

    assert sessions.plan_half_days(session) == 6
    codes = set(HalfDay.objects.filter(session=session).values_list("code", flat=True))
    assert sessions.plan_half_days(session) == 0
    assert set(HalfDay.objects.filter(session=session).values_list("code", flat=True)) == codes
    morning = HalfDay.objects.filter(session=session, period=HalfDay.Period.MORNING).first()
    assert (morning.starts_at, morning.ends_at) == (datetime.time(9, 0), datetime.time(12, 30))
    assert not HalfDay.objects.filter(session=session, online=True).exists()


MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def starting_on(track, weekday: int, days: int):
    """A session starting on the first `weekday` (0 is Monday) of next February, a month
    without public holidays: the days it trains on depend on its dates alone."""
    february = datetime.date(timezone.localdate().year + 1, 2, 1)
    first = february + datetime.timedelta(days=(weekday - february.weekday()) % 7)
    return make_session(track, starts_in=(first - timezone.localdate()).days, days=days)


def on(day: datetime.date, track, days: int) -> TrainingSession:
    return make_session(track, starts_in=(day - timezone.localdate()).days, days=days)


@pytest.mark.parametrize(
    ("weekday", "days", "planned"),
    [
        (FRI, 4, [FRI, MON]),  # a weekend inside the session: not a training day
        (MON, 12, [MON, TUE, WED, THU, FRI] * 2),  # two weeks, Monday to Friday
        (SAT, 2, [SAT, SUN]),  # a weekend session says so by its dates
        (THU, 3, [THU, FRI, SAT]),  # so does one ending on a Saturday
    ],
)
def test_half_days_are_planned_on_training_days_only(journey, weekday, days, planned):
    session = starting_on(journey.track, weekday, days)

    sessions.plan_half_days(session)

    mornings = HalfDay.objects.filter(session=session, period=HalfDay.Period.MORNING)
    assert [h.date.weekday() for h in mornings.order_by("date")] == planned
    assert session.half_days.count() == 2 * len(planned)


def test_public_holidays_inside_a_session_are_no_training_days(journey):
    ascension = datetime.date(2026, 5, 14)  # a Thursday
    week = on(datetime.date(2026, 5, 11), journey.track, days=5)  # Monday to Friday
    around_may_8 = on(datetime.date(2025, 5, 6), journey.track, days=4)  # Tuesday to Friday

    for session in (week, around_may_8):
        sessions.plan_half_days(session)

    assert ascension not in set(week.half_days.values_list("date", flat=True))
    assert week.half_days.count() == 8
    mornings = around_may_8.half_days.filter(period=HalfDay.Period.MORNING)
    assert [h.date.day for h in mornings.order_by("date")] == [6, 7, 9]


def test_a_session_starting_on_a_public_holiday_trains_on_it_and_not_on_its_weekends(journey):
    session = on(datetime.date(timezone.localdate().year + 1, 7, 14), journey.track, days=1)
    easter_monday_fortnight = on(datetime.date(2026, 4, 6), journey.track, days=12)
    for planned in (session, easter_monday_fortnight):
        sessions.plan_half_days(planned)
    assert session.half_days.count() == 2
    mornings = easter_monday_fortnight.half_days.filter(period=HalfDay.Period.MORNING)
    assert [h.date.day for h in mornings.order_by("date")] == [6, 7, 8, 9, 10, 13, 14, 15, 16, 17]


def test_a_day_without_training_has_no_half_days_and_a_saturday_trained_has_its_own(journey):
    session = starting_on(journey.track, MON, days=8)  # Monday to the next Monday
    wednesday, saturday = (session.starts_on + datetime.timedelta(days=n) for n in (2, 5))
    session.days_off, session.extra_days = [wednesday.isoformat()], [saturday.isoformat()]

    sessions.plan_half_days(session)

    mornings = session.half_days.filter(period=HalfDay.Period.MORNING).order_by("date")
    assert [h.date.weekday() for h in mornings] == [MON, TUE, THU, FRI, SAT, MON]
    assert session.half_days.count() == 12


def test_a_public_holiday_the_session_runs_on_all_the_same_is_planned(journey):
    ascension = datetime.date(2026, 5, 14)
    week = on(datetime.date(2026, 5, 11), journey.track, days=5)
    week.extra_days = [ascension.isoformat()]

    sessions.plan_half_days(week)

    assert week.half_days.filter(date=ascension).count() == 2
    assert week.half_days.count() == 10


def test_easter_and_the_holidays_that_follow_it_fall_on_their_known_dates():
    from dateutil.easter import easter  # an independent computus, installed with Celery

    assert dates.easter_sunday(2026) == datetime.date(2026, 4, 5)
    assert dates.easter_sunday(2038) == datetime.date(2038, 4, 25)  # the latest possible
    assert all(dates.easter_sunday(year) == easter(year) for year in range(1900, 2300))
    holidays = dates.public_holidays(2027)
    assert len(holidays) == 11
    assert {datetime.date(2027, 3, 29), datetime.date(2027, 5, 6), datetime.date(2027, 5, 17)} < (
        holidays
    )


def test_shortened_and_online_sessions_replan_their_half_days(journey):
    session = make_session(journey.track, days=3)
    sessions.plan_half_days(session)
    session.ends_on = session.starts_on
    session.format = Format.ONLINE
    session.save()

    sessions.plan_half_days(session)

    half_days = HalfDay.objects.filter(session=session)
    assert half_days.count() == 2
    assert all(half_day.online for half_day in half_days)


# --- Views ----------------------------------------------------------------------------


def _messages(response):
    return [message.level for message in response.context["messages"]]


def test_a_learner_takes_a_place_from_the_track_page(client, journey, camille):
    session = make_session(journey.track)
    client.force_login(camille)

    response = client.post(reverse("learners:take_seat", args=[session.pk]), follow=True)

    assert response.redirect_chain[-1][0] == journey.track.url
    assert _messages(response) == [message_levels.SUCCESS]
    assert session.seats.get().learner == camille
    assert 'data-seat-status="confirmed"' in response.content.decode()


def test_a_full_session_puts_the_learner_on_the_waiting_list_with_their_rank(
    client, journey, camille, dominique
):
    session = make_session(journey.track, capacity=1)
    sessions.take_seat(camille, session)
    client.force_login(dominique)

    response = client.post(reverse("learners:take_seat", args=[session.pk]), follow=True)

    assert _messages(response) == [message_levels.INFO]
    assert 'data-seat-status="waiting" data-rank="1"' in response.content.decode()


def test_taking_a_second_place_is_refused_with_a_message(client, journey, camille):
    session = make_session(journey.track)
    sessions.take_seat(camille, session)
    client.force_login(camille)

    response = client.post(reverse("learners:take_seat", args=[session.pk]), follow=True)

    assert _messages(response) == [message_levels.ERROR]
    assert session.seats.count() == 1


def test_a_learner_cancels_her_place_from_her_dashboard(client, journey, camille):
    seat = sessions.take_seat(camille, make_session(journey.track))
    client.force_login(camille)
    dashboard = reverse("learners:dashboard")
    page = client.get(dashboard).content.decode()
    assert f'data-seat="{seat.pk}"' in page

    response = client.post(
        reverse("learners:cancel_seat", args=[seat.pk]), {"next": dashboard}, follow=True
    )

    assert response.redirect_chain[-1][0] == dashboard
    assert _messages(response) == [message_levels.SUCCESS]
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CANCELLED
    assert f'data-seat="{seat.pk}"' not in response.content.decode()


def test_pages_offer_no_place_to_take_or_cancel_in_a_session_under_way(
    client, journey, camille, dominique
):
    under_way = make_session(journey.track, capacity=5, starts_in=-1, days=3)
    [seat] = given_places(under_way, camille)
    client.force_login(camille)
    page = client.get(reverse("learners:dashboard")).content.decode()
    assert f'data-testid="cancel-seat-{seat.pk}"' not in page
    assert f'data-testid="seat-kept-{seat.pk}"' in page

    client.force_login(dominique)
    track_page = client.get(journey.track.url).content.decode()
    assert f'data-testid="take-seat-{under_way.pk}"' not in track_page
    assert f'data-testid="session-started-{under_way.pk}"' in track_page
    # Both say where to write: the inclusion tags pass the team's address on.
    address = f"({settings.CAMPUS_CONTACT_EMAIL})"
    assert address in page and address in track_page


def test_leaving_the_waiting_list_from_an_old_page_keeps_a_place_confirmed_since(
    client, journey, camille, dominique
):
    session = make_session(journey.track, capacity=1)
    first = sessions.take_seat(camille, session)
    waiting = sessions.take_seat(dominique, session)
    client.force_login(dominique)
    old_page = client.get(reverse("learners:dashboard")).content.decode()
    assert 'name="status" value="waiting"' in old_page
    sessions.cancel_seat(first)  # Dominique's place is confirmed meanwhile

    response = client.post(
        reverse("learners:cancel_seat", args=[waiting.pk]), {"status": "waiting"}, follow=True
    )

    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CONFIRMED
    assert _messages(response) == [message_levels.WARNING]
    # From the page that shows the confirmed place, cancelling it is what was asked.
    client.post(reverse("learners:cancel_seat", args=[waiting.pk]), {"status": "confirmed"})
    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CANCELLED


def test_the_status_the_page_showed_is_compared_under_the_seats_lock(journey, camille, dominique):
    session = make_session(journey.track, capacity=1)
    first = sessions.take_seat(camille, session)
    waiting = sessions.take_seat(dominique, session)
    sessions.cancel_seat(first)

    with pytest.raises(sessions.PlaceConfirmedSince):
        sessions.cancel_seat(waiting, shown=Seat.Status.WAITING)

    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CONFIRMED


def test_cancelling_goes_nowhere_outside_the_site(client, journey, camille):
    seat = sessions.take_seat(camille, make_session(journey.track))
    client.force_login(camille)

    response = client.post(
        reverse("learners:cancel_seat", args=[seat.pk]), {"next": "https://evil.example/"}
    )

    assert response["Location"] == journey.track.url


def test_nobody_cancels_someone_elses_place(client, journey, camille, dominique):
    seat = sessions.take_seat(camille, make_session(journey.track))
    client.force_login(dominique)

    assert client.post(reverse("learners:cancel_seat", args=[seat.pk])).status_code == 404
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED


def test_the_dashboard_shows_the_rank_on_the_waiting_list(client, journey, camille, dominique):
    session = make_session(journey.track, capacity=1)
    sessions.take_seat(camille, session)
    seat = sessions.take_seat(dominique, session)
    client.force_login(dominique)

    page = client.get(reverse("learners:dashboard")).content.decode()

    assert f'data-seat="{seat.pk}"' in page
    assert 'data-seat-status="waiting" data-rank="1"' in page


def test_the_track_page_lists_upcoming_sessions_with_place_and_trainers(
    client, journey, karim, camille
):
    session = make_session(journey.track, capacity=1, title="Session d'automne (test)")
    session.trainers.add(karim)
    sessions.take_seat(camille, session)
    online = make_session(journey.track, starts_in=20, format=Format.ONLINE)
    past = make_session(journey.track, starts_in=-10, title="Session passée (test)")

    response = client.get(journey.track.url)
    page = response.content.decode()

    assert f'data-session="{session.pk}" data-places-left="0"' in page
    assert f'data-session="{online.pk}" data-places-left="2"' in page
    assert f'data-session="{past.pk}"' not in page
    assert FABRIQUE in page and "Session d&#x27;automne (test)" in page
    assert karim.full_name in page
    assert "take-seat" not in page  # anonymous visitors are asked to log in


# --- Admin ----------------------------------------------------------------------------

ADMIN = "wagtailsnippets_learners_trainingsession"


def admin_form(track, trainers=(), capacity=2, days=2):
    starts_on = timezone.localdate() + datetime.timedelta(days=14)
    return {
        "track": track.pk,
        "title": "Session de printemps (test)",
        "format": Format.BLENDED,
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + datetime.timedelta(days=days - 1)).isoformat(),
        "place_name": FABRIQUE,
        "place_address": ADDRESS,
        "online_link": "https://visio.example.org/test",
        "trainers": [t.pk for t in trainers],
        "capacity": capacity,
        # What the form shows by default, as a browser sends it back.
        "periods": "both",
        "morning_starts_at": "09:00",
        "morning_ends_at": "12:30",
        "afternoon_starts_at": "13:30",
        "afternoon_ends_at": "17:00",
    }


def test_staff_create_a_session_and_its_half_days_are_planned(client, journey, staff, karim):
    client.force_login(staff)

    response = client.post(reverse(f"{ADMIN}:add"), admin_form(journey.track, [karim], days=2))

    assert response.status_code == 302, response.context["form"].errors
    session = TrainingSession.objects.get()
    assert list(session.trainers.all()) == [karim]
    assert session.half_days.count() == 4


def test_only_trainers_can_be_named_trainers_of_a_session(client, journey, staff, camille):
    client.force_login(staff)

    response = client.post(reverse(f"{ADMIN}:add"), admin_form(journey.track, [camille]))

    assert response.status_code == 200
    assert "trainers" in response.context["form"].errors
    assert not TrainingSession.objects.exists()


def test_a_trainer_whose_account_closed_stays_a_trainer_of_her_session_through_its_edits(
    client, journey, staff, karim
):
    session = make_session(journey.track, starts_in=14, days=2)
    session.trainers.add(karim)
    karim.is_active = False
    karim.save()
    client.force_login(staff)
    edit = reverse(f"{ADMIN}:edit", args=[session.pk])

    offered = client.get(edit).context["form"].fields["trainers"].queryset
    response = client.post(edit, {**admin_form(journey.track, [karim]), "place_name": "Ailleurs"})

    assert karim in offered
    assert response.status_code == 302, response.context["form"].errors
    session.refresh_from_db()
    assert session.place_name == "Ailleurs"
    assert list(session.trainers.all()) == [karim]
    # A closed account is kept, not offered to other sessions.
    new_session = client.get(reverse(f"{ADMIN}:add")).context["form"].fields["trainers"]
    assert karim not in new_session.queryset


def test_a_session_with_places_taken_keeps_its_track(client, journey, staff, camille):
    session = make_session(journey.track, starts_in=14, days=2)
    sessions.take_seat(camille, session)
    client.force_login(staff)

    response = client.post(
        reverse(f"{ADMIN}:edit", args=[session.pk]), admin_form(journey.other_track, days=2)
    )

    assert response.status_code == 200
    assert "ne peut plus changer" in str(response.context["form"].errors["track"])
    session.refresh_from_db()
    assert session.track_id == journey.track.pk


def test_an_on_site_session_needs_its_place(client, journey, staff):
    client.force_login(staff)

    response = client.post(reverse(f"{ADMIN}:add"), {**admin_form(journey.track), "place_name": ""})

    assert response.status_code == 200
    assert "place_name" in response.context["form"].errors


def test_a_session_spanning_more_than_a_year_is_refused_on_its_last_day(client, journey, staff):
    client.force_login(staff)

    response = client.post(reverse(f"{ADMIN}:add"), admin_form(journey.track, days=400))

    assert response.status_code == 200
    assert "366" in str(response.context["form"].errors["ends_on"])
    assert not TrainingSession.objects.exists()


@pytest.mark.parametrize(
    ("starts_on", "ends_on"), [("9999-12-30", "9999-12-31"), ("1999-12-31", "2000-01-01")]
)
def test_a_session_in_a_mistyped_year_is_refused_with_the_years_it_may_take(
    client, journey, staff, starts_on, ends_on
):
    client.force_login(staff)
    form = {**admin_form(journey.track), "starts_on": starts_on, "ends_on": ends_on}

    response = client.post(reverse(f"{ADMIN}:add"), form)

    assert response.status_code == 200
    errors = response.context["form"].errors
    said = [*errors.get("starts_on", []), *errors.get("ends_on", [])]
    assert said and all(message.startswith("Vérifiez l'année") for message in said)
    assert not TrainingSession.objects.exists()


def _february_form(track, weekday: int, days: int) -> dict:
    """The admin form of a session starting on the first `weekday` of next February."""
    first = starting_on(track, weekday, days=1).starts_on
    TrainingSession.objects.all().delete()
    last = first + datetime.timedelta(days=days - 1)
    return {**admin_form(track), "starts_on": first.isoformat(), "ends_on": last.isoformat()}


def _day(form, n: int) -> datetime.date:
    return datetime.date.fromisoformat(form["starts_on"]) + datetime.timedelta(days=n)


def test_staff_give_a_session_a_day_without_training_typed_as_they_write_dates(
    client, journey, staff
):
    client.force_login(staff)
    form = _february_form(journey.track, MON, days=3)
    client.post(reverse(f"{ADMIN}:add"), form)
    session = TrainingSession.objects.get()
    assert session.half_days.count() == 6
    tuesday = _day(form, 1)

    response = client.post(
        reverse(f"{ADMIN}:edit", args=[session.pk]), {**form, "days_off": f"{tuesday:%d/%m/%Y}"}
    )

    assert response.status_code == 302, response.context["form"].errors
    session.refresh_from_db()
    assert session.days_off == [tuesday.isoformat()]
    assert tuesday not in set(session.half_days.values_list("date", flat=True))
    assert session.half_days.count() == 4
    page = client.get(reverse(f"{ADMIN}:edit", args=[session.pk])).content.decode()
    assert f'value="{tuesday:%d/%m/%Y}"' in page


def test_learners_are_told_the_weekdays_a_session_skips_on_its_page_and_in_its_notice(
    client, journey, camille, mails
):
    session = starting_on(journey.track, MON, days=8)  # Monday to the next Monday
    wednesday = session.starts_on + datetime.timedelta(days=2)
    session.days_off = [wednesday.isoformat()]
    session.save()

    page = client.get(journey.track.url).content.decode()
    mails.after(sessions.take_seat, camille, session)

    (mail,) = mails.to(camille)
    html, _mimetype = mail.alternatives[0]
    day = f"mercredi {wednesday.day} février {wednesday.year}"  # the weekend is not listed
    assert f'<dd data-testid="session-days-off">{day}</dd>' in page
    assert f"<dt>Sans formation</dt><dd>{day}</dd>" in html
    assert f"Sans formation : {day}\n" in mail.body


def _refused(response, field):
    assert response.status_code == 200
    return " ".join(response.context["form"].errors[field])


def test_staff_are_told_which_typed_days_cannot_be_days_off_or_days_trained(client, journey, staff):
    client.force_login(staff)
    form = _february_form(journey.track, FRI, days=4)  # Friday to Monday
    friday, saturday, monday = (f"{_day(form, n):%d/%m/%Y}" for n in (0, 1, 3))
    after = f"{_day(form, 30):%d/%m/%Y}"

    def refused(field, **typed):
        return _refused(client.post(reverse(f"{ADMIN}:add"), {**form, **typed}), field)

    assert refused("days_off", days_off="31/02/2027; demain") == (
        "« 31/02/2027 », « demain » : ce n'est pas une date. Écrivez chaque jour au format "
        "JJ/MM/AAAA, séparés par des virgules."
    )
    assert refused("days_off", days_off=f"{friday}, {monday}") == (
        f"{friday}, {monday} : ce n'est pas un jour entre le premier et le dernier ; pour ne "
        "pas former ce jour-là, changez les dates de la session."
    )
    assert refused("days_off", days_off=saturday) == (
        f"{saturday} : ce n'est déjà pas un jour de formation."
    )
    assert refused("extra_days", extra_days=after) == f"{after} : hors des dates de la session."
    assert refused("extra_days", extra_days=monday) == (
        f"{monday} : c'est déjà un jour de formation."
    )
    assert not TrainingSession.objects.exists()


def test_a_long_list_of_refused_days_is_cut_short(client, journey, staff):
    client.force_login(staff)
    form = _february_form(journey.track, MON, days=2)
    far = [_day(form, 100 + n) for n in range(25)]

    message = _refused(
        client.post(
            reverse(f"{ADMIN}:add"),
            {**form, "extra_days": ", ".join(f"{day:%d/%m/%Y}" for day in far)},
        ),
        "extra_days",
    )

    assert message.startswith(f"{far[0]:%d/%m/%Y}, ")
    assert f"{far[9]:%d/%m/%Y} et 15 autres : hors des dates" in message
    assert f"{far[10]:%d/%m/%Y}" not in message


def _sign(session, day, learner, status=Attendance.Status.PRESENT):
    return Attendance.objects.create(
        half_day=session.half_days.get(date=day, period=HalfDay.Period.MORNING),
        learner=learner,
        status=status,
        method=Attendance.Method.CODE,
        signed_at=timezone.now(),
    )


def test_a_day_whose_sheet_is_filled_in_stays_a_training_day(client, journey, staff, camille):
    client.force_login(staff)
    form = _february_form(journey.track, FRI, days=5)  # Friday to Tuesday
    saturday, monday = _day(form, 1), _day(form, 3)
    form["extra_days"] = f"{saturday:%d/%m/%Y}"
    client.post(reverse(f"{ADMIN}:add"), form)
    session = TrainingSession.objects.get()
    _sign(session, saturday, camille)
    _sign(session, monday, camille, status=Attendance.Status.ABSENT)  # filled in all the same
    edit = reverse(f"{ADMIN}:edit", args=[session.pk])

    monday_off = client.post(edit, {**form, "days_off": f"{monday:%d/%m/%Y}"})
    saturday_dropped = client.post(edit, {**form, "extra_days": ""})

    assert _refused(monday_off, "days_off") == (
        f"{monday:%d/%m/%Y} : la feuille d'émargement de ce jour est déjà remplie, "
        "il reste un jour de formation."
    )
    assert _refused(saturday_dropped, "extra_days").startswith(f"{saturday:%d/%m/%Y} : la feuille")
    session.refresh_from_db()
    assert session.days_off == [] and session.extra_days == [saturday.isoformat()]
    assert session.half_days.count() == 8


def test_new_dates_must_keep_the_days_whose_sheet_is_filled_in(client, journey, staff, camille):
    client.force_login(staff)
    form = _february_form(journey.track, FRI, days=5)  # Friday to Tuesday
    friday, tuesday = _day(form, 0), _day(form, 4)
    client.post(reverse(f"{ADMIN}:add"), form)
    session = TrainingSession.objects.get()
    _sign(session, friday, camille)
    _sign(session, tuesday, camille)
    edit = reverse(f"{ADMIN}:edit", args=[session.pk])

    later_start = client.post(edit, {**form, "starts_on": _day(form, 3).isoformat()})
    earlier_end = client.post(edit, {**form, "ends_on": _day(form, 3).isoformat()})

    assert _refused(later_start, "starts_on") == (
        f"{friday:%d/%m/%Y} : la feuille d'émargement de ce jour est déjà remplie, "
        "les dates de la session doivent le garder."
    )
    assert _refused(earlier_end, "ends_on").startswith(f"{tuesday:%d/%m/%Y} : la feuille")
    session.refresh_from_db()
    assert (session.starts_on, session.ends_on) == (friday, tuesday)


def test_days_stored_by_other_means_than_the_form_break_no_page(client, journey, staff):
    session = make_session(journey.track, days=3, days_off=["12/05/2027", 20270512, None])
    broken = make_session(journey.track, starts_in=20, extra_days=["2027-5-12"])

    assert client.get(journey.track.url).status_code == 200
    assert session.training_days() == session.calendar_days()
    with pytest.raises(ValidationError) as refused:
        broken.full_clean()
    assert refused.value.message_dict["extra_days"] == [
        "Donnez une liste de dates écrites AAAA-MM-JJ."
    ]
    client.force_login(staff)
    page = client.get(reverse(f"{ADMIN}:edit", args=[session.pk])).content.decode()
    assert 'value="12/05/2027, 20270512, None"' in page


def test_staff_raising_the_capacity_promotes_waiting_learners(
    client, journey, staff, camille, dominique, sophie, mails
):
    session = make_session(journey.track, capacity=1, format=Format.BLENDED)
    for person in (camille, dominique, sophie):
        sessions.take_seat(person, session)
    mails.outbox.clear()
    client.force_login(staff)
    form = admin_form(journey.track, capacity=2)
    form.update(starts_on=session.starts_on.isoformat(), ends_on=session.ends_on.isoformat())
    # Only the capacity changes: what the learners were told stays as it was.
    TrainingSession.objects.filter(pk=session.pk).update(
        place_name=form["place_name"],
        place_address=form["place_address"],
        online_link=form["online_link"],
    )

    response = mails.after(client.post, reverse(f"{ADMIN}:edit", args=[session.pk]), form)

    assert response.status_code == 302
    assert ranks(session) == {sophie.email: 1}
    assert Seat.objects.get(session=session, learner=dominique).status == Seat.Status.CONFIRMED
    assert [mail.to for mail in mails.outbox] == [[dominique.email]]


def test_staff_see_the_seats_of_a_session_by_status_and_rank(
    client, journey, staff, camille, dominique, sophie
):
    session = make_session(journey.track, capacity=1)
    for person in (camille, dominique, sophie):
        sessions.take_seat(person, session)
    client.force_login(staff)

    response = client.get(reverse(f"{ADMIN}:inspect", args=[session.pk]))

    assert response.status_code == 200
    groups = {status: seats for status, _, seats in response.context["seat_groups"]}
    assert [seat.learner for seat in groups["confirmed"]] == [camille]
    assert [(seat.learner, seat.rank) for seat in groups["waiting"]] == [
        (dominique, 1),
        (sophie, 2),
    ]
    assert client.get(reverse(f"{ADMIN}:list")).status_code == 200


# --- Query budget ---------------------------------------------------------------------

TRACK_PAGE_BUDGET = 20


def _add_sessions(track, trainers, learner, count):
    for number in range(count):
        session = make_session(track, starts_in=number + 1)
        session.trainers.add(*trainers)
        if number % 2:
            sessions.take_seat(learner, session)


def test_the_track_page_runs_as_many_queries_for_20_sessions_as_for_2(
    client, journey, camille, karim, lea, django_assert_max_num_queries
):
    _add_sessions(journey.track, [karim, lea], camille, 2)
    client.force_login(camille)
    client.get(journey.track.url)  # warm the site cache, as test_page_queries measures
    with django_assert_max_num_queries(TRACK_PAGE_BUDGET) as small:
        response = client.get(journey.track.url)
    assert response.content.decode().count('data-testid="session"') == 2

    _add_sessions(journey.track, [karim, lea], camille, 18)
    with django_assert_max_num_queries(TRACK_PAGE_BUDGET) as large:
        response = client.get(journey.track.url)

    assert response.content.decode().count('data-testid="session"') == 20
    assert len(large) == len(small)


def test_the_dashboard_runs_as_many_queries_for_6_places_as_for_1(
    client, journey, camille, dominique
):
    from django.test.utils import CaptureQueriesContext

    counts = []
    for number in range(6):
        session = make_session(journey.track, capacity=1, starts_in=number + 1)
        sessions.take_seat(dominique if number % 2 else camille, session)
        sessions.take_seat(camille if number % 2 else dominique, session)
    for learner in (camille, dominique):
        client.force_login(learner)
        client.get(reverse("learners:dashboard"))
        # Rendered from the database, not from the learner's cached fragment.
        page_versions.touch([learner.pk])
        with CaptureQueriesContext(connection) as queries:
            page = client.get(reverse("learners:dashboard")).content.decode()
        counts.append(len(queries))
        assert page.count('data-testid="my-seat"') == 6
    Seat.objects.filter(learner=dominique).exclude(
        pk=Seat.objects.filter(learner=dominique).first().pk
    ).update(status=Seat.Status.CANCELLED)
    # update() sends no signal: writes like it say what they changed.
    page_versions.touch_sessions()
    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse("learners:dashboard")).content.decode()
    assert page.count('data-testid="my-seat"') == 1
    assert counts[0] == counts[1] == len(queries)


# --- Concurrency (PostgreSQL row locks) -----------------------------------------------


@pytest.mark.postgres
@needs_postgres()
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_learners_racing_for_the_last_place_get_one_place_and_one_wait(
    journey, camille, dominique
):
    session = make_session(journey.track, capacity=1)
    go = threading.Barrier(2, timeout=10)
    errors = []

    def worker(person):
        try:
            go.wait()
            sessions.take_seat(person, session)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in (camille, dominique)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert sorted(session.seats.values_list("status", flat=True)) == ["confirmed", "waiting"]


def test_a_track_behind_a_view_restriction_offers_no_place(client, journey, camille):
    from wagtail.models import PageViewRestriction

    PageViewRestriction.objects.create(
        page=journey.track, restriction_type=PageViewRestriction.PASSWORD, password="secret"
    )
    session = make_session(journey.track)
    client.force_login(camille)

    response = client.post(reverse("learners:take_seat", args=[session.pk]))

    assert response.status_code == 404
    assert not session.seats.exists()
    assert not Enrolment.objects.filter(learner=camille).exists()


# --- Deleting a session ------------------------------------------------------------------


def _session_in_two_weeks(client, journey):
    client.post(reverse(f"{ADMIN}:add"), admin_form(journey.track, days=1))
    return TrainingSession.objects.get()


def test_a_session_with_attendance_recorded_cannot_be_deleted(client, journey, staff, camille):
    client.force_login(staff)
    session = _session_in_two_weeks(client, journey)
    seat = Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)
    Attendance.objects.create(
        half_day=session.half_days.first(),
        learner=camille,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.CODE,
        signed_at=timezone.now(),
    )
    url = reverse(f"{ADMIN}:delete", args=[session.pk])

    for response in (client.get(url, follow=True), client.post(url, follow=True)):
        assert "présences enregistrées" in response.text

    assert TrainingSession.objects.filter(pk=session.pk).exists()
    assert Seat.objects.filter(pk=seat.pk).exists() and Attendance.objects.exists()


def test_the_lists_bulk_delete_refuses_sessions_with_attendance_and_deletes_nothing(
    client, journey, staff, camille
):
    client.force_login(staff)
    evidenced = _session_in_two_weeks(client, journey)
    empty = make_session(journey.track, starts_in=30)
    Seat.objects.create(session=evidenced, learner=camille, status=Seat.Status.CONFIRMED)
    Attendance.objects.create(
        half_day=evidenced.half_days.first(),
        learner=camille,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.CODE,
        signed_at=timezone.now(),
    )
    url = reverse("wagtail_bulk_action", args=["learners", "trainingsession", "delete"])
    url += f"?id={evidenced.pk}&id={empty.pk}&next={reverse(f'{ADMIN}:list')}"

    for response in (client.get(url, follow=True), client.post(url, follow=True)):
        assert "Rien n'a été supprimé" in html.unescape(response.text)
        assert str(evidenced) in html.unescape(response.text)

    assert TrainingSession.objects.filter(pk__in=[evidenced.pk, empty.pk]).count() == 2
    assert Attendance.objects.exists()


def test_deleting_a_session_names_who_holds_a_place_since_nobody_tells_them(
    client, journey, staff, camille, dominique
):
    client.force_login(staff)
    session = _session_in_two_weeks(client, journey)
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)
    Seat.objects.create(session=session, learner=dominique, status=Seat.Status.CANCELLED)
    url = reverse(f"{ADMIN}:delete", args=[session.pk])

    confirm = client.get(url)

    assert confirm.status_code == 200
    assert "Camille Martin &lt;camille@example.org&gt;" in confirm.text
    assert "Dominique" not in confirm.text  # her place was cancelled already
    assert client.post(url).status_code == 302
    assert not TrainingSession.objects.filter(pk=session.pk).exists()


def test_new_dates_or_place_are_told_to_everyone_holding_or_awaiting_a_place(
    client, journey, staff, camille, dominique, sophie, mails
):
    client.force_login(staff)
    form = admin_form(journey.track, capacity=1, days=1)
    client.post(reverse(f"{ADMIN}:add"), form)
    session = TrainingSession.objects.get()
    for person in (camille, dominique):
        sessions.take_seat(person, session)
    sessions.cancel_seat(sessions.take_seat(sophie, session))
    Seat.objects.filter(session=session).update(reminder_sent_at=timezone.now())
    mails.outbox.clear()
    later = datetime.date.fromisoformat(form["starts_on"]) + datetime.timedelta(days=7)
    moved = {**form, "starts_on": later.isoformat(), "ends_on": later.isoformat()}

    response = mails.after(client.post, reverse(f"{ADMIN}:edit", args=[session.pk]), moved)

    assert response.status_code == 302
    told = {mail.to[0]: mail for mail in mails.outbox}
    assert set(told) == {camille.email, dominique.email}  # not Sophie, who cancelled
    session.refresh_from_db()
    assert told[camille.email].subject.endswith(f"Votre session a changé : {session}")
    assert f"{later:%-d}" in told[camille.email].body
    assert "visio.example.org" in told[camille.email].body  # her place is confirmed
    assert "visio.example.org" not in told[dominique.email].body  # she waits
    # The reminder follows the new start.
    assert not Seat.objects.active().filter(session=session, reminder_sent_at__isnull=False)

    mails.outbox.clear()
    mails.after(client.post, reverse(f"{ADMIN}:edit", args=[session.pk]), {**moved, "capacity": 1})
    assert mails.outbox == []  # saved unchanged: nothing to tell


def test_those_still_waiting_once_a_session_started_are_told_their_wait_is_over(
    journey, camille, dominique, sophie, mails
):
    from learners.tasks import close_waiting_lists

    session = make_session(journey.track, capacity=1)
    for person in (camille, dominique):
        sessions.take_seat(person, session)
    first_day = session.starts_on
    mails.outbox.clear()

    # The first day, a place may still free up for them: nothing closes yet.
    assert (
        sessions.close_waiting_lists(
            now=timezone.make_aware(datetime.datetime.combine(first_day, datetime.time(7, 5)))
        )
        == 0
    )
    TrainingSession.objects.filter(pk=session.pk).update(
        starts_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert mails.after(close_waiting_lists) == 1
    assert close_waiting_lists() == 0

    waited = Seat.objects.get(session=session, learner=dominique)
    assert waited.status == Seat.Status.CANCELLED
    assert Seat.objects.get(session=session, learner=camille).status == Seat.Status.CONFIRMED
    [told] = mails.outbox
    assert told.to == [dominique.email]
    assert "Aucune place ne s'est libérée" in told.subject
    assert "liste d'attente est close" in told.body


def test_a_format_changed_once_the_session_started_applies_to_the_half_days_to_come(journey):
    session = make_session(journey.track, starts_in=-1, days=3, format=Format.ONLINE)
    sessions.plan_half_days(session)
    assert set(session.half_days.values_list("online", flat=True)) == {True}

    session.format = Format.BLENDED  # an on-site day added to a session under way
    session.place_name, session.place_address = FABRIQUE, ADDRESS
    session.save()
    sessions.plan_half_days(session)

    today = timezone.localdate()
    modes = {(h.date - today).days: h.online for h in session.half_days.filter(period="am")}
    # Yesterday's signatures by personal link were counted online: they stay so.
    assert modes[-1] is True
    assert modes[1] is False


def test_trainers_and_the_team_take_no_place_nor_vouch_for_themselves(client, journey, karim):
    from learners import attendance

    session = make_session(journey.track, starts_in=10)

    with pytest.raises(sessions.SeatRefused, match="pour les apprenant·es"):
        sessions.take_seat(karim, session)
    assert not session.seats.exists()
    client.force_login(karim)
    page = client.get(journey.track.url).text
    assert f'data-testid="take-seat-{session.pk}"' not in page
    assert f'data-testid="places-for-learners-{session.pk}"' in page

    # A seat from before this rule: its holder still cannot confirm herself.
    started = make_session(journey.track, starts_in=0)
    sessions.plan_half_days(started)
    Seat.objects.create(session=started, learner=karim, status=Seat.Status.CONFIRMED)
    started.trainers.add(karim)
    half_day = started.half_days.first()
    with pytest.raises(attendance.AttendanceRefused, match="propre présence"):
        attendance.record_by_trainer(half_day, karim, "present", karim, at=half_day.window()[0])
