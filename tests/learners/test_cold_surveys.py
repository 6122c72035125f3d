"""Satisfaction « à froid »: scheduled at completion, mailed three months later, one
reminder two weeks on, answered once through the link. Time travels through `now`."""

import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from learners import cold_surveys, services
from learners.models import TrackCompletion
from learners.quality_models import ColdSurvey
from learners.session_models import Seat, TrainingSession
from learners.tasks import send_cold_surveys

PARIS = ZoneInfo("Europe/Paris")


def complete_track(learner, journey, capture):
    services.enrol(learner, journey.track)
    with capture(execute=True):
        for module in (journey.basics, journey.advanced, journey.closing):
            for lesson in module.lessons():
                services.mark_lesson_done(learner, lesson)
    return TrackCompletion.objects.get(learner=learner, track=journey.track)


def make_session(track, **extra):
    today = timezone.localdate()
    return TrainingSession.objects.create(
        track=track,
        format="online",
        starts_on=extra.pop("starts_on", today),
        ends_on=extra.pop("ends_on", today),
        capacity=10,
        **extra,
    )


@pytest.fixture
def completed(camille, journey, django_capture_on_commit_callbacks):
    """Camille completed the journey's track; her survey is scheduled."""
    completion = complete_track(camille, journey, django_capture_on_commit_callbacks)
    return completion, ColdSurvey.objects.get(learner=camille, track=journey.track)


# --- Scheduling ---------------------------------------------------------------------------


def test_completing_a_track_schedules_one_survey_three_calendar_months_later(completed):
    completion, survey = completed
    expected = cold_surveys.due_date(completion.completed_at)
    assert survey.due_at == expected
    local = timezone.localtime(completion.completed_at)
    assert timezone.localtime(survey.due_at).date() == cold_surveys.add_months(local, 3).date()
    assert (survey.sent_at, survey.answered_at, survey.session) == (None, None, None)


def test_the_due_date_is_clamped_to_the_end_of_a_shorter_month():
    completed_at = datetime.datetime(2025, 11, 30, 23, 30, tzinfo=PARIS)
    assert timezone.localtime(cold_surveys.due_date(completed_at), PARIS).date() == (
        datetime.date(2026, 2, 28)
    )


def test_scheduling_twice_keeps_one_survey(completed, camille, journey):
    _, survey = completed
    again, created = cold_surveys.schedule(camille, journey.track)
    assert (again.pk, created) == (survey.pk, False)
    assert ColdSurvey.objects.count() == 1


def test_the_survey_remembers_the_learners_confirmed_session_of_the_track(
    camille, journey, django_capture_on_commit_callbacks
):
    session = make_session(journey.track)
    other = make_session(journey.other_track)
    Seat.objects.create(session=other, learner=camille, status=Seat.Status.CONFIRMED)
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)
    complete_track(camille, journey, django_capture_on_commit_callbacks)
    assert ColdSurvey.objects.get(learner=camille).session == session


def test_a_waiting_seat_does_not_count_as_the_learners_session(
    camille, journey, django_capture_on_commit_callbacks
):
    Seat.objects.create(
        session=make_session(journey.track), learner=camille, status=Seat.Status.WAITING
    )
    complete_track(camille, journey, django_capture_on_commit_callbacks)
    assert ColdSurvey.objects.get(learner=camille).session is None


def test_someone_who_attended_a_session_without_the_online_track_is_asked_too(
    camille, dominique, journey
):
    from learners.session_models import Attendance, HalfDay

    ended = timezone.localdate() - timedelta(days=2)
    session = make_session(journey.track, starts_on=ended, ends_on=ended)
    half_day = HalfDay.objects.create(
        session=session,
        date=ended,
        period=HalfDay.Period.MORNING,
        starts_at=datetime.time(9),
        ends_at=datetime.time(12, 30),
    )
    for person, status in ((camille, "present"), (dominique, "absent")):
        Seat.objects.create(session=session, learner=person, status=Seat.Status.CONFIRMED)
        Attendance.objects.create(
            half_day=half_day,
            learner=person,
            status=status,
            method="code",
            signed_at=timezone.now(),
        )

    assert send_cold_surveys()["scheduled"] == 1
    assert send_cold_surveys()["scheduled"] == 0

    survey = ColdSurvey.objects.get()
    assert (survey.learner, survey.session) == (camille, session)
    assert survey.due_at == cold_surveys.due_date(
        timezone.make_aware(datetime.datetime.combine(ended, datetime.time(18)))
    )


