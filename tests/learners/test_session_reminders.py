"""Session reminders: once per confirmed seat, for sessions starting within two days,
queued as every seat notice is (retried, then listed for staff if the mail fails)."""

import datetime

import pytest
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from courses.models.pages import Format
from learners import sessions, tasks
from learners.models import UndeliveredMail
from learners.session_models import Seat, TrainingSession
from tests.learners.test_sessions import ADDRESS, FABRIQUE, make_session

pytestmark = pytest.mark.usefixtures("eager_tasks")


@pytest.fixture
def remind(django_capture_on_commit_callbacks):
    """Run the daily reminders, their mails sent once each claim is committed."""

    def run(**kwargs) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return sessions.send_reminders(**kwargs)

    return run


def _days(n: int) -> datetime.datetime:
    return timezone.now() + datetime.timedelta(days=n)


def _recipients(mailoutbox) -> list[str]:
    return sorted(mail.to[0] for mail in mailoutbox)


def test_confirmed_learners_of_sessions_starting_soon_are_reminded_once(
    journey, camille, dominique, sophie, mailoutbox, remind
):
    soon = make_session(journey.track, capacity=1, starts_in=1)
    later = make_session(journey.track, starts_in=5)
    sessions.take_seat(camille, soon)
    sessions.take_seat(dominique, soon)  # waiting: not reminded
    sessions.take_seat(sophie, later)  # too early yet
    mailoutbox.clear()

    assert remind() == 1
    assert remind() == 0

    assert _recipients(mailoutbox) == [camille.email]
    (reminder,) = mailoutbox
    assert FABRIQUE in reminder.body and ADDRESS in reminder.body
    assert Seat.objects.get(learner=camille).reminder_sent_at is not None
    assert Seat.objects.get(learner=dominique).reminder_sent_at is None


def test_a_session_entering_the_window_is_reminded_when_the_day_comes(
    journey, camille, mailoutbox, remind
):
    session = make_session(journey.track, starts_in=5, format=Format.ONLINE)
    session.online_link = "https://visio.example.org/rappel"
    session.save()
    sessions.take_seat(camille, session)
    mailoutbox.clear()

    assert remind(now=_days(2)) == 0
    assert remind(now=_days(3)) == 1
    assert remind(now=_days(4)) == 0

    (reminder,) = mailoutbox
    assert "https://visio.example.org/rappel" in reminder.body
    html, _ = reminder.alternatives[0]
    assert "https://visio.example.org/rappel" in html


def test_sessions_already_started_and_cancelled_places_are_not_reminded(
    journey, camille, dominique, mailoutbox, remind
):
    started = make_session(journey.track, starts_in=0, days=3)
    seat = sessions.take_seat(camille, make_session(journey.track, starts_in=1))
    sessions.cancel_seat(seat)
    # Given by the training team: a learner cannot take a place in a session under way.
    Seat.objects.create(
        session=started,
        learner=dominique,
        status=Seat.Status.CONFIRMED,
        requested_at=timezone.now(),
        confirmed_at=timezone.now(),
    )
    mailoutbox.clear()

    assert remind(now=_days(1)) == 0
    assert mailoutbox == []


def test_the_reminder_carries_the_personal_sign_in_link_when_attendance_exists(
    journey, camille, mailoutbox, remind
):
    seat = sessions.take_seat(camille, make_session(journey.track, starts_in=1))
    mailoutbox.clear()

    remind()

    try:
        path = reverse("learners:attendance_link", args=[seat.attendance_token])
    except NoReverseMatch:
        assert seat.attendance_token not in mailoutbox[0].body
    else:
        assert path in mailoutbox[0].body


def test_a_failed_reminder_is_listed_for_staff_and_sent_again_but_never_twice(
    journey, camille, monkeypatch, mailoutbox, remind
):
    seat = sessions.take_seat(camille, make_session(journey.track, starts_in=1))
    mailoutbox.clear()

    def mail_server_down(seat, notice):
        raise ConnectionRefusedError

    with monkeypatch.context() as patched:
        patched.setattr(sessions, "send_seat_notice", mail_server_down)
        assert remind() == 1
    (undelivered,) = UndeliveredMail.objects.all()
    assert (undelivered.recipient, undelivered.args) == (camille.email, [seat.pk, "reminder"])
    assert remind() == 0  # the seat was claimed: the next run queues nothing more

    assert tasks.resend_undelivered(undelivered.pk)
    assert _recipients(mailoutbox) == [camille.email]
    assert not UndeliveredMail.objects.exists()


def test_a_reminder_still_waiting_when_the_session_has_started_is_not_sent(
    journey, camille, mailoutbox
):
    seat = sessions.take_seat(camille, make_session(journey.track, starts_in=1))
    mailoutbox.clear()
    Seat.objects.filter(pk=seat.pk).update(reminder_sent_at=timezone.now())
    TrainingSession.objects.filter(pk=seat.session_id).update(
        starts_on=timezone.localdate() - datetime.timedelta(days=1),
        ends_on=timezone.localdate() + datetime.timedelta(days=1),
    )

    assert tasks.notify_seat(seat.pk, sessions.Notice.REMINDER) is False
    assert mailoutbox == []


def test_a_seat_claimed_by_another_worker_is_not_reminded_again(
    journey, camille, mailoutbox, remind
):
    seat = sessions.take_seat(camille, make_session(journey.track, starts_in=1))
    Seat.objects.filter(pk=seat.pk).update(reminder_sent_at=timezone.now())
    mailoutbox.clear()

    assert remind() == 0
    assert mailoutbox == []


def test_the_daily_task_sends_the_reminders(
    journey, camille, mailoutbox, django_capture_on_commit_callbacks
):
    sessions.take_seat(camille, make_session(journey.track, starts_in=2))
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_session_reminders.delay().get() == 1
    assert _recipients(mailoutbox) == [camille.email]


def test_beat_runs_the_reminders_every_day():
    entry = settings.CELERY_BEAT_SCHEDULE["learners-session-reminders"]
    assert entry["task"] == tasks.send_session_reminders.name
