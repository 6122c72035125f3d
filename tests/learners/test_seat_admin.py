"""The training team gives and takes back places, also once a session has started."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models.pages import Format
from learners import activity, attendance, sessions
from learners.models import Enrolment
from learners.session_models import ActivityEvent, Attendance, HalfDay, Seat
from tests.learners.test_sessions import make_session

INSPECT = "wagtailsnippets_learners_trainingsession:inspect"


@pytest.fixture
def started(journey):
    """A two-day session of the track that began yesterday, with its half-days."""
    session = make_session(journey.track, capacity=2, starts_in=-1, days=2)
    sessions.plan_half_days(session)
    return session


def seat_of(learner, session) -> Seat:
    return Seat.objects.get(session=session, learner=learner)


def confirmed_in(session, learner) -> Seat:
    now = timezone.now()
    return Seat.objects.create(
        session=session,
        learner=learner,
        status=Seat.Status.CONFIRMED,
        requested_at=now,
        confirmed_at=now,
    )


def read(response) -> str:
    # Messages are escaped in the page: « n'utilise » is written n&#x27;utilise.
    return html.unescape(response.content.decode())


def give(client, session, email: str):
    return client.post(
        reverse("learners_session_give_place", args=[session.pk]), {"email": email}, follow=True
    )


def withdraw(client, seat):
    return client.post(reverse("learners_seat_withdraw", args=[seat.pk]), follow=True)


def test_staff_give_a_late_joiner_a_place_and_her_link_to_sign(
    client, staff, started, sophie, mails
):
    client.force_login(staff)

    response = mails.after(give, client, started, "SOPHIE@example.org")

    assert response.redirect_chain[-1][0] == reverse(INSPECT, args=[started.pk])
    assert "Sophie" in read(response) and "a une place dans cette session" in read(response)
    seat = seat_of(sophie, started)
    assert seat.status == Seat.Status.CONFIRMED
    assert Enrolment.objects.filter(learner=sophie, track=started.track).exists()
    [mail] = mails.to(sophie)
    assert "confirmée" in mail.subject
    # No reminder reaches someone who joins once the session started: the link comes now.
    assert reverse("learners:attendance_link", args=[seat.attendance_token]) in mail.body


def test_staff_give_the_first_of_the_waiting_list_a_place_in_a_session_under_way(
    client, staff, started, camille, dominique, sophie, mails
):
    confirmed_in(started, camille)
    confirmed_in(started, dominique)
    waiting = Seat.objects.create(
        session=started, learner=sophie, status=Seat.Status.WAITING, requested_at=timezone.now()
    )
    started.capacity = 3
    started.save(update_fields=["capacity"])
    client.force_login(staff)

    mails.after(client.post, reverse("learners_seat_give", args=[waiting.pk]))

    waiting.refresh_from_db()
    assert waiting.status == Seat.Status.CONFIRMED
    assert waiting.confirmed_at is not None
    [mail] = mails.to(sophie)
    assert "Une place s'est libérée" in mail.subject


def test_a_full_session_asks_for_a_higher_capacity_first(
    client, staff, started, camille, dominique, sophie, mails
):
    confirmed_in(started, camille)
    confirmed_in(started, dominique)
    client.force_login(staff)

    response = mails.after(give, client, started, sophie.email)

    assert "Cette session est complète : augmentez d'abord sa capacité" in read(response)
    assert not Seat.objects.filter(session=started, learner=sophie).exists()
    assert mails.outbox == []


def test_an_address_without_account_or_a_place_already_held_is_refused_with_the_reason(
    client, staff, started, camille
):
    confirmed_in(started, camille)
    client.force_login(staff)

    unknown = give(client, started, "personne@example.org")
    again = give(client, started, camille.email)
    typo = give(client, started, "camille@")

    assert "Aucun compte n'utilise personne@example.org" in read(unknown)
    assert "Camille Martin a déjà une place dans cette session." in read(again)
    assert "Saisissez une adresse de courriel valide." in read(typo)
    assert started.seats.count() == 1


def test_a_refused_address_comes_back_in_the_field_with_its_reason_beside_it(
    client, staff, started, camille, dominique, sophie
):
    confirmed_in(started, camille)
    confirmed_in(started, dominique)
    client.force_login(staff)

    typo = give(client, started, "sophie@exmple")
    full = give(client, started, sophie.email)
    page_again = client.get(reverse(INSPECT, args=[started.pk]))

    for response, reason in (
        (typo, "Saisissez une adresse de courriel valide."),
        (full, "Cette session est complète : augmentez d'abord sa capacité"),
    ):
        field = read(response).split('id="id_give_place_email"', 1)[1].split(">", 1)[0]
        assert 'aria-invalid="true"' in field
        assert "id_give_place_email_error" in field
        error = read(response).split('id="id_give_place_email_error">', 1)[1]
        assert error.startswith(reason)
    assert 'value="sophie@exmple"' in read(typo)
    assert f'value="{sophie.email}"' in read(full)
    # Shown once: coming back to the page later starts from an empty field.
    assert 'aria-invalid="true"' not in read(page_again)
    assert f'value="{sophie.email}"' not in read(page_again)


def test_an_address_typed_on_one_session_is_not_offered_on_another(client, staff, journey, started):
    other = make_session(journey.track, starts_in=5)
    client.force_login(staff)

    give(client, started, "personne@example.org")
    elsewhere = client.get(reverse(INSPECT, args=[other.pk]))

    assert "personne@example.org" not in read(elsewhere)


def test_a_closed_account_gets_no_place(client, staff, started, sophie):
    sophie.is_active = False
    sophie.save(update_fields=["is_active"])
    client.force_login(staff)

    response = give(client, started, sophie.email)

    assert "Le compte de Sophie" in read(response) and "est fermé" in read(response)
    assert not started.seats.exists()


def test_staff_cancel_the_place_of_someone_who_never_came(
    client, staff, started, camille, sophie, mails
):
    seat = confirmed_in(started, camille)
    Seat.objects.create(
        session=started, learner=sophie, status=Seat.Status.WAITING, requested_at=timezone.now()
    )
    client.force_login(staff)

    response = mails.after(withdraw, client, seat)

    assert "La place de Camille Martin est annulée" in read(response)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CANCELLED
    # Nobody is promoted into a session under way (sessions._fill).
    assert seat_of(sophie, started).status == Seat.Status.WAITING
    assert [mail.to for mail in mails.outbox] == [[camille.email]]


def test_staff_are_asked_to_confirm_before_a_place_is_cancelled(
    client, staff, started, camille, mails
):
    seat = confirmed_in(started, camille)
    client.force_login(staff)

    page = client.get(reverse(INSPECT, args=[started.pk])).text
    confirm = mails.after(client.get, reverse("learners_seat_withdraw", args=[seat.pk]))

    # The row offers a link to the question, not a button that cancels at once.
    assert f'<a href="{reverse("learners_seat_withdraw", args=[seat.pk])}"' in page
    assert confirm.status_code == 200
    text = read(confirm)
    assert f"Annuler la place de Camille Martin ({camille.email})" in text
    assert "La personne est prévenue par mail aussitôt." in text
    assert f'action="{reverse("learners_seat_withdraw", args=[seat.pk])}" method="POST"' in text
    assert f'href="{reverse(INSPECT, args=[started.pk])}"' in text
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED
    assert mails.outbox == []

    sessions.withdraw_place(seat)  # by someone else, while the question was shown
    again = client.get(reverse("learners_seat_withdraw", args=[seat.pk]), follow=True)
    assert again.redirect_chain[-1][0] == reverse(INSPECT, args=[started.pk])
    assert "Cette place était déjà annulée." in read(again)


def test_the_question_names_who_gets_the_place_before_the_start(
    client, staff, journey, camille, dominique, sophie
):
    later = make_session(journey.track, capacity=2, starts_in=10)
    seat = sessions.take_seat(camille, later)
    sessions.take_seat(dominique, later)
    later.capacity = 1
    later.save(update_fields=["capacity"])
    sessions.take_seat(sophie, later)
    client.force_login(staff)

    # Lowered below the places held: cancelling one leaves the session full.
    lowered = read(client.get(reverse("learners_seat_withdraw", args=[seat.pk])))
    later.capacity = 2
    later.save(update_fields=["capacity"])
    raised = read(client.get(reverse("learners_seat_withdraw", args=[seat.pk])))

    assert "Sophie" not in lowered
    assert "La place revient à Sophie Lefèvre, en tête de la liste d'attente" in raised


def test_a_place_with_a_signed_half_day_stays(client, staff, started, camille, mails):
    seat = confirmed_in(started, camille)
    Attendance.objects.create(
        half_day=started.half_days.get(date=started.starts_on, period=HalfDay.Period.MORNING),
        learner=camille,
        status=Attendance.Status.PRESENT,
        method=Attendance.Method.CODE,
        signed_at=timezone.now(),
    )
    client.force_login(staff)

    response = mails.after(withdraw, client, seat)

    assert "Camille Martin a déjà suivi cette session" in read(response)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED
    assert mails.outbox == []


def test_before_the_start_a_place_cancelled_by_staff_goes_to_the_waiting_list(
    client, staff, journey, camille, sophie, mails
):
    later = make_session(journey.track, capacity=1, starts_in=10)
    seat = sessions.take_seat(camille, later)
    sessions.take_seat(sophie, later)
    client.force_login(staff)

    response = mails.after(withdraw, client, seat)

    assert "Elle revient à Sophie" in read(response)
    assert seat_of(sophie, later).status == Seat.Status.CONFIRMED


def test_the_tools_are_offered_until_the_session_is_over(client, staff, journey, started, camille):
    confirmed_in(started, camille)
    over = make_session(journey.track, starts_in=-3, days=1)
    confirmed_in(over, camille)
    client.force_login(staff)

    page = client.get(reverse(INSPECT, args=[started.pk])).text
    assert 'data-testid="give-place"' in page
    assert reverse("learners_seat_withdraw", args=[seat_of(camille, started).pk]) in page

    page = client.get(reverse(INSPECT, args=[over.pk])).text
    assert 'data-testid="give-place"' not in page
    assert "Cette session est terminée." in read(give(client, over, camille.email))


def test_trainers_have_no_seat_tools(client, karim, started, sophie):
    client.force_login(karim)

    give(client, started, sophie.email)

    assert not Seat.objects.filter(learner=sophie).exists()
    assert not Enrolment.objects.filter(learner=sophie).exists()


def test_a_waiting_seat_left_since_the_page_was_shown_gets_no_place(
    client, staff, journey, camille, sophie, mails
):
    later = make_session(journey.track, capacity=1, starts_in=10)
    sessions.take_seat(camille, later)
    waiting = sessions.take_seat(sophie, later)
    later.capacity = 2
    later.save(update_fields=["capacity"])
    sessions.cancel_seat(waiting)  # Sophie leaves the list while staff read the page
    client.force_login(staff)

    response = mails.after(
        lambda: client.post(reverse("learners_seat_give", args=[waiting.pk]), follow=True)
    )

    assert "Sophie Lefèvre n'attend plus de place dans cette session." in read(response)
    assert (
        not Seat.objects.filter(session=later, learner=sophie)
        .exclude(status=Seat.Status.CANCELLED)
        .exists()
    )
    assert mails.outbox == []


def test_a_place_followed_online_during_the_session_stays(client, staff, journey, camille):
    online = make_session(journey.track, starts_in=-1, days=2, format=Format.ONLINE)
    seat = confirmed_in(online, camille)
    activity.record(camille.pk, ActivityEvent.Kind.LESSON_VIEWED)
    client.force_login(staff)

    response = withdraw(client, seat)

    assert "Camille Martin a déjà suivi cette session" in read(response)
    seat.refresh_from_db()
    assert seat.status == Seat.Status.CONFIRMED


def test_trainers_and_the_team_are_given_no_place(client, staff, started, karim):
    client.force_login(staff)

    assert "pas apprenant·e" in read(give(client, started, karim.email))
    assert "pas apprenant·e" in read(give(client, started, staff.email))
    assert not started.seats.exists()


def test_a_signature_after_the_place_was_cancelled_is_refused(started, camille):
    seat = confirmed_in(started, camille)
    half_day = started.half_days.get(date=timezone.localdate(), period=HalfDay.Period.MORNING)
    sessions.withdraw_place(seat)  # between the link's check and the signature

    with pytest.raises(attendance.AttendanceRefused, match="plus de place"):
        attendance._sign(half_day, camille, Attendance.Method.LINK, timezone.now())
    assert not Attendance.objects.filter(learner=camille).exists()


def test_a_place_given_before_the_start_comes_without_the_link_to_sign(
    client, staff, journey, sophie, mails
):
    later = make_session(journey.track, starts_in=10)
    client.force_login(staff)

    mails.after(give, client, later, sophie.email)

    [mail] = mails.to(sophie)
    assert (
        reverse("learners:attendance_link", args=[seat_of(sophie, later).attendance_token])
        not in mail.body
    )
