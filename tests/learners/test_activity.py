"""Online activity as proof of completion: what is recorded, and how it is summed up."""

import csv
import datetime
import io

import pytest
from django.urls import reverse

from courses.models.pages import Format
from learners import activity, assessments, services
from learners.activity import ISOLATED_EVENT, summarise, summarise_events
from learners.session_models import ActivityEvent
from tests.conftest import make_user
from tests.learners.attendance_helpers import DAY, at, make_session
from tests.learners.quiz_helpers import right_answers, set_quiz, single

Kind = ActivityEvent.Kind


def event(learner, moment, kind=Kind.LESSON_VIEWED):
    return activity.record(learner.pk, kind, at=moment)


def minutes(value: int) -> datetime.timedelta:
    return datetime.timedelta(minutes=value)


# --- Arithmetic, with explicit times ---------------------------------------------------------


def test_time_spent_adds_short_gaps_and_five_minutes_per_isolated_event(camille):
    for moment, kind in [
        (at(DAY, 10, 0), Kind.LOGIN),
        (at(DAY, 10, 10), Kind.LESSON_VIEWED),
        (at(DAY, 10, 25), Kind.LESSON_DONE),  # a sitting of 25 minutes
        (at(DAY, 11, 30), Kind.LOGIN),  # alone: 5 minutes
        (at(DAY, 14, 0), Kind.QUIZ_SUBMITTED),  # alone: 40 minutes before the next
        (at(DAY, 14, 40), Kind.LESSON_DONE),  # alone too
    ]:
        event(camille, moment, kind)

    summary = summarise(camille, at(DAY, 0), at(DAY + datetime.timedelta(days=1), 0))

    assert summary.time_spent == minutes(25) + 3 * ISOLATED_EVENT
    assert summary.minutes == 40
    assert (summary.lessons_done, summary.quizzes_submitted) == (2, 1)
    assert (summary.first_connection, summary.last_connection) == (at(DAY, 10), at(DAY, 14, 40))


def test_a_gap_of_exactly_thirty_minutes_is_time_spent_and_one_more_minute_is_not():
    def summary_of(*moments):
        return summarise_events([ActivityEvent(at=m, kind=Kind.LOGIN) for m in moments])

    assert summary_of(at(DAY, 9), at(DAY, 9, 30)).time_spent == minutes(30)
    assert summary_of(at(DAY, 9), at(DAY, 9, 31)).time_spent == 2 * ISOLATED_EVENT


def test_events_are_summed_in_time_order_whatever_order_they_come_in():
    events = [ActivityEvent(at=at(DAY, 9, m), kind=Kind.LESSON_VIEWED) for m in (20, 0, 10)]

    assert summarise_events(events).time_spent == minutes(20)


def test_no_activity_is_zero_minutes_and_no_connection(camille):
    summary = summarise(camille, at(DAY, 0), at(DAY, 23))

    assert (summary.time_spent, summary.first_connection, summary.last_connection) == (
        datetime.timedelta(),
        None,
        None,
    )


def test_the_summary_keeps_to_its_window_and_to_its_learner(camille, dominique):
    event(camille, at(DAY, 8, 59))  # before the window
    event(camille, at(DAY, 9, 0))
    event(camille, at(DAY, 9, 20))
    event(camille, at(DAY, 12, 0))  # the window's end is excluded
    event(dominique, at(DAY, 9, 10))

    summary = summarise(camille, at(DAY, 9), at(DAY, 12))

    assert summary.time_spent == minutes(20)
    assert summary.first_connection == at(DAY, 9)


def test_a_sessions_activity_covers_its_days_for_each_confirmed_learner(
    journey, camille, dominique, karim
):
    session = make_session(
        journey.track,
        trainers=[karim],
        learners=[camille, dominique],
        ends_on=DAY + datetime.timedelta(days=1),
        format=Format.ONLINE,
    )
    event(camille, at(DAY - datetime.timedelta(days=1), 23, 50))  # the evening before
    event(camille, at(DAY, 0, 5))
    event(camille, at(DAY + datetime.timedelta(days=1), 23, 50), Kind.LESSON_DONE)
    event(camille, at(DAY + datetime.timedelta(days=2), 0, 10))  # the morning after

    rows = {row.learner: row.summary for row in activity.session_activity(session)}

    assert rows[camille].time_spent == 2 * ISOLATED_EVENT
    assert rows[camille].lessons_done == 1
    assert rows[dominique].time_spent == datetime.timedelta()


