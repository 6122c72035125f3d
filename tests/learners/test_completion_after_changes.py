"""When the lesson or module a learner still lacked leaves its parent, her completion is
recorded then: nothing she does later would record it."""

import pytest

from learners import services, tasks
from learners.models import ModuleCompletion, TrackCompletion


@pytest.fixture
def after_commit(eager_tasks, django_capture_on_commit_callbacks):
    def run(operation, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return operation(*args, **kwargs)

    return run


@pytest.fixture
def one_lesson_left(journey, camille):
    """Camille did the first lesson of « Les bases »; the second is all she lacks."""
    services.enrol(camille, journey.track)
    first, second = journey.basics.lessons()
    services.mark_lesson_done(camille, first)
    assert not ModuleCompletion.objects.filter(learner=camille).exists()
    return second


def completed(learner, module) -> bool:
    return ModuleCompletion.objects.filter(learner=learner, module=module).exists()


def test_unpublishing_the_last_lesson_she_lacked_completes_the_module(
    one_lesson_left, journey, camille, dominique, after_commit
):
    services.enrol(dominique, journey.track)  # did nothing: stays incomplete

    after_commit(one_lesson_left.unpublish)

    assert completed(camille, journey.basics)
    assert not completed(dominique, journey.basics)


def test_deleting_the_last_lesson_she_lacked_completes_the_module(
    one_lesson_left, journey, camille, after_commit
):
    after_commit(one_lesson_left.delete)

    assert completed(camille, journey.basics)


def test_moving_the_last_lesson_she_lacked_elsewhere_completes_the_module(
    one_lesson_left, journey, camille, after_commit
):
    after_commit(one_lesson_left.move, journey.closing, pos="last-child")

    assert completed(camille, journey.basics)


def test_reordering_lessons_within_their_module_looks_at_no_one(
    one_lesson_left, journey, monkeypatch, after_commit
):
    looked = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: looked.append(args) or True)
    first = journey.basics.lessons().first()

    after_commit(one_lesson_left.move, first, pos="left")

    assert looked == []


def test_taking_out_the_quiz_she_had_not_passed_completes_the_module(
    journey, camille, after_commit
):
    from tests.learners.quiz_helpers import set_quiz, single

    module = set_quiz(journey.basics, [single()])
    module.save_revision().publish()  # the quiz as learners took it
    services.enrol(camille, journey.track)
    for lesson in module.lessons():
        services.mark_lesson_done(camille, lesson)
    assert not completed(camille, module)  # the quiz is left

    module.quiz = []
    after_commit(module.save_revision().publish)

    assert completed(camille, module)


def test_publishing_a_module_that_had_no_quiz_looks_at_no_one(
    one_lesson_left, journey, monkeypatch, after_commit
):
    looked = []
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: looked.append(args) or True)

    after_commit(journey.basics.save_revision().publish)

    assert looked == []


def test_a_lesson_restricted_to_a_group_completes_those_outside_it_only(
    one_lesson_left, journey, camille, dominique, after_commit
):
    from django.contrib.auth.models import Group
    from wagtail.models import PageViewRestriction

    services.enrol(dominique, journey.track)
    services.mark_lesson_done(dominique, journey.basics.lessons().first())
    group = Group.objects.create(name="Promotion 2026")
    dominique.groups.add(group)

    # As Wagtail's privacy form saves it, outside a transaction: the restriction (its
    # commit comes at once), then its groups.
    restriction = after_commit(
        PageViewRestriction.objects.create,
        page=one_lesson_left,
        restriction_type=PageViewRestriction.GROUPS,
    )
    after_commit(restriction.groups.set, [group])

    assert completed(camille, journey.basics)
    assert not completed(dominique, journey.basics)  # the lesson is hers to do


def test_restricting_the_last_lesson_she_lacked_completes_the_module(
    one_lesson_left, journey, camille, after_commit
):
    from wagtail.models import PageViewRestriction

    after_commit(
        PageViewRestriction.objects.create,
        page=one_lesson_left,
        restriction_type=PageViewRestriction.PASSWORD,
        password="réservé",
    )

    assert completed(camille, journey.basics)


def test_unpublishing_the_last_module_she_lacked_completes_the_track(
    journey, camille, after_commit
):
    services.enrol(camille, journey.track)
    for module in (journey.basics, journey.advanced):
        for lesson in module.lessons():
            services.mark_lesson_done(camille, lesson)
    assert not TrackCompletion.objects.filter(learner=camille).exists()

    after_commit(journey.closing.unpublish)

    assert TrackCompletion.objects.filter(learner=camille, track=journey.track).exists()


def test_without_a_broker_the_completion_is_recorded_in_the_request(
    one_lesson_left, journey, camille, monkeypatch, after_commit
):
    monkeypatch.setattr(tasks, "enqueue", lambda task, *args: False)

    after_commit(one_lesson_left.unpublish)

    assert completed(camille, journey.basics)


def test_a_learner_who_left_the_track_is_not_completed_by_a_change(
    one_lesson_left, journey, camille, after_commit
):
    services.leave(camille, journey.track)

    after_commit(one_lesson_left.unpublish)

    assert not completed(camille, journey.basics)


def test_a_module_withdrawn_with_its_lessons_is_completed_for_no_one(
    journey, camille, staff, after_commit
):
    from wagtail.actions.unpublish_page import UnpublishPageAction

    from learners import assessments
    from tests.learners.quiz_helpers import right_answers, set_quiz, single

    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single("B1.1", "appliquer")])
    attempt = assessments.start_attempt(camille, module)
    assessments.submit_attempt(attempt, right_answers(attempt))  # passed, lessons not done
    assert not completed(camille, journey.basics)

    # As the admin does: the module, then each of its lessons, each one signalled.
    after_commit(UnpublishPageAction(module, user=staff, include_descendants=True).execute)

    assert not completed(camille, journey.basics)
