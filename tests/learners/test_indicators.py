"""The public figures of a track page: arithmetic, publication threshold, nightly refresh."""

import datetime
from decimal import Decimal

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from courses.models.pages import Format
from learners import activity, indicators, services
from learners.models import (
    Attempt,
    Attendance,
    ColdSurvey,
    Satisfaction,
    TrackCompletion,
    TrackIndicators,
)
from learners.session_models import ActivityEvent, HalfDay, Seat
from learners.tasks import refresh_indicators
from tests.conftest import make_user
from tests.learners.attendance_helpers import DAY, add_half_day, at, make_session


def submitted_quiz(learner, module) -> Attempt:
    return Attempt.objects.create(
        learner=learner,
        module=module,
        pass_mark=80,
        feedback_policy="immediately",
        status=Attempt.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )


def answered_cold_survey(learner, track, rating) -> ColdSurvey:
    now = timezone.now()
    return ColdSurvey.objects.create(
        learner=learner, track=track, due_at=now, sent_at=now, answered_at=now, rating=rating
    )


@pytest.fixture
def small_world(journey, camille, dominique, sophie, helene, marc):
    """Camille and Dominique completed the track; Sophie sat a quiz and left;
    Hélène sat a quiz and is still on her way; Marc left with his quiz unfinished."""
    track, basics, closing = journey.track, journey.basics, journey.closing
    for learner in (camille, dominique, sophie, helene, marc):
        services.enrol(learner, track)
    for learner in (camille, dominique):
        TrackCompletion.objects.create(learner=learner, track=track)
    for learner in (camille, dominique, sophie, helene):
        submitted_quiz(learner, basics)
    Attempt.objects.create(learner=marc, module=basics, pass_mark=80, feedback_policy="never")
    services.leave(sophie, track)
    services.leave(marc, track)

    Satisfaction.objects.create(learner=camille, module=basics, rating=5)
    Satisfaction.objects.create(learner=dominique, module=basics, rating=3)
    Satisfaction.objects.create(learner=sophie, module=closing, rating=4)
    answered_cold_survey(camille, track, rating=2)
    # Neither counts: a survey not answered yet, and an answer about another track.
    ColdSurvey.objects.create(learner=dominique, track=track, due_at=timezone.now())
    Satisfaction.objects.create(learner=helene, module=journey.outside, rating=5)
    TrackCompletion.objects.create(learner=helene, track=journey.other_track)
    return journey


def test_people_trained_counts_the_learners_who_completed_the_track(small_world):
    assert indicators.compute(small_world.track).people_trained == 2


def test_people_trained_also_counts_who_attended_a_session_of_the_track_once_it_is_over(
    small_world, camille, sophie, marc, helene
):
    nadia = make_user("nadia@example.org", "Nadia Session")  # never enrolled online
    over = make_session(small_world.track, learners=[camille, sophie, marc, nadia])
    morning = add_half_day(over, DAY)
    # Camille completed the track as well: she counts once. Marc was absent.
    for learner, status in ((camille, "present"), (sophie, "present"), (marc, "absent")):
        Attendance.objects.create(half_day=morning, learner=learner, status=status, method="code")
    Attendance.objects.create(
        half_day=add_half_day(over, DAY, HalfDay.Period.AFTERNOON),
        learner=nadia,
        status="present",
        method="trainer",
    )
    # A session still under way, and a session of another track, train nobody here yet.
    ongoing = make_session(small_world.track, learners=[helene], starts_on=timezone.localdate())
    elsewhere = make_session(small_world.other_track, learners=[marc])
    for session, learner in ((ongoing, helene), (elsewhere, marc)):
        Attendance.objects.create(
            half_day=add_half_day(session, session.starts_on),
            learner=learner,
            status="present",
            method="code",
        )

    # Camille and Dominique completed the track; Sophie and Nadia attended a session over.
    assert indicators.compute(small_world.track).people_trained == 4


def test_satisfaction_is_the_share_of_4_and_5_among_hot_and_answered_cold_answers(
    small_world, settings
):
    settings.PUBLIC_INDICATORS_MIN_ANSWERS = 2  # the four answers make two whole groups
    figures = indicators.compute(small_world.track)
    # 5, 3 and 4 « à chaud », 2 « à froid »: two satisfied answers out of four.
    assert figures.satisfaction_answers == 4
    assert figures.satisfaction_rate == Decimal("50.0")


def test_the_satisfaction_rate_moves_only_by_whole_groups_of_answers(small_world, settings):
    settings.PUBLIC_INDICATORS_MIN_ANSWERS = 3
    # The oldest three (5, 3 and 4 « à chaud ») are counted; the « à froid » 2, the
    # newest, waits for two more answers: alone, its rating would be read off the move.
    figures = indicators.compute(small_world.track)
    assert (figures.satisfaction_answers, figures.satisfaction_rate) == (3, Decimal("66.7"))

    for learner, rating in ((small_world_learner("a"), 1), (small_world_learner("b"), 5)):
        Satisfaction.objects.create(learner=learner, module=small_world.closing, rating=rating)
    figures = indicators.compute(small_world.track)
    # 5, 3, 4, 2, 1, 5: three satisfied out of six.
    assert (figures.satisfaction_answers, figures.satisfaction_rate) == (6, Decimal("50.0"))


