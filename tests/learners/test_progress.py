"""Progress: lessons done, « Reprendre », percentages, and when a module is complete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from learners import queries, services
from learners.models import LessonProgress, ModuleCompletion, TrackCompletion
from tests.learners.factories import make_module


def lessons(module):
    return list(module.lessons())


def test_marking_a_lesson_done_leads_to_the_next_lesson(client, camille, journey):
    services.enrol(camille, journey.track)
    first, second = lessons(journey.basics)
    client.force_login(camille)

    response = client.post(f"/moi/lecons/{first.pk}/terminee/")

    assert response.status_code == 302
    assert response.url == second.url
    assert LessonProgress.objects.filter(learner=camille, lesson=first).exists()
    html = client.get(first.url).content.decode()
    assert 'data-testid="lesson-done"' in html
    assert 'data-testid="mark-lesson-done"' not in html


def test_lessons_done_out_of_order_lead_forward_and_the_last_one_to_the_quiz(
    client, camille, journey
):
    from bs4 import BeautifulSoup

    from tests.learners.quiz_helpers import set_quiz, single

    set_quiz(journey.basics, [single("B1.1", "appliquer")])
    services.enrol(camille, journey.track)
    first, second = lessons(journey.basics)
    client.force_login(camille)

    # The second lesson first: none after it, so back to the first one, still to do,
    # as its page says too (« still to do », not « next »: no step backwards).
    assert client.post(f"/moi/lecons/{second.pk}/terminee/").url == first.url
    page = BeautifulSoup(client.get(second.url).content, "html.parser")
    assert page.select_one('[data-testid="next-lesson"]') is None
    assert page.select_one('[data-testid="lesson-to-do"]')["href"] == first.url
    assert page.select_one('[data-testid="previous-lesson"]')["href"] == first.url

    client.post(f"/moi/lecons/{first.pk}/terminee/")
    page = BeautifulSoup(client.get(first.url).content, "html.parser")
    assert page.select_one('[data-testid="next-lesson"]')["href"] == second.url
    assert page.select_one('[data-testid="previous-lesson"]') is None
    page = BeautifulSoup(client.get(second.url).content, "html.parser")
    assert page.select_one('[data-testid="to-quiz"]')["href"] == journey.basics.url


def test_marking_a_lesson_done_twice_is_a_no_op(camille, journey):
    services.enrol(camille, journey.basics)
    lesson = lessons(journey.basics)[0]
    assert services.mark_lesson_done(camille, lesson) is True
    assert services.mark_lesson_done(camille, lesson) is False
    assert LessonProgress.objects.filter(learner=camille).count() == 1


def test_a_lesson_cannot_be_marked_done_without_an_enrolment(client, camille, journey):
    lesson = lessons(journey.basics)[0]
    client.force_login(camille)
    html = client.get(lesson.url).content.decode()
    assert 'data-testid="enrol-from-lesson"' in html

    response = client.post(f"/moi/lecons/{lesson.pk}/terminee/", follow=True)

    assert not LessonProgress.objects.exists()
    assert len(list(response.context["messages"])) == 1


def test_a_lesson_restricted_to_a_group_is_marked_done_by_its_members_only(
    client, camille, dominique, journey
):
    from django.contrib.auth.models import Group
    from wagtail.models import PageViewRestriction

    services.enrol(camille, journey.track)
    services.enrol(dominique, journey.track)
    lesson = lessons(journey.basics)[0]
    group = Group.objects.create(name="Promotion Occitanie")
    restriction = PageViewRestriction.objects.create(
        page=lesson, restriction_type=PageViewRestriction.GROUPS
    )
    restriction.groups.add(group)
    camille.groups.add(group)

    client.force_login(camille)
    assert client.post(f"/moi/lecons/{lesson.pk}/terminee/").status_code == 302
    client.force_login(dominique)
    assert client.post(f"/moi/lecons/{lesson.pk}/terminee/").status_code == 404

    assert list(LessonProgress.objects.values_list("learner", flat=True)) == [camille.pk]
    # The lesson is not Dominique's to do: the other one completes the module for her,
    # while Camille, who may open it, needs both.
    other = lessons(journey.basics)[1]
    services.mark_lesson_done(dominique, other)
    assert ModuleCompletion.objects.filter(learner=dominique, module=journey.basics).exists()
    assert not ModuleCompletion.objects.filter(learner=camille).exists()
    services.mark_lesson_done(camille, other)
    assert ModuleCompletion.objects.filter(learner=camille, module=journey.basics).exists()


def test_a_locked_module_in_a_track_refuses_progress_and_names_the_prerequisite(camille, journey):
    services.enrol(camille, journey.track)
    with pytest.raises(services.PrerequisitesMissing) as refusal:
        services.mark_lesson_done(camille, lessons(journey.advanced)[0])
    assert journey.basics.title in str(refusal.value)
    assert not LessonProgress.objects.exists()


def test_a_prerequisite_added_after_completion_leaves_the_module_open_to_her(
    client, camille, journey
):
    from courses.models import LessonPage

    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, lessons(journey.closing)[0])
    assert ModuleCompletion.objects.filter(learner=camille, module=journey.closing).exists()
    journey.closing.prerequisite_modules.set([journey.advanced])
    journey.closing.save()
    added = journey.closing.add_child(
        instance=LessonPage(title="Leçon ajoutée", slug="lecon-ajoutee", body=[])
    )
    client.force_login(camille)
    assert 'data-testid="mark-lesson-done"' in client.get(added.url).content.decode()

    response = client.post(f"/moi/lecons/{added.pk}/terminee/")

    assert response.status_code == 302
    assert LessonProgress.objects.filter(learner=camille, lesson=added).exists()


def test_module_and_track_progress_are_percentages_of_lessons_done(camille, journey):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, lessons(journey.basics)[0])

    progress = queries.track_progress(camille, journey.track)

    assert [m.percent for m in progress.modules] == [50, 0, 0]
    assert progress.percent == 20  # one lesson of five
    assert progress.next_lesson == lessons(journey.basics)[1]


def test_a_module_is_complete_when_its_lessons_are_done(camille, journey):
    services.enrol(camille, journey.track)
    first, second = lessons(journey.basics)
    services.mark_lesson_done(camille, first)
    assert not ModuleCompletion.objects.exists()
    services.mark_lesson_done(camille, second)
    assert ModuleCompletion.objects.filter(learner=camille, module=journey.basics).exists()
    assert services.module_requirements_met(camille, journey.basics)


def test_a_module_with_an_assessment_waits_for_it_to_be_passed(camille, journey, monkeypatch):
    # The quiz issue will give modules assessments; until it is passed, lessons are not enough.
    monkeypatch.setattr(services, "assessment_passed", lambda learner, module: False)
    services.enrol(camille, journey.basics)
    for lesson in lessons(journey.basics):
        services.mark_lesson_done(camille, lesson)
    assert not ModuleCompletion.objects.exists()

    monkeypatch.setattr(services, "assessment_passed", lambda learner, module: True)
    assert services.refresh_completion(camille, journey.basics) is True
    assert services.refresh_completion(camille, journey.basics) is False
    assert ModuleCompletion.objects.count() == 1


def test_a_module_without_an_assessment_completes_on_its_lessons_today(camille, journey):
    assert services.assessment_passed(camille, journey.basics) is None


def test_the_track_is_complete_when_all_its_modules_are(camille, journey):
    services.enrol(camille, journey.track)
    for module in (journey.basics, journey.advanced, journey.closing):
        for lesson in lessons(module):
            services.mark_lesson_done(camille, lesson)
    assert TrackCompletion.objects.filter(learner=camille, track=journey.track).exists()
    assert queries.track_progress(camille, journey.track).percent == 100


def test_a_track_completed_stays_completed_when_a_module_is_added_after(client, camille, journey):
    services.enrol(camille, journey.track)
    for module in (journey.basics, journey.advanced, journey.closing):
        for lesson in lessons(module):
            services.mark_lesson_done(camille, lesson)
    added = make_module(journey.track, "Module ajouté après coup")
    client.force_login(camille)

    dashboard = client.get(reverse("learners:dashboard")).content.decode()

    assert "Parcours achevé." in dashboard and "Module ajouté après coup" in dashboard
    assert queries.track_progress(camille, journey.track).completed
    assert not ModuleCompletion.objects.filter(learner=camille, module=added).exists()


def test_a_track_whose_completion_is_not_recorded_is_not_shown_completed(client, camille, journey):
    services.enrol(camille, journey.track)
    for module in (journey.basics, journey.advanced, journey.closing):
        for lesson in lessons(module):
            services.mark_lesson_done(camille, lesson)
    TrackCompletion.objects.filter(learner=camille).delete()
    client.force_login(camille)

    assert "Parcours achevé." not in client.get(reverse("learners:dashboard")).content.decode()
    assert not queries.track_progress(camille, journey.track).completed


def test_the_module_page_offers_to_resume_at_the_next_undone_lesson(client, camille, journey):
    services.enrol(camille, journey.track)
    first, second = lessons(journey.basics)
    services.mark_lesson_done(camille, first)
    client.force_login(camille)
    response = client.get(journey.basics.url)
    html = response.content.decode()
    assert f'href="{second.url}" id="resume-button"' in html
    assert 'data-testid="progress-percent">50 %' in html


def _module_with_lessons(journey, camille, lesson_count):
    module = make_module(journey.track, "Module long", lessons=lesson_count, targets=[("B1.1", 1)])
    services.enrol(camille, module)
    for lesson in lessons(module)[:-1]:
        services.mark_lesson_done(camille, lesson)
    return module


# Wagtail's routing alone takes 10 queries before any view code runs (site, each
# ancestor and its specific row, aliases, view restrictions); the page context 3 more.
# Learners adds the session with its account in one query (sessions live in the
# database only, see config/settings.py) and 3 queries for the enrolment box.
WAGTAIL_ROUTING = 10
MODULE_CONTEXT = 3
AUTH = 1
ENROLMENT_BOX = 3


@pytest.mark.parametrize("lesson_count", [2, 20])
def test_the_module_page_of_an_enrolled_learner_stays_within_its_query_budget(
    client, camille, journey, lesson_count, django_assert_max_num_queries
):
    module = _module_with_lessons(journey, camille, lesson_count)
    client.force_login(camille)
    client.get(module.url)  # warm the site-root cache as any running server has
    with django_assert_max_num_queries(WAGTAIL_ROUTING + MODULE_CONTEXT + AUTH + ENROLMENT_BOX):
        assert client.get(module.url).status_code == 200


def test_the_enrolment_box_costs_three_queries_whatever_the_number_of_lessons(
    client, camille, journey
):
    counts = []
    for lesson_count in (2, 20):
        module = _module_with_lessons(journey, camille, lesson_count)
        client.logout()
        client.get(module.url)  # warm the site-root cache
        with CaptureQueriesContext(connection) as anonymous:
            client.get(module.url)
        client.force_login(camille)
        with CaptureQueriesContext(connection) as enrolled:
            client.get(module.url)
        counts.append(len(enrolled) - len(anonymous) - AUTH)
    assert counts == [ENROLMENT_BOX, ENROLMENT_BOX]


def test_a_lesson_of_a_locked_module_names_the_prerequisite_instead_of_a_button(
    client, camille, journey
):
    services.enrol(camille, journey.track)
    client.force_login(camille)
    html = client.get(lessons(journey.advanced)[0].url).content.decode()
    assert 'data-testid="missing-prerequisites"' in html
    assert journey.basics.title in html
    assert 'data-testid="mark-lesson-done"' not in html
    module_html = client.get(journey.advanced.url).content.decode()
    assert 'data-testid="resume"' not in module_html
