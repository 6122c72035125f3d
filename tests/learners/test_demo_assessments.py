"""The demo shows assessments at work: quizzes everywhere, a positioning test, a queue."""

from courses.models import Level, ModulePage, TrackPage
from learners import assessments
from learners import demo as learners_demo
from learners.models import LedgerEntry, Submission, User


def test_every_live_module_of_the_demo_has_a_quiz_with_questions(demo):
    modules = list(ModulePage.objects.live())
    assert modules
    empty = [module.slug for module in modules if not module.has_quiz]
    assert empty == []


def test_the_facilitator_track_has_a_positioning_test(demo):
    track = TrackPage.objects.get(slug=learners_demo.DEMO_TRACK)
    assert len(track.positioning) >= 4
    assert 0 < track.positioning_pass_mark <= 100


def test_the_demo_trainer_has_one_submission_waiting_to_be_graded(client, demo):
    trainer = User.objects.get(email=learners_demo.DEMO_TRAINER)
    queue = list(assessments.grading_queue(trainer))
    assert len(queue) == 1
    assert queue[0].learner.email == learners_demo.DEMO_LEARNER
    assert queue[0].status == Submission.Status.PENDING
    client.force_login(trainer)
    page = client.get("/moi/evaluations/").content.decode()
    assert f'data-testid="submission-{queue[0].pk}"' in page


def test_demo_positioning_evidence_stays_at_the_lowest_level(demo):
    positioning = LedgerEntry.objects.filter(source=LedgerEntry.Source.POSITIONING)
    assert positioning.exists()
    for entry in positioning.select_related("level", "competence__block"):
        lowest = Level.objects.filter(framework_id=entry.competence.block.framework_id)
        assert entry.level.rank == min(lowest.values_list("rank", flat=True))