def test_finishing_online_before_one_s_session_sets_the_survey_after_the_session(
    camille, journey, django_capture_on_commit_callbacks
):
    coming = timezone.localdate() + timedelta(days=20)
    session = make_session(journey.track, starts_on=coming, ends_on=coming)
    Seat.objects.create(session=session, learner=camille, status=Seat.Status.CONFIRMED)

    complete_track(camille, journey, django_capture_on_commit_callbacks)

    survey = ColdSurvey.objects.get(learner=camille)
    assert (
        timezone.localtime(survey.due_at).date()
        == cold_surveys.due_date(
            timezone.make_aware(datetime.datetime.combine(coming, datetime.time(18)))
        ).date()
    )


# --- Sending, with time travel --------------------------------------------------------------


def test_nothing_is_sent_the_day_before_it_falls_due(completed):
    _, survey = completed
    assert cold_surveys.send_due(now=survey.due_at - timedelta(days=1)) == 0
    assert mail.outbox == []
    survey.refresh_from_db()
    assert survey.sent_at is None


def test_the_survey_is_mailed_when_it_falls_due_with_its_answer_link(completed, camille):
    _, survey = completed
    assert cold_surveys.send_due(now=survey.due_at) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [camille.email]
    link = reverse("learners:cold_survey", args=[survey.token])
    assert link in message.body
    html = message.alternatives[0][0]
    assert f'href="{cold_surveys.survey_url(survey)}"' in html
    survey.refresh_from_db()
    assert survey.sent_at == survey.due_at


def test_a_survey_is_mailed_once_however_many_runs(completed):
    _, survey = completed
    cold_surveys.send_due(now=survey.due_at)
    assert cold_surveys.send_due(now=survey.due_at + timedelta(days=1)) == 0
    assert len(mail.outbox) == 1


def test_one_reminder_goes_fourteen_days_after_the_first_mail_and_only_once(completed):
    _, survey = completed
    sent_at = survey.due_at
    cold_surveys.send_due(now=sent_at)
    assert cold_surveys.send_reminders(now=sent_at + timedelta(days=13, hours=23)) == 0
    assert cold_surveys.send_reminders(now=sent_at + timedelta(days=14)) == 1
    assert cold_surveys.send_reminders(now=sent_at + timedelta(days=30)) == 0
    assert len(mail.outbox) == 2
    survey.refresh_from_db()
    assert survey.reminded_at == sent_at + timedelta(days=14)
    assert reverse("learners:cold_survey", args=[survey.token]) in mail.outbox[1].body


def test_no_reminder_for_a_learner_who_answered(completed):
    _, survey = completed
    cold_surveys.send_due(now=survey.due_at)
    cold_surveys.answer(survey, rating=4, usefulness=5, applied=True)
    assert cold_surveys.send_reminders(now=survey.due_at + timedelta(days=20)) == 0
    assert len(mail.outbox) == 1


def test_no_reminder_for_a_survey_never_sent(completed):
    _, survey = completed
    assert cold_surveys.send_reminders(now=survey.due_at + timedelta(days=60)) == 0
    assert mail.outbox == []


