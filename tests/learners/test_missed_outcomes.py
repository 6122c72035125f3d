"""The beat safety net: evidence of passed attempts whose task never ran is recorded once."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app
from courses.assessments import stream_data
from learners import assessments, services, tasks
from learners.models import Attempt, LedgerEntry
from tests.learners.quiz_helpers import right_answers, set_quiz, single

AN_HOUR_AGO = timedelta(hours=1)


@pytest.fixture
def quiz(journey, camille):
    services.enrol(camille, journey.track)
    return set_quiz(journey.basics, [single("B1.1"), single("B1.2")], max_attempts=None)


@pytest.fixture
def broker_down(monkeypatch):
    """Publishing fails as it does when Redis cannot be reached."""

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(tasks.record_attempt_outcome, "delay", refuse)


def pass_quiz(learner, module, *, ago=AN_HOUR_AGO, capture):
    """A passed attempt submitted `ago`, whose after-commit publish ran (and failed)."""
    began = timezone.now() - ago
    attempt = assessments.start_attempt(learner, module, now=began)
    with capture(execute=True):
        return assessments.submit_attempt(attempt, right_answers(attempt), now=began)


def test_a_passed_attempt_whose_task_could_not_be_sent_gets_its_evidence_once(
    quiz, camille, broker_down, django_capture_on_commit_callbacks
):
    attempt = pass_quiz(camille, quiz, capture=django_capture_on_commit_callbacks)
    assert attempt.passed and not LedgerEntry.objects.exists()
    assert list(Attempt.objects.outcome_unrecorded()) == [attempt]

    assert tasks.record_missed_outcomes() == 1
    entries = LedgerEntry.objects.filter(learner=camille)
    assert sorted(entries.values_list("competence__code", flat=True)) == ["B1.1", "B1.2"]
    assert {e.source_reference for e in entries} == {f"attempt:{attempt.pk}"}

    assert tasks.record_missed_outcomes() == 0  # idempotent: a second run writes nothing
    assert tasks.record_attempt_outcome(attempt.pk) is False  # nor does the late original
    assert entries.count() == 2
    assert not Attempt.objects.outcome_unrecorded().exists()


def test_a_missed_positioning_is_recorded_at_the_lowest_level(
    journey, camille, broker_down, django_capture_on_commit_callbacks
):
    track = journey.track
    track.positioning = stream_data([single("B2.1", "maitriser")])
    track.save()
    services.enrol(camille, track)
    attempt = assessments.start_positioning(camille, track)
    Attempt.objects.filter(pk=attempt.pk).update(started_at=timezone.now() - AN_HOUR_AGO)
    with django_capture_on_commit_callbacks(execute=True):
        assessments.submit_attempt(
            attempt, right_answers(attempt), now=timezone.now() - AN_HOUR_AGO
        )
    assert tasks.record_missed_outcomes() == 1
    entry = LedgerEntry.objects.get(learner=camille)
    assert (entry.competence.code, entry.level.rank, entry.source) == ("B2.1", 1, "positioning")


def test_failed_open_and_recent_attempts_are_left_alone(
    quiz, camille, broker_down, django_capture_on_commit_callbacks
):
    failed = assessments.start_attempt(camille, quiz, now=timezone.now() - AN_HOUR_AGO * 3)
    assessments.submit_attempt(failed, {}, now=timezone.now() - AN_HOUR_AGO * 3)
    # Just submitted: its own task may still be in the queue.
    recent = pass_quiz(
        camille, quiz, ago=timedelta(minutes=1), capture=django_capture_on_commit_callbacks
    )
    assessments.start_attempt(camille, quiz)  # open
    assert list(Attempt.objects.outcome_unrecorded()) == [recent]
    assert tasks.record_missed_outcomes() == 0
    assert not LedgerEntry.objects.exists()


def test_attempts_recorded_normally_are_not_recorded_again(
    quiz, camille, eager_tasks, django_capture_on_commit_callbacks
):
    attempt = pass_quiz(camille, quiz, capture=django_capture_on_commit_callbacks)
    written = LedgerEntry.objects.count()
    assert written == 2
    attempt.refresh_from_db()
    assert attempt.outcome_recorded_at is not None
    assert tasks.record_missed_outcomes() == 0
    assert LedgerEntry.objects.count() == written


def test_the_safety_net_runs_on_the_beat_schedule():
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "learners.tasks.record_missed_outcomes"
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] <= 900
    assert "learners.tasks.record_missed_outcomes" in app.tasks
