"""A mail that cannot go is retried or shown to staff, never silently dropped.

Mail tasks retry a mail server's failures for hours on a worker; what still
fails (or fails in embedded mode, or cannot be published) is recorded as an
undelivered mail, listed in the admin with « Renvoyer » and resent by the beat.
"""

import datetime
import smtplib
import uuid

import pytest
from celery import current_app
from celery.app.trace import build_tracer
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from learners import accommodations, sessions, tasks
from learners.mail_models import MAX_AUTOMATIC_ATTEMPTS, UndeliveredMail, mail_key
from learners.models import AccommodationRequest
from learners.session_models import Seat
from tests.learners.test_enqueue_failures import refusing_broker  # noqa: F401 - a fixture
from tests.learners.test_sessions import make_session

NEED = "Des sous-titres pour les vidéos."
MAIL_TASKS = [tasks.notify_seat, tasks.notify_submission_graded, tasks.send_accommodation_mail]


@pytest.fixture
def after_commit(eager_tasks, django_capture_on_commit_callbacks):
    """Run what follows each commit (the mails) within the block, in-process as embedded mode."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def run_on_a_worker(task, *args, retries: int = 0):
    """Run `task` as a worker does (not eagerly), at its `retries`-th retry."""
    task = current_app.tasks[task.name]  # the task itself, not the module's proxy
    tracer = build_tracer(task.name, task, eager=False, propagate=False, app=current_app)
    request = {"id": str(uuid.uuid4()), "retries": retries, "is_eager": False, "delivery_info": {}}
    return tracer(request["id"], list(args), {}, request)


def recorded(task) -> list[UndeliveredMail]:
    return list(UndeliveredMail.objects.filter(task=task.name).order_by("pk"))


def record(seat: Seat, *, ago: datetime.timedelta, attempts: int = 1, **extra) -> UndeliveredMail:
    """A seat notice that failed `ago`, as a worker would have recorded it."""
    args = [seat.pk, sessions.Notice.CONFIRMED]
    UndeliveredMail.objects.record(
        tasks.notify_seat.name,
        args,
        recipient=seat.learner.email,
        error="SMTPServerDisconnected: Connection unexpectedly closed",
    )
    failed_at = timezone.now() - ago
    mails = UndeliveredMail.objects.filter(key=mail_key(tasks.notify_seat.name, args))
    mails.update(failed_at=failed_at, first_failed_at=failed_at, attempts=attempts, **extra)
    return mails.get()


class Scheduled:
    """What a worker would publish to retry a task later, kept instead of published."""

    def __init__(self, published: list, fail: bool, **options):
        self.published, self.fail, self.options = published, fail, options

    def apply_async(self):
        if self.fail:
            raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        self.published.append(self.options)


@pytest.fixture
def retries_published(monkeypatch):
    """Keep the retries a task publishes; `.broker_down = True` makes publishing fail."""

    class Published(list):
        broker_down = False

    published = Published()
    task = current_app.tasks[tasks.notify_seat.name]
    monkeypatch.setattr(
        type(task),
        "signature_from_request",
        lambda self, request, args, kwargs, **options: Scheduled(
            published, published.broker_down, **options
        ),
    )
    return published


# --- Embedded mode: the action succeeds, the mail waits in the list ------------------------


def test_a_mail_server_down_leaves_an_accommodation_request_sent_and_its_two_mails_listed(
    client, journey, camille, mail_server_down, after_commit, settings
):
    settings.DISABILITY_REFERENT_EMAIL = "handicap@campus.example"
    client.force_login(camille)
    with after_commit():
        response = client.post(
            reverse("learners:accommodation", args=[journey.track.pk]), {"need": NEED}
        )

    assert response.status_code == 302
    assert AccommodationRequest.objects.filter(learner=camille).count() == 1
    mails = recorded(tasks.send_accommodation_mail)
    assert {mail.recipient for mail in mails} == {"handicap@campus.example", camille.email}
    assert {mail.args[1] for mail in mails} == {"referent", "confirmation"}
    assert all("SMTPServerDisconnected" in mail.error and mail.attempts == 1 for mail in mails)


def test_a_mail_server_down_still_gives_the_learner_her_place_and_lists_its_notice(
    client, journey, camille, mail_server_down, after_commit
):
    session = make_session(journey.track)
    client.force_login(camille)
    with after_commit():
        response = client.post(reverse("learners:take_seat", args=[session.pk]))

    assert response.status_code == 302
    seat = Seat.objects.get(learner=camille, session=session)
    assert seat.status == Seat.Status.CONFIRMED
    (mail,) = recorded(tasks.notify_seat)
    assert (mail.args, mail.recipient) == ([seat.pk, "confirmed"], camille.email)


def test_in_embedded_mode_a_mail_is_tried_once_and_never_holds_the_request(
    journey, camille, mail_server_down, after_commit
):
    session = make_session(journey.track)
    with after_commit():
        sessions.take_seat(camille, session)

    assert mail_server_down.tries == 1
    assert len(recorded(tasks.notify_seat)) == 1


# --- On a worker: hours of retries, then the list -----------------------------------------


@pytest.mark.parametrize("task", MAIL_TASKS, ids=lambda task: task.name)
def test_mail_tasks_retry_a_mail_server_for_hours_each_wait_shorter_than_the_visibility_timeout(
    task,
):
    waits = [
        get_exponential_backoff_interval(
            factor=task.retry_backoff,
            retries=retries,
            maximum=task.retry_backoff_max,
            full_jitter=task.retry_jitter,
        )
        for retries in range(task.max_retries)
    ]
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert sum(waits) >= 3 * 3600
    assert max(waits) < visibility
    assert smtplib.SMTPServerDisconnected in task.autoretry_for or issubclass(
        smtplib.SMTPServerDisconnected, task.autoretry_for
    )


def test_a_mail_failing_its_last_retry_on_a_worker_is_listed_with_its_recipient(
    journey, camille, mail_server_down
):
    seat = sessions.take_seat(camille, make_session(journey.track))

    run_on_a_worker(tasks.notify_seat, seat.pk, "confirmed", retries=tasks.notify_seat.max_retries)

    (mail,) = recorded(tasks.notify_seat)
    assert (mail.recipient, mail.attempts) == (camille.email, 1)
    assert mail.error == "SMTPServerDisconnected: Connection unexpectedly closed"


def test_a_mail_failing_on_a_worker_before_its_last_retry_is_retried_not_listed(
    journey, camille, mail_server_down, retries_published
):
    seat = sessions.take_seat(camille, make_session(journey.track))

    run_on_a_worker(tasks.notify_seat, seat.pk, "confirmed", retries=3)

    assert [options["countdown"] for options in retries_published] == [480]
    assert recorded(tasks.notify_seat) == []


def test_a_retry_that_cannot_be_published_is_listed_rather_than_dropped(
    journey, camille, mail_server_down, retries_published
):
    seat = sessions.take_seat(camille, make_session(journey.track))
    retries_published.broker_down = True

    run_on_a_worker(tasks.notify_seat, seat.pk, "confirmed", retries=3)

    (mail,) = recorded(tasks.notify_seat)
    assert mail.recipient == camille.email and "SMTPServerDisconnected" in mail.error


def test_a_mail_that_cannot_be_published_is_listed_for_the_beat(
    refusing_broker,  # noqa: F811
    journey,
    camille,
):
    seat = Seat.objects.create(
        session=make_session(journey.track), learner=camille, requested_at=timezone.now()
    )

    assert tasks.enqueue(tasks.notify_seat, seat.pk, "confirmed") is False

    (mail,) = recorded(tasks.notify_seat)
    assert mail.recipient == camille.email
    assert "OperationalError" in mail.error


# --- Resending: the beat, and staff's « Renvoyer » -------------------------------------------


def test_a_mail_sent_at_last_leaves_the_list(
    journey, camille, mail_server_down, after_commit, settings, mailoutbox
):
    with after_commit():
        sessions.take_seat(camille, make_session(journey.track))
    (mail,) = recorded(tasks.notify_seat)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert tasks.resend_undelivered(mail.pk) is True

    assert [m.to for m in mailoutbox] == [[camille.email]]
    assert recorded(tasks.notify_seat) == []


def test_the_beat_resends_what_failed_a_while_ago_and_lets_the_latest_failure_wait(
    journey, camille, dominique, eager_tasks, mailoutbox
):
    session = make_session(journey.track)
    due = record(sessions.take_seat(camille, session), ago=datetime.timedelta(hours=1))
    fresh = record(sessions.take_seat(dominique, session), ago=datetime.timedelta(minutes=5))
    mailoutbox.clear()

    assert tasks.resend_undelivered_mails() == 1

    assert [m.to for m in mailoutbox] == [[camille.email]]
    assert list(UndeliveredMail.objects.all()) == [fresh]
    assert not UndeliveredMail.objects.filter(pk=due.pk).exists()


@pytest.mark.parametrize(
    ("ago", "attempts", "resent_minutes_ago", "due"),
    [
        (datetime.timedelta(hours=1), 1, None, True),
        (datetime.timedelta(minutes=5), 1, None, False),
        (datetime.timedelta(hours=2), MAX_AUTOMATIC_ATTEMPTS, None, False),
        (datetime.timedelta(hours=2), 1, 1, False),  # being resent
        (datetime.timedelta(hours=2), 1, 180, True),  # resent, failed again since
        (datetime.timedelta(minutes=40), 3, 90, True),  # its resend never came back
    ],
)
def test_a_mail_is_due_for_the_beat_a_while_after_its_last_failure(
    journey, camille, ago, attempts, resent_minutes_ago, due
):
    seat = sessions.take_seat(camille, make_session(journey.track))
    resent = {}
    if resent_minutes_ago is not None:
        resent = {"resent_at": timezone.now() - datetime.timedelta(minutes=resent_minutes_ago)}
    mail = record(seat, ago=ago, attempts=attempts, **resent)

    assert UndeliveredMail.objects.due().filter(pk=mail.pk).exists() is due


def test_a_resend_failing_again_counts_one_more_attempt_and_waits_its_next_turn(
    journey, camille, mail_server_down, eager_tasks
):
    mail = record(
        sessions.take_seat(camille, make_session(journey.track)), ago=datetime.timedelta(hours=1)
    )

    assert tasks.resend_undelivered_mails() == 1

    mail.refresh_from_db()
    assert mail.attempts == 2 and mail_server_down.tries == 1
    assert mail.failed_at >= mail.resent_at
    assert tasks.resend_undelivered_mails() == 0  # not again before RESEND_EVERY


def test_a_broker_down_during_the_beat_costs_one_mail_an_attempt_not_every_mail(
    refusing_broker,  # noqa: F811
    journey,
    camille,
    dominique,
):
    session = make_session(journey.track)
    mails = [
        record(sessions.take_seat(person, session), ago=datetime.timedelta(hours=1))
        for person in (camille, dominique)
    ]

    assert tasks.resend_undelivered_mails() == 0

    attempts = sorted(
        UndeliveredMail.objects.filter(pk__in=[m.pk for m in mails]).values_list(
            "attempts", flat=True
        )
    )
    # The first publish failed and counts; the second mail was not claimed at all.
    assert attempts == [1, 2]
    assert UndeliveredMail.objects.due().count() == 1


def test_a_resent_grading_notice_goes_once_the_claim_was_released(
    journey, camille, mail_server_down, eager_tasks, mailoutbox, settings
):
    from tests.learners.test_mail_content import graded_submission

    submission = graded_submission(journey, camille)
    tasks.enqueue(tasks.notify_submission_graded, submission.pk)
    (mail,) = recorded(tasks.notify_submission_graded)
    submission.refresh_from_db()
    assert submission.learner_notified_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    assert tasks.resend_undelivered(mail.pk) is True

    assert [m.to for m in mailoutbox] == [[camille.email]]
    assert recorded(tasks.notify_submission_graded) == []


def test_staff_see_undelivered_mails_and_resend_one(
    client, staff, journey, camille, mail_server_down, after_commit, settings, mailoutbox
):
    with after_commit():
        sessions.take_seat(camille, make_session(journey.track))
    (mail,) = recorded(tasks.notify_seat)
    client.force_login(staff)

    listing = client.get(reverse("learners_undelivered_mail:index")).text
    assert camille.email in listing and "SMTPServerDisconnected" in listing
    assert f'data-testid="resend-{mail.pk}"' in listing
    assert (
        client.get(reverse("learners_undelivered_mail:inspect", args=[mail.pk])).status_code == 200
    )

    # Still down: the page says so, and the mail stays listed with one more attempt.
    response = client.post(reverse("learners_undelivered_mail:resend", args=[mail.pk]))
    assert response.status_code == 302
    mail.refresh_from_db()
    assert mail.attempts == 2

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    response = client.post(reverse("learners_undelivered_mail:resend", args=[mail.pk]), follow=True)
    assert camille.email in response.text
    assert [m.to for m in mailoutbox] == [[camille.email]]
    assert recorded(tasks.notify_seat) == []


def test_nobody_but_staff_sees_or_resends_undelivered_mails(
    client, karim, journey, camille, mail_server_down, after_commit
):
    with after_commit():
        sessions.take_seat(camille, make_session(journey.track))
    (mail,) = recorded(tasks.notify_seat)
    karim.is_staff = False
    karim.save()
    client.force_login(karim)

    assert client.get(reverse("learners_undelivered_mail:index")).status_code in {302, 403}
    response = client.post(reverse("learners_undelivered_mail:resend", args=[mail.pk]))
    assert response.status_code in {302, 403}
    mail.refresh_from_db()
    assert mail.resent_at is None


def test_staff_cannot_add_or_edit_an_undelivered_mail(client, staff):
    client.force_login(staff)
    assert client.get(reverse("learners_undelivered_mail:add")).status_code in {302, 403}


def test_the_beat_resends_undelivered_mails_every_quarter_of_an_hour():
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == "learners.tasks.resend_undelivered_mails"
    ]
    assert len(entries) == 1 and entries[0]["schedule"] <= 1800


def test_a_request_for_an_erased_learner_is_not_mailed_to_her_on_resend(
    journey, camille, mail_server_down, after_commit, settings, mailoutbox
):
    settings.DISABILITY_REFERENT_EMAIL = "handicap@campus.example"
    with after_commit():
        request = accommodations.request_accommodation(camille, journey.track, NEED)
    camille.erased_at = timezone.now()
    camille.save(update_fields=["erased_at"])
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    for mail in recorded(tasks.send_accommodation_mail):
        tasks.resend_undelivered(mail.pk)

    # The referent still hears of the request; the erased address hears nothing.
    assert [m.to for m in mailoutbox] == [["handicap@campus.example"]]
    assert reverse("learners_accommodation:edit", args=[request.pk]) in mailoutbox[0].body
    assert recorded(tasks.send_accommodation_mail) == []
