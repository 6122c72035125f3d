"""A trainer reviews the open answer waiting for him; the learner sees the outcome.

After `seed_demo`, the demo facilitator's answer to an open question of the
facilitator track waits for the module's owner, the demo trainer.
"""

from learners.assessment_models import Submission
from learners.models import LedgerEntry

DEMO_PASSWORD = "campus-demo"
TRAINER = "formateur@example.org"
COMMENT = "Analyse claire et située : le rôle de chacun est bien distingué."


def test_a_trainer_validates_a_submission_and_the_learner_sees_it_graded(demo, new_page, log_in):
    submission = Submission.objects.select_related("learner", "competence__block").get(
        module__owner__email=TRAINER, status=Submission.Status.PENDING
    )
    learner = submission.learner
    level = submission.competence.block.framework.levels.order_by("rank").last()

    trainer = new_page()
    log_in(trainer, TRAINER, DEMO_PASSWORD)
    trainer.click("[data-testid=grading-queue-link]")
    trainer.wait_for_url("**/moi/evaluations/")
    row = trainer.locator(f"[data-testid=grading-queue] [data-testid=submission-{submission.pk}]")
    assert learner.display_name in row.inner_text()
    row.locator(f"a[href='/moi/evaluations/{submission.pk}/']").click()
    trainer.wait_for_url(f"**/moi/evaluations/{submission.pk}/")
    assert submission.text.strip()[:40] in trainer.inner_text("[data-testid=submission-text]")

    trainer.check(f"#level-{level.pk}")
    trainer.fill("#comment", COMMENT)
    trainer.check("#decision-validated")
    trainer.click("#grade-submit")
    trainer.wait_for_url("**/moi/evaluations/")
    assert trainer.locator(f"[data-testid=submission-{submission.pk}]").count() == 0

    submission.refresh_from_db()
    assert submission.status == Submission.Status.VALIDATED
    assert submission.level == level and submission.comment == COMMENT
    assert submission.graded_by.email == TRAINER
    # The validation counts as evidence of the competence in the learner's ledger.
    assert (
        LedgerEntry.objects.for_learner(learner)
        .filter(competence=submission.competence, level=level)
        .exists()
    )

    learner_page = new_page()
    log_in(learner_page, learner.email, DEMO_PASSWORD)
    item = learner_page.locator(
        f"[data-testid=submissions] [data-testid=submission-{submission.pk}]"
    )
    assert item.get_attribute("data-status") == "validated"
    text = item.inner_text()
    assert "Validé" in text and level.label in text and COMMENT in text