# --- What is recorded ----------------------------------------------------------------------


def test_a_learner_logging_in_is_recorded_but_not_a_trainer(client, camille, karim):
    client.force_login(camille)
    client.force_login(karim)

    assert list(ActivityEvent.objects.values_list("learner", "kind")) == [(camille.pk, Kind.LOGIN)]


def test_opening_a_lesson_is_recorded_for_a_signed_in_learner_only(client, journey, camille, karim):
    services.enrol(camille, journey.track)
    lesson = journey.basics.get_children().live().specific().first()
    client.get(lesson.url)  # anonymous: nothing
    client.force_login(karim)
    client.get(lesson.url)  # the trainer previewing: nothing
    client.force_login(camille)
    ActivityEvent.objects.all().delete()  # the login

    assert client.get(lesson.url).status_code == 200

    assert list(ActivityEvent.objects.values_list("learner", "kind", "page")) == [
        (camille.pk, Kind.LESSON_VIEWED, lesson.pk)
    ]


def test_a_lesson_done_is_recorded_once(journey, camille):
    services.enrol(camille, journey.track)
    lesson = journey.basics.get_children().live().specific().first()

    services.mark_lesson_done(camille, lesson)
    services.mark_lesson_done(camille, lesson)

    assert list(
        ActivityEvent.objects.filter(kind=Kind.LESSON_DONE).values_list("learner", "page")
    ) == [(camille.pk, lesson.pk)]


def test_a_submitted_quiz_is_recorded_with_its_module(journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single()])
    attempt = assessments.start_attempt(camille, module)

    assessments.submit_attempt(attempt, right_answers(attempt), now=at(DAY, 10))

    assert list(
        ActivityEvent.objects.filter(kind=Kind.QUIZ_SUBMITTED).values_list("learner", "page", "at")
    ) == [(camille.pk, module.pk, at(DAY, 10))]


# --- The trainer's view of it ----------------------------------------------------------------


def test_the_grid_shows_activity_for_blended_sessions_but_not_on_site_ones(
    client, journey, camille, karim
):
    blended = make_session(journey.track, trainers=[karim], learners=[camille])
    on_site = make_session(
        journey.track, trainers=[karim], learners=[camille], format=Format.ON_SITE
    )
    event(camille, at(DAY, 9))
    client.force_login(karim)

    shown = client.get(reverse("learners:session_attendance", args=[blended.pk]))
    hidden = client.get(reverse("learners:session_attendance", args=[on_site.pk]))

    assert [row.summary.minutes for row in shown.context["activity"]] == [5]
    assert 'data-testid="activity"' in shown.text
    assert hidden.context["activity"] is None


def test_the_activity_csv_has_a_row_per_learner_and_no_formula(client, journey, camille, karim):
    trickster = make_user("eve@example.org", '=HYPERLINK("http://evil")')
    session = make_session(journey.track, trainers=[karim], learners=[camille, trickster])
    event(camille, at(DAY, 9))
    event(camille, at(DAY, 9, 20), Kind.LESSON_DONE)
    client.force_login(karim)

    response = client.get(reverse("learners:session_activity_csv", args=[session.pk]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    # The page's French headings and dates (the trainer reads both in a spreadsheet).
    assert rows[0][:4] == ["Apprenant·e", "Temps passé (minutes)", "Leçons terminées", "Quiz remis"]
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name["Camille Martin"][1:4] == ["20", "1", "0"]
    assert by_name["Camille Martin"][4] == "10/03/2026 09:00"
    assert '\'=HYPERLINK("http://evil")' in by_name


@pytest.mark.parametrize("persona", ["lea", "camille"])
def test_others_cannot_download_a_sessions_activity(client, request, journey, karim, persona):
    session = make_session(journey.track, trainers=[karim])
    client.force_login(request.getfixturevalue(persona))

    assert (
        client.get(reverse("learners:session_activity_csv", args=[session.pk])).status_code == 404
    )
