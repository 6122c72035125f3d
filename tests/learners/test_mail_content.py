"""What the platform's mails say, who they go to, and how their subjects begin."""

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from courses.models import Competence
from courses.models.pages import Format
from learners import accommodations, sessions, tasks
from learners.models import Submission
from tests.learners.test_sessions import make_session

PREFIX = "[Campus Tiers-Lieux] "
MEETING = "https://visio.example.org/session-test"


def graded_submission(journey, learner, status=Submission.Status.REWORK) -> Submission:
    return Submission.objects.create(
        learner=learner,
        module=journey.basics,
        competence=Competence.objects.get(block__framework=journey.framework, code="B1.1"),
        text="Mon analyse du lieu.",
        status=status,
        graded_at=timezone.now(),
        comment="À compléter.",
    )


@pytest.fixture
def after_commit(eager_tasks, django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


def to(mailoutbox, user):
    return [mail for mail in mailoutbox if mail.to == [user.email]]


# --- Nobody writes to a deactivated or erased account ---------------------------------------


@pytest.mark.parametrize("gone", ["deactivated", "erased"])
def test_a_grading_notice_is_not_mailed_to_a_closed_account(
    journey, camille, gone, eager_tasks, mailoutbox
):
    submission = graded_submission(journey, camille)
    if gone == "deactivated":
        camille.is_active = False
    else:
        camille.erased_at = timezone.now()
    camille.save()

    assert tasks.notify_submission_graded(submission.pk) is False

    assert mailoutbox == []


def test_a_grading_notice_is_mailed_once_to_an_active_learner(journey, camille, mailoutbox):
    submission = graded_submission(journey, camille)

    assert tasks.notify_submission_graded(submission.pk) is True
    assert tasks.notify_submission_graded(submission.pk) is False

    assert [m.to for m in mailoutbox] == [[camille.email]]


def test_a_grading_notice_cut_off_mid_send_is_sent_by_the_redelivered_task(
    journey, camille, mailoutbox, monkeypatch
):
    submission = graded_submission(journey, camille)

    def worker_stopped_mid_send(*args, **kwargs):
        # What no `except Exception` catches, as a killed worker never gets to one.
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(tasks, "send_mail", worker_stopped_mid_send)
        with pytest.raises(KeyboardInterrupt):
            tasks.notify_submission_graded(submission.pk)
    submission.refresh_from_db()
    assert submission.learner_notified_at is None

    assert tasks.notify_submission_graded(submission.pk) is True
    assert [m.to for m in mailoutbox] == [[camille.email]]


@pytest.mark.usefixtures("eager_tasks")
def test_a_deactivated_learner_gets_no_reminder_and_no_sign_in_link(
    journey, camille, dominique, mailoutbox, django_capture_on_commit_callbacks
):
    session = make_session(journey.track, starts_in=1)
    sessions.take_seat(camille, session)
    sessions.take_seat(dominique, session)
    camille.is_active = False
    camille.save()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert sessions.send_reminders() == 1

    assert [m.to for m in mailoutbox] == [[dominique.email]]
    assert not sessions.seats_to_remind().filter(learner=camille).exists()


# --- allauth's mails speak as the platform ---------------------------------------------------


def test_allauth_mails_name_the_platform_not_the_host(client, camille, mailoutbox):
    client.post(reverse("account_reset_password"), {"email": camille.email})

    (mail,) = mailoutbox
    assert mail.subject.startswith(PREFIX)
    assert mail.body.count("Campus Tiers-Lieux") >= 2  # the greeting and the signature
    assert "testserver !" not in mail.body and "c'est testserver" not in mail.body


@pytest.mark.parametrize(
    ("url", "email"),
    [
        ("account_request_login_code", "camille@example.org"),  # the sign-in code
        ("account_reset_password", "nobody@example.org"),  # « no account with this address »
    ],
)
def test_every_allauth_mail_names_the_platform(client, camille, mailoutbox, url, email):
    client.post(reverse(url), {"email": email})

    (mail,) = mailoutbox
    assert mail.to == [email] and mail.subject.startswith(PREFIX)
    assert mail.body.count("Campus Tiers-Lieux") >= 2


# --- Seat notices: the meeting link for a place only, both parts alike -----------------------


def test_only_a_confirmed_place_gets_the_online_meeting_link(
    journey, camille, dominique, after_commit, mailoutbox
):
    session = make_session(journey.track, capacity=1, format=Format.ONLINE, online_link=MEETING)
    with after_commit():
        sessions.take_seat(camille, session)
        sessions.take_seat(dominique, session)

    (confirmed,) = to(mailoutbox, camille)
    (waiting,) = to(mailoutbox, dominique)
    assert MEETING in confirmed.body and MEETING in confirmed.alternatives[0][0]
    assert MEETING not in waiting.body and MEETING not in waiting.alternatives[0][0]


def test_a_place_freed_up_brings_the_meeting_link_with_it(
    journey, camille, dominique, after_commit, mailoutbox
):
    session = make_session(journey.track, capacity=1, format=Format.ONLINE, online_link=MEETING)
    with after_commit():
        seat = sessions.take_seat(camille, session)
        sessions.take_seat(dominique, session)
    mailoutbox.clear()
    with after_commit():
        sessions.cancel_seat(seat)

    (cancelled,) = to(mailoutbox, camille)
    (promoted,) = to(mailoutbox, dominique)
    assert MEETING not in cancelled.body
    assert MEETING in promoted.body and MEETING in promoted.alternatives[0][0]


def test_both_parts_of_a_seat_notice_link_the_track(journey, camille, after_commit, mailoutbox):
    with after_commit():
        sessions.take_seat(camille, make_session(journey.track))

    (mail,) = mailoutbox
    track_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + journey.track.url
    html = mail.alternatives[0][0]
    assert track_url in mail.body and f'href="{track_url}"' in html
    assert "À propos du parcours" in mail.body and "À propos du parcours" in html


# --- Every mail subject begins with the platform's prefix ----------------------------------


def test_accommodation_seat_and_grading_mails_begin_their_subject_like_the_others(
    journey, camille, staff, after_commit, mailoutbox
):
    with after_commit():
        request = accommodations.request_accommodation(camille, journey.track, "Des sous-titres.")
        accommodations.record_answer(request, status="answered", answer="Oui.", by=staff)
        sessions.take_seat(camille, make_session(journey.track))
    tasks.notify_submission_graded(graded_submission(journey, camille).pk)

    subjects = [mail.subject for mail in mailoutbox]
    assert len(subjects) == 5  # referent, confirmation, answer, seat, grading
    assert all(subject.startswith(PREFIX) for subject in subjects), subjects
    assert not any(subject.startswith(PREFIX + PREFIX) for subject in subjects)
