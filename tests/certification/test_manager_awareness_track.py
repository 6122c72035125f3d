"""Completing the demo awareness track issues the attestation de sensibilisation."""

from certification import demo as certification_demo
from certification.models import Award, Certificate
from courses import demo as courses_demo
from courses.models import ModulePage, TrackPage
from learners import services as learners


def pass_quiz_if_required(learner, module: ModulePage) -> None:
    """Answer the module's quiz right, when the module has one, as the learner would."""
    if not getattr(module, "has_quiz", False):
        return
    from learners import assessments
    from tests.learners.quiz_helpers import right_answers

    attempt = assessments.start_attempt(learner, module)
    assessments.submit_attempt(attempt, right_answers(attempt))


def test_an_agent_who_completes_the_awareness_track_receives_the_attestation(
    db, sophie, django_capture_on_commit_callbacks
):
    courses_demo.seed()
    certification_demo.seed_awards()
    track = TrackPage.objects.get(slug=certification_demo.AGENTS_TRACK)
    modules = list(ModulePage.objects.live().child_of(track))  # tree order meets prerequisites
    assert len(modules) == 4
    with django_capture_on_commit_callbacks(execute=True):
        learners.enrol(sophie, track)
        for module in modules:
            for lesson in module.lessons():
                learners.mark_lesson_done(sophie, lesson)
            pass_quiz_if_required(sophie, module)
    awareness = Certificate.objects.valid().get(learner=sophie, award__kind=Award.Kind.AWARENESS)
    assert awareness.award.track_id == track.pk
    assert awareness.holder_name == "Sophie Lefèvre"


def test_an_agent_halfway_through_the_track_has_no_attestation_yet(
    db, sophie, django_capture_on_commit_callbacks
):
    courses_demo.seed()
    certification_demo.seed_awards()
    track = TrackPage.objects.get(slug=certification_demo.AGENTS_TRACK)
    first = ModulePage.objects.live().child_of(track).first()
    with django_capture_on_commit_callbacks(execute=True):
        learners.enrol(sophie, track)
        for lesson in first.lessons():
            learners.mark_lesson_done(sophie, lesson)
        pass_quiz_if_required(sophie, first)
    assert not Certificate.objects.filter(learner=sophie, award__kind=Award.Kind.AWARENESS).exists()
