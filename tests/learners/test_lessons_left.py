"""The hand-written « lessons left » statement: which lessons a learner still has to do."""

from django.contrib.auth.models import Group
from wagtail.models import PageViewRestriction

from learners.lessons_left import LessonsLeft, lessons_left
from learners.models import LessonProgress
from tests.learners.factories import make_module


def lessons(module):
    return list(module.lessons())


def restrict(lesson, kind, **extra):
    return PageViewRestriction.objects.create(page=lesson, restriction_type=kind, **extra)


def test_a_module_without_lessons_has_nothing_open_and_nothing_to_do(camille, journey):
    empty = make_module(journey.track, "Vide", lessons=0)

    assert lessons_left(camille, empty) == LessonsLeft(any_open=False, any_to_do=False)


def test_only_her_own_lessons_done_in_this_module_count(camille, dominique, journey):
    first, second = lessons(journey.basics)
    LessonProgress.objects.create(learner=dominique, lesson=first)
    LessonProgress.objects.create(learner=dominique, lesson=second)
    LessonProgress.objects.create(learner=camille, lesson=lessons(journey.advanced)[0])
    LessonProgress.objects.create(learner=camille, lesson=first)

    assert lessons_left(camille, journey.basics) == LessonsLeft(any_open=True, any_to_do=True)
    assert lessons_left(dominique, journey.basics) == LessonsLeft(any_open=True, any_to_do=False)

    LessonProgress.objects.create(learner=camille, lesson=second)
    assert lessons_left(camille, journey.basics).any_to_do is False


def test_an_unpublished_lesson_is_not_left_to_do(camille, journey):
    first, second = lessons(journey.basics)
    LessonProgress.objects.create(learner=camille, lesson=first)
    second.unpublish()

    assert lessons_left(camille, journey.basics) == LessonsLeft(any_open=True, any_to_do=False)


def test_a_lesson_for_signed_in_visitors_is_left_to_do(camille, journey):
    first, second = lessons(journey.basics)
    LessonProgress.objects.create(learner=camille, lesson=first)
    restrict(second, PageViewRestriction.LOGIN)

    assert lessons_left(camille, journey.basics).any_to_do is True


def test_a_lesson_behind_a_password_is_left_to_nobody(camille, journey):
    first, second = lessons(journey.basics)
    LessonProgress.objects.create(learner=camille, lesson=first)
    restrict(second, PageViewRestriction.PASSWORD, password="sésame")

    assert lessons_left(camille, journey.basics).any_to_do is False


def test_a_lesson_for_a_group_is_left_to_its_members_only(camille, dominique, journey):
    first, second = lessons(journey.basics)
    for learner in (camille, dominique):
        LessonProgress.objects.create(learner=learner, lesson=first)
    promotion, other = (
        Group.objects.create(name="Promotion Occitanie"),
        Group.objects.create(name="Promotion Bretagne"),
    )
    restrict(second, PageViewRestriction.GROUPS).groups.add(promotion)
    camille.groups.add(promotion)
    dominique.groups.add(other)

    assert lessons_left(camille, journey.basics).any_to_do is True
    assert lessons_left(dominique, journey.basics).any_to_do is False


def test_a_module_whose_every_lesson_is_hidden_from_her_has_none_open(camille, journey):
    for lesson in lessons(journey.basics):
        restrict(lesson, PageViewRestriction.PASSWORD, password="sésame")

    assert lessons_left(camille, journey.basics) == LessonsLeft(any_open=False, any_to_do=False)


def test_the_answer_costs_one_query(camille, journey, django_assert_num_queries):
    with django_assert_num_queries(1):
        lessons_left(camille, journey.basics)