def test_someone_who_followed_an_online_session_without_signing_is_asked_too(
    camille, dominique, sophie, journey
):
    from courses.models.pages import Format
    from learners.activity import session_window
    from learners.session_models import ActivityEvent

    ended = timezone.localdate() - timedelta(days=2)
    session = make_session(journey.track, starts_on=ended, ends_on=ended)
    TrainingSession.objects.filter(pk=session.pk).update(format=Format.ONLINE)
    for person in (camille, dominique, sophie):
        Seat.objects.create(session=session, learner=person, status=Seat.Status.CONFIRMED)
    start, _end = session_window(session)
    ActivityEvent.objects.create(
        learner=camille, kind=ActivityEvent.Kind.LESSON_DONE, at=start + timedelta(hours=10)
    )
    ActivityEvent.objects.create(
        learner=sophie, kind=ActivityEvent.Kind.LESSON_DONE, at=start + timedelta(hours=11)
    )
    sophie.erased_at = timezone.now()  # asked nothing, counted in nothing
    sophie.save(update_fields=["erased_at"])

    assert send_cold_surveys()["scheduled"] == 1

    survey = ColdSurvey.objects.get()
    assert (survey.learner, survey.session) == (camille, session)


def test_a_survey_answered_is_never_mailed_even_if_its_stamp_was_lost(completed):
    _, survey = completed
    ColdSurvey.objects.filter(pk=survey.pk).update(answered_at=timezone.now())

    assert cold_surveys.send_due(now=survey.due_at) == 0
    assert mail.outbox == []


def test_a_track_title_cannot_break_the_mail_s_html(completed, journey):
    _, survey = completed
    journey.track.title = "Ateliers & </title><script>x</script>"
    journey.track.save()

    cold_surveys.send_due(now=survey.due_at)

    (sent,) = mail.outbox
    html, _ = sent.alternatives[0]
    assert "<script>" not in html
    assert "Ateliers &amp; &lt;/title&gt;" in html
    assert "Il y a trois mois, vous suiviez la formation" in sent.body


def test_a_place_cancelled_then_another_taken_moves_the_survey_to_that_session(
    camille, journey, django_capture_on_commit_callbacks
):
    from learners import sessions

    today = timezone.localdate()
    first = make_session(
        journey.track, starts_on=today + timedelta(days=5), ends_on=today + timedelta(days=5)
    )
    seat = sessions.take_seat(camille, first)
    completion = complete_track(camille, journey, django_capture_on_commit_callbacks)
    survey = ColdSurvey.objects.get(learner=camille)
    assert survey.session == first
    sessions.cancel_seat(seat)
    later = today + timedelta(days=200)
    second = make_session(journey.track, starts_on=later, ends_on=later)
    sessions.take_seat(camille, second)

    # When the first session's survey would have gone: it waits for the second one.
    assert cold_surveys.send_due(now=survey.due_at) == 0

    survey.refresh_from_db()
    assert survey.session == second and survey.sent_at is None
    ended = timezone.make_aware(datetime.datetime.combine(later, datetime.time(18)))
    assert survey.due_at == cold_surveys.due_date(ended)
    assert cold_surveys.send_due(now=survey.due_at) == 1
    assert completion.completed_at < survey.due_at


