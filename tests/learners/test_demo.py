"""The demo facilitator's journey: not empty, and the same after a second run."""

from courses import demo as courses_demo
from courses.models import LessonPage, ModulePage
from learners import demo as learners_demo
from learners import queries
from learners.models import Enrolment, LedgerEntry, LessonProgress, ModuleCompletion, User


def test_the_demo_facilitator_has_progress_and_a_ledger(client, db):
    courses_demo.seed()
    learners_demo.seed()
    camille = User.objects.get(email=learners_demo.DEMO_LEARNER)

    enrolment = Enrolment.objects.active().get(learner=camille)
    assert enrolment.track.slug == "piloter-un-tiers-lieu"
    assert LessonProgress.objects.filter(learner=camille).count() >= 3
    assert ModuleCompletion.objects.filter(learner=camille).count() == 1
    seeded = LedgerEntry.objects.filter(learner=camille).exclude(
        source=LedgerEntry.Source.ASSESSMENT
    )
    assert seeded.count() == len(learners_demo.DEMO_EVIDENCE)
    # The first module completes through its quiz, passed with the real services.
    assert LedgerEntry.objects.filter(
        learner=camille, source=LedgerEntry.Source.ASSESSMENT
    ).exists()
    trainer_entry = LedgerEntry.objects.get(source=LedgerEntry.Source.TRAINER)
    assert trainer_entry.validated_by.email == learners_demo.DEMO_TRAINER

    path = queries.learning_path(camille)
    assert 0 < path.tracks[0].percent < 100
    assert path.resume is not None
    trainer = User.objects.get(email=learners_demo.DEMO_TRAINER)
    assert list(queries.learners_of(trainer)) == [camille]

    client.force_login(camille)
    assert client.get("/moi/parcours/").status_code == 200


def test_seeding_the_journey_twice_changes_nothing(db):
    courses_demo.seed()
    learners_demo.seed()
    counts = [
        model.objects.count()
        for model in (Enrolment, LessonProgress, ModuleCompletion, LedgerEntry)
    ]
    assert learners_demo.seed() == 0
    assert [
        model.objects.count()
        for model in (Enrolment, LessonProgress, ModuleCompletion, LedgerEntry)
    ] == counts


def test_the_accounts_load_even_without_the_demo_track(db):
    assert learners_demo.seed() == len(learners_demo.DEMO_ACCOUNTS) + 1  # and the organisation
    assert not Enrolment.objects.exists()


def test_the_demo_trainer_edits_the_lessons_of_his_demo_modules(client, db):
    courses_demo.seed()
    learners_demo.seed()
    trainer = User.objects.get(email=learners_demo.DEMO_TRAINER)
    modules = ModulePage.objects.filter(owner=trainer)
    lessons = LessonPage.objects.filter(path__startswith=modules.first().path)

    assert modules.exists() and lessons.exists()
    assert set(lessons.values_list("owner", flat=True)) == {trainer.pk}
    client.force_login(trainer)
    assert client.get(f"/cms-admin/pages/{lessons.first().pk}/edit/").status_code == 200
    assert learners_demo.seed() == 0
