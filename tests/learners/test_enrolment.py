"""Enrolment: in a track or a single module, prerequisites named, history kept on leaving."""

import pytest

from learners import services
from learners.models import Enrolment, LessonProgress


def test_camille_enrols_in_a_track_and_sees_its_modules_in_order(client, camille, journey):
    client.force_login(camille)
    response = client.post(f"/moi/inscription/{journey.track.pk}/")
    assert response.status_code == 302
    assert response.url == journey.track.url
    enrolment = Enrolment.objects.get(learner=camille)
    assert enrolment.track == journey.track and enrolment.module is None

    page = client.get(journey.track.url)
    html = page.content.decode()
    assert 'data-testid="track-modules"' in html
    positions = [html.index(m.title) for m in (journey.basics, journey.advanced, journey.closing)]
    assert positions == sorted(positions)
    assert 'data-testid="leave"' in html


def test_enrolling_twice_keeps_a_single_active_enrolment(camille, journey):
    first, created = services.enrol(camille, journey.track)
    again, created_again = services.enrol(camille, journey.track)
    assert created and not created_again
    assert first == again
    assert Enrolment.objects.filter(learner=camille).count() == 1


def test_a_module_followed_through_its_track_needs_no_second_enrolment(camille, journey):
    track_enrolment, _ = services.enrol(camille, journey.track)
    enrolment, created = services.enrol(camille, journey.basics)
    assert not created
    assert enrolment == track_enrolment


def test_enrolling_in_a_module_names_the_missing_prerequisite(client, camille, journey):
    client.force_login(camille)
    response = client.post(f"/moi/inscription/{journey.advanced.pk}/", follow=True)
    assert not Enrolment.objects.filter(learner=camille).exists()
    messages = [str(m) for m in response.context["messages"]]
    assert len(messages) == 1
    assert journey.basics.title in messages[0]


def test_a_track_whose_module_needs_another_tracks_module_names_it(camille, journey):
    with pytest.raises(services.PrerequisitesMissing) as refusal:
        services.enrol(camille, journey.other_track)
    assert refusal.value.missing == [journey.basics]
    assert journey.basics.title in str(refusal.value)


def test_prerequisites_inside_a_track_do_not_block_enrolling_in_the_track(camille, journey):
    _, created = services.enrol(camille, journey.track)
    assert created


def test_a_completed_prerequisite_opens_the_module(camille, journey):
    services.enrol(camille, journey.basics)
    for lesson in journey.basics.lessons():
        services.mark_lesson_done(camille, lesson)
    _, created = services.enrol(camille, journey.advanced)
    assert created


def test_the_module_page_lists_what_is_missing_instead_of_an_enrol_button(client, camille, journey):
    client.force_login(camille)
    html = client.get(journey.advanced.url).content.decode()
    assert 'data-testid="missing-prerequisites"' in html
    assert journey.basics.title in html
    assert 'data-testid="enrol"' not in html


def test_leaving_a_track_keeps_the_history_and_the_progress(client, camille, journey):
    services.enrol(camille, journey.track)
    lesson = journey.basics.lessons().first()
    services.mark_lesson_done(camille, lesson)
    client.force_login(camille)

    response = client.post(f"/moi/desinscription/{journey.track.pk}/")

    assert response.status_code == 302
    enrolment = Enrolment.objects.get(learner=camille)
    assert enrolment.left_at is not None
    assert LessonProgress.objects.filter(learner=camille, lesson=lesson).exists()
    # Coming back opens a new enrolment and finds the lesson still done.
    new, created = services.enrol(camille, journey.track)
    assert created and new != enrolment
    assert Enrolment.objects.filter(learner=camille).count() == 2


def test_leaving_a_track_says_the_place_in_its_session_is_kept_and_how_to_free_it(
    client, camille, journey
):
    from tests.learners.test_sessions import given_places, make_session

    services.enrol(camille, journey.track)
    [seat] = given_places(make_session(journey.track, capacity=5), camille)
    client.force_login(camille)

    response = client.post(f"/moi/desinscription/{journey.track.pk}/", follow=True)

    told = " ".join(str(m) for m in response.context["messages"])
    assert "dans une session de ce parcours est conservée" in told
    seat.refresh_from_db()
    assert seat.status == seat.Status.CONFIRMED


def test_enrol_and_leave_refuse_get_and_anonymous_visitors(client, camille, journey):
    assert client.post(f"/moi/inscription/{journey.track.pk}/").status_code == 302
    assert not Enrolment.objects.exists()  # redirected to the login page
    client.force_login(camille)
    assert client.get(f"/moi/inscription/{journey.track.pk}/").status_code == 405


def test_enrolling_in_a_lesson_or_an_unknown_page_answers_404(client, camille, journey):
    client.force_login(camille)
    lesson = journey.basics.lessons().first()
    assert client.post(f"/moi/inscription/{lesson.pk}/").status_code == 404
    assert client.post("/moi/inscription/999999/").status_code == 404


def test_an_anonymous_visitor_is_invited_to_log_in_on_a_track_page(client, journey):
    html = client.get(journey.track.url).content.decode()
    assert 'data-testid="login-to-enrol"' in html