def test_a_place_cancelled_with_none_taken_since_leaves_the_online_part_s_date(
    camille, journey, django_capture_on_commit_callbacks
):
    from learners import sessions

    later = timezone.localdate() + timedelta(days=200)
    seat = sessions.take_seat(camille, make_session(journey.track, starts_on=later, ends_on=later))
    completion = complete_track(camille, journey, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        sessions.cancel_seat(seat)
    online_due = cold_surveys.due_date(completion.completed_at)

    assert cold_surveys.send_due(now=online_due) == 1

    survey = ColdSurvey.objects.get(learner=camille)
    assert (survey.session, survey.due_at) == (None, online_due)


def test_an_erased_or_deactivated_account_gets_nothing(completed, camille):
    _, survey = completed
    camille.erased_at = timezone.now()
    camille.save(update_fields=["erased_at"])
    assert cold_surveys.send_due(now=survey.due_at) == 0
    camille.erased_at = None
    camille.is_active = False
    camille.save(update_fields=["erased_at", "is_active"])
    assert cold_surveys.send_due(now=survey.due_at) == 0
    assert mail.outbox == []


def test_a_mail_that_fails_is_logged_and_left_for_the_next_run(
    completed, dominique, journey, monkeypatch, caplog
):
    _, survey = completed
    other, _ = cold_surveys.schedule(dominique, journey.track)
    real_mail = cold_surveys._mail

    def flaky(survey, *, reminder):
        if survey.learner_id == dominique.pk:
            raise OSError("mail server down")
        real_mail(survey, reminder=reminder)

    monkeypatch.setattr(cold_surveys, "_mail", flaky)
    assert cold_surveys.send_due(now=max(survey.due_at, other.due_at)) == 1
    other.refresh_from_db()
    survey.refresh_from_db()
    assert other.sent_at is None and survey.sent_at is not None
    assert any("survey" in record.getMessage() for record in caplog.records)

    monkeypatch.setattr(cold_surveys, "_mail", real_mail)
    assert cold_surveys.send_due(now=other.due_at + timedelta(days=1)) == 1
    other.refresh_from_db()
    assert other.sent_at is not None


def test_the_daily_task_sends_what_is_due_and_the_reminders(completed, dominique, journey):
    _, survey = completed
    now = timezone.now()
    ColdSurvey.objects.filter(pk=survey.pk).update(due_at=now - timedelta(days=1))
    late, _ = cold_surveys.schedule(dominique, journey.track)
    ColdSurvey.objects.filter(pk=late.pk).update(
        due_at=now - timedelta(days=20), sent_at=now - timedelta(days=15)
    )
    assert send_cold_surveys() == {"scheduled": 0, "sent": 1, "reminded": 1}
    assert send_cold_surveys() == {"scheduled": 0, "sent": 0, "reminded": 0}
    assert len(mail.outbox) == 2


# --- Answering by token ------------------------------------------------------------------


def answers(**overrides):
    return {"rating": "4", "usefulness": "5", "applied": "yes", "comment": "Utile.", **overrides}


def test_the_survey_answers_without_login_through_its_link(client, completed):
    _, survey = completed
    url = reverse("learners:cold_survey", args=[survey.token])
    page = client.get(url)
    assert page.status_code == 200
    assert 'data-field="rating"' in page.text and 'type="radio"' in page.text
    response = client.post(url, answers(comment="  J'ai lancé un comité.  "))
    assert response.status_code == 200
    assert 'data-testid="cold-survey-thanks"' in response.text
    survey.refresh_from_db()
    assert (survey.rating, survey.usefulness, survey.applied) == (4, 5, True)
    assert survey.comment == "J'ai lancé un comité."
    assert survey.answered_at is not None


def test_answering_twice_is_refused_politely_and_keeps_the_first_answer(client, completed):
    _, survey = completed
    url = reverse("learners:cold_survey", args=[survey.token])
    client.post(url, answers(applied="no"))
    again = client.post(url, answers(rating="1", applied="yes"))
    assert again.status_code == 200
    assert 'data-testid="cold-survey-already-answered"' in again.text
    assert 'data-testid="cold-survey-already-answered"' in client.get(url).text
    survey.refresh_from_db()
    assert (survey.rating, survey.applied) == (4, False)


def test_an_incomplete_answer_shows_errors_by_field_and_keeps_what_was_typed(client, completed):
    _, survey = completed
    url = reverse("learners:cold_survey", args=[survey.token])
    response = client.post(url, {"rating": "9", "comment": "Mon commentaire"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"rating", "usefulness", "applied"}
    assert 'id="error-summary"' in response.text
    assert 'href="#id_rating_0"' in response.text
    assert "Mon commentaire" in response.text
    survey.refresh_from_db()
    assert survey.answered_at is None


def test_an_unknown_token_is_a_404(client, db):
    assert client.get(reverse("learners:cold_survey", args=["nope"])).status_code == 404


def test_beat_runs_the_daily_task(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "learners.tasks.send_cold_surveys" in tasks