def test_answers_too_few_for_a_rate_are_counted_as_they_came_in(small_world, settings, client):
    settings.PUBLIC_INDICATORS_MIN_ANSWERS = 5  # four answers: no whole group yet

    figures = indicators.compute(small_world.track)

    assert (figures.satisfaction_answers, figures.satisfaction_rate) == (4, None)
    page = client.get(small_world.track.url).text
    assert "4 réponses : trop peu de réponses pour publier un taux." in page


def small_world_learner(name: str):
    return make_user(f"{name}@example.org", f"Apprenant {name.upper()}")


def test_success_counts_assessed_learners_who_completed_or_stopped_not_those_on_their_way(
    small_world,
):
    figures = indicators.compute(small_world.track)
    # Camille and Dominique completed, Sophie left after her quiz; Hélène is still
    # on her way and Marc never submitted a quiz.
    assert figures.success_base == 3
    assert figures.success_rate == Decimal("66.7")


def test_a_track_nobody_answered_about_has_no_rate_rather_than_zero(journey):
    figures = indicators.compute(journey.track)
    assert (figures.people_trained, figures.satisfaction_answers, figures.success_base) == (0, 0, 0)
    assert figures.satisfaction_rate is None and figures.success_rate is None


def test_computing_twice_keeps_one_row_per_track(small_world):
    indicators.compute(small_world.track)
    indicators.compute(small_world.track)
    assert TrackIndicators.objects.filter(track=small_world.track).count() == 1


def test_below_the_minimum_the_page_shows_the_count_and_no_rate(client, small_world, settings):
    settings.PUBLIC_INDICATORS_MIN_ANSWERS = 5
    indicators.compute(small_world.track)
    html = client.get(small_world.track.url).text
    assert 'data-indicator="people-trained">2<' in html
    assert 'data-testid="too-few-satisfaction"' in html
    assert 'data-testid="too-few-success"' in html
    assert "data-rate=" not in html


def test_from_the_minimum_on_the_page_publishes_the_rates(client, small_world, settings):
    settings.PUBLIC_INDICATORS_MIN_ANSWERS = 2
    indicators.compute(small_world.track)
    html = client.get(small_world.track.url).text
    assert 'data-rate="50.0"' in html
    assert 'data-rate="66.7"' in html
    assert "too-few-" not in html
    assert 'data-testid="indicators-updated"' in html


def test_a_track_not_computed_yet_says_so(client, journey):
    html = client.get(journey.track.url).text
    assert 'data-testid="indicators-pending"' in html


def test_the_nightly_task_recomputes_every_live_track(small_world):
    long_ago = timezone.now() - datetime.timedelta(days=3)
    TrackIndicators.objects.create(track=small_world.track, computed_at=long_ago)
    assert refresh_indicators() == 2  # the journey's two tracks
    figures = TrackIndicators.objects.get(track=small_world.track)
    assert figures.computed_at > long_ago
    assert figures.people_trained == 2
    assert TrackIndicators.objects.filter(track=small_world.other_track).exists()


def test_the_beat_runs_the_refresh_at_half_past_two_every_night():
    (entry,) = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "learners.tasks.refresh_indicators"
    ]
    assert entry["schedule"] == crontab(hour=2, minute=30)


def test_the_command_refreshes_the_indicators(small_world):
    from django.core.management import call_command

    call_command("refresh_indicators", verbosity=0)
    assert TrackIndicators.objects.get(track=small_world.track).people_trained == 2


def _learners_with_history(journey, session, count: int, offset: int) -> None:
    morning = session.half_days.get()
    for number in range(count):
        learner = make_user(f"learner{offset + number}@example.org", f"Apprenant {number}")
        services.enrol(learner, journey.track)
        submitted_quiz(learner, journey.basics)
        Satisfaction.objects.create(learner=learner, module=journey.basics, rating=4)
        if number % 2:
            TrackCompletion.objects.create(learner=learner, track=journey.track)
        # Every third one attended the blended session, completing the track or not.
        if number % 3 == 0:
            Seat.objects.create(session=session, learner=learner, status=Seat.Status.CONFIRMED)
            Attendance.objects.create(
                half_day=morning, learner=learner, status="present", method="code"
            )


def test_the_refresh_queries_do_not_grow_with_the_number_of_learners(journey):
    # A blended session over: its attendees count as trained (two queries, or three).
    session = make_session(journey.track)
    add_half_day(session, DAY)
    indicators.refresh_all()  # the rows exist from now on: each run below updates them
    counts = []
    for size, offset in ((3, 0), (30, 100)):
        _learners_with_history(journey, session, size, offset)
        with CaptureQueriesContext(connection) as queries:
            indicators.refresh_all()
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 26  # two tracks, one session over
    # Completions: 1 + 15 (odd numbers); attendees who did not complete: 1 + 5 (even
    # multiples of 3); the attendees who completed are counted once.
    assert TrackIndicators.objects.get(track=journey.track).people_trained == 16 + 6


def test_online_activity_during_an_online_session_over_counts_as_attending_it(small_world, marc):
    online = make_session(small_world.track, learners=[marc], format=Format.ONLINE)
    add_half_day(online, DAY, online=True)
    activity.record(marc.pk, ActivityEvent.Kind.LESSON_VIEWED, at=at(DAY, 10))

    # Camille and Dominique completed the track; Marc followed the online session.
    assert indicators.compute(small_world.track).people_trained == 3
