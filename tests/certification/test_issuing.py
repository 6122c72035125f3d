"""Awards are issued when learners earn them, through learners' signals."""

from datetime import timedelta
from functools import partial
from unittest.mock import patch

import pytest

from certification import eligibility, services
from certification.models import Award, BulkIssue, Certificate
from courses.models import ModulePage
from learners import assessments, tasks
from learners.models import Submission
from tests.certification.conftest import complete_module, pdf_text, reach
from tests.learners.quiz_helpers import right_answers, set_quiz, single


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Signals and renders run after commit: execute them as the request would."""

    def run(action, *args):
        with django_capture_on_commit_callbacks(execute=True):
            return action(*args)

    return run


def certificates_of(learner, award) -> list[Certificate]:
    return list(Certificate.objects.filter(learner=learner, award=award))


def test_completing_a_module_issues_its_module_attestation_with_a_rendered_pdf(
    setting, camille, run_on_commit
):
    run_on_commit(complete_module, camille, setting.basics)

    (certificate,) = certificates_of(camille, setting.module_award)
    assert certificate.status == Certificate.Status.VALID
    assert certificate.context["holder"] == {"name": "Camille Martin"}
    assert certificate.context["award"]["kind"] == "module"
    assert certificate.context["training"]["duration_hours"] == "0.5"
    assert certificate.pdf and len(certificate.pdf_sha256) == 64
    assert "Camille Martin" in pdf_text(certificate)
    # Another module's attestation is not issued, nor the track's.
    assert Certificate.objects.filter(learner=camille).count() == 1


def test_a_block_attestation_waits_for_every_competence_of_the_block_at_the_target_level(
    setting, camille, run_on_commit
):
    run_on_commit(reach, camille, setting.framework, "B1.1", 2)
    run_on_commit(reach, camille, setting.framework, "B1.2", 1)  # below the target (rank 2)
    assert not certificates_of(camille, setting.block_award)

    run_on_commit(reach, camille, setting.framework, "B1.2", 3)

    (certificate,) = certificates_of(camille, setting.block_award)
    levels = {row["code"]: row["level"] for row in certificate.context["competences"]}
    assert levels == {"B1.1": "Appliquer", "B1.2": "Maîtriser"}
    assert certificate.context["signatory"] == {
        "name": "Claire Dubois",
        "title": "Directrice pédagogique",
    }
    # B2 is not validated: no full certification yet.
    assert not certificates_of(camille, setting.certification_award)


def test_the_full_certification_comes_when_every_block_is_validated_and_expires(
    setting, camille, run_on_commit
):
    for code in ("B1.1", "B1.2"):
        run_on_commit(reach, camille, setting.framework, code, 2)
    run_on_commit(reach, camille, setting.framework, "B2.1", 2)

    (certificate,) = certificates_of(camille, setting.certification_award)
    assert certificate.context["target"]["type"] == "framework"
    assert len(certificate.context["competences"]) == 3
    # Valid 36 months: same day three years later.
    assert certificate.expires_at.date() == certificate.issued_at.date().replace(
        year=certificate.issued_at.year + 3
    )
    assert certificate.context["expires_on"] == eligibility.iso_date(certificate.expires_at)


def test_completing_the_track_issues_the_three_track_documents(setting, sophie, run_on_commit):
    run_on_commit(complete_module, sophie, setting.basics)
    run_on_commit(complete_module, sophie, setting.advanced)

    kinds = set(Certificate.objects.filter(learner=sophie).values_list("award__kind", flat=True))
    assert kinds == {"module", "awareness", "end_of_training", "completion"}

    end = Certificate.objects.get(learner=sophie, award=setting.end_of_training_award)
    assert end.context["training"]["nature"] == "action_de_formation"
    assert end.context["training"]["objectives"] == ["Objectifs."]
    assert end.context["training"]["duration_hours"] == "10.0"
    assert end.context["evaluation"] == {
        "modules_completed": 2,
        "modules_total": 2,
        "quizzes": [],
        "competences_reached": 0,
        "competences_total": 3,
    }
    text = pdf_text(end)
    assert "Attestation de fin de formation" in text
    assert "L6313-1" in text

    completion = Certificate.objects.get(learner=sophie, award=setting.completion_award)
    assert completion.context["holder"]["organisation"] == "Communauté de communes du Val Test"
    assert completion.context["training"]["start"] == completion.context["training"]["end"]
    assert completion.context["competences"] == []
    assert "Communauté de communes du Val Test" in pdf_text(completion)


def test_an_inactive_award_is_not_issued(setting, camille, run_on_commit):
    Award.objects.filter(pk=setting.module_award.pk).update(is_active=False)
    run_on_commit(complete_module, camille, setting.basics)
    assert not certificates_of(camille, setting.module_award)


def test_issuing_twice_returns_the_same_certificate(setting, camille):
    first, created = services.issue(camille, setting.module_award, render=False)
    second, created_again = services.issue(camille, setting.module_award, render=False)
    assert created and not created_again
    assert first.pk == second.pk


def test_the_constraint_refuses_a_second_valid_certificate_and_issue_returns_the_first(
    setting, camille, monkeypatch
):
    first, _ = services.issue(camille, setting.module_award, render=False)
    # Simulate the race: the read that looks for an existing certificate misses it.
    real_valid = Certificate.objects.valid
    calls = []

    def blind_valid():
        calls.append(1)
        return real_valid().none() if len(calls) == 1 else real_valid()

    monkeypatch.setattr(Certificate.objects, "valid", blind_valid)
    second, created = services.issue(camille, setting.module_award, render=False)
    assert not created and second.pk == first.pk
    assert Certificate.objects.filter(learner=camille).count() == 1


def test_a_certificate_keeps_the_name_it_was_issued_to(setting, camille):
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    certificate.refresh_from_db()
    assert certificate.holder_name == "Camille Martin"


def test_the_frozen_issue_date_is_the_certificates_own(setting, camille):
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    assert certificate.context["issued_on"] == eligibility.iso_date(certificate.issued_at)


def pass_the_quiz(learner, module) -> None:
    attempt = assessments.start_attempt(learner, module)
    assessments.submit_attempt(attempt, right_answers(attempt))


def test_attestations_completed_by_a_quiz_name_the_levels_that_quiz_proved(
    setting, sophie, django_capture_on_commit_callbacks
):
    # The quiz's evidence is written by a task after the submission's commit: the
    # attestations its completion earns wait for it, or they froze « — » for its levels.
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer"), single("B1.2", "appliquer")])
    advanced = set_quiz(setting.advanced, [single("B2.1", "maitriser")])
    for module in (basics, advanced):
        complete_module(sophie, module)  # lessons only: the quiz is still required
    assert not Certificate.objects.filter(learner=sophie).exists()

    with django_capture_on_commit_callbacks(execute=True):  # as the request and its task
        pass_the_quiz(sophie, basics)
    module = Certificate.objects.get(learner=sophie, award=setting.module_award)
    assert [(row["code"], row["level"]) for row in module.context["competences"]] == [
        ("B1.1", "Appliquer"),
        ("B1.2", "Appliquer"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        pass_the_quiz(sophie, advanced)
    end = Certificate.objects.get(learner=sophie, award=setting.end_of_training_award)
    assert end.context["evaluation"]["competences_reached"] == 3
    assert ("B2.1", "Maîtriser") in [(r["code"], r["level"]) for r in end.context["competences"]]


def test_a_completion_waits_for_its_quiz_s_evidence_when_the_task_is_late(
    setting, sophie, django_capture_on_commit_callbacks
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")])
    complete_module(sophie, basics)
    # The evidence task is not run (a broker down at the submission's commit).
    with (
        patch("learners.tasks.enqueue") as broker_down,
        django_capture_on_commit_callbacks(execute=True),
    ):
        pass_the_quiz(sophie, basics)
    assert broker_down.called
    assert not Certificate.objects.filter(learner=sophie, award=setting.module_award).exists()

    # The beat's safety net, later.
    with (
        django_capture_on_commit_callbacks(execute=True),
        patch("learners.tasks.UNRECORDED_OUTCOME_GRACE", timedelta(0)),
    ):
        assert tasks.record_missed_outcomes() == 1
    module = Certificate.objects.get(learner=sophie, award=setting.module_award)
    assert ("B1.1", "Appliquer") in [(r["code"], r["level"]) for r in module.context["competences"]]


def test_a_retake_after_a_revocation_issues_nothing_new(
    setting, sophie, staff, django_capture_on_commit_callbacks
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")], max_attempts=None)
    complete_module(sophie, basics)
    with django_capture_on_commit_callbacks(execute=True):
        pass_the_quiz(sophie, basics)
    (issued,) = Certificate.objects.filter(learner=sophie, award=setting.module_award)
    services.revoke(issued, "Fraude constatée.", staff)

    # Passed again: its evidence is recorded, and the revocation stands.
    with django_capture_on_commit_callbacks(execute=True):
        pass_the_quiz(sophie, basics)
    assert not Certificate.objects.filter(learner=sophie, award=setting.module_award).valid()


def test_a_bulk_issue_leaves_a_learner_whose_quiz_evidence_is_pending_to_that_evidence(
    setting, sophie, staff, django_capture_on_commit_callbacks
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")])
    complete_module(sophie, basics)
    with (
        patch("learners.tasks.enqueue"),  # the evidence task is lost, as with a broker down
        django_capture_on_commit_callbacks(execute=True),
    ):
        pass_the_quiz(sophie, basics)
        services.start_bulk(setting.module_award, staff, BulkIssue.Mode.ISSUE)
    assert not Certificate.objects.filter(learner=sophie, award=setting.module_award).exists()

    with (
        django_capture_on_commit_callbacks(execute=True),
        patch("learners.tasks.UNRECORDED_OUTCOME_GRACE", timedelta(0)),
    ):
        tasks.record_missed_outcomes()
    module = Certificate.objects.get(learner=sophie, award=setting.module_award)
    assert ("B1.1", "Appliquer") in [(r["code"], r["level"]) for r in module.context["competences"]]


OPEN_ANSWER = {
    "type": "open",
    "competence": "B1.2",
    "level": "appliquer",
    "text": "Décrivez la gouvernance de votre lieu.",
    "explanation": "Attendus.",
}


def with_open_question(setting, trainer) -> ModulePage:
    module = set_quiz(setting.basics, [single("B1.1", "appliquer"), OPEN_ANSWER], max_attempts=None)
    module.owner = trainer
    module.save()
    return module


def passed_with_an_open_answer(setting, learner, trainer, run) -> ModulePage:
    """The learner completed « Les bases » and passed its quiz; her open answer waits."""
    basics = with_open_question(setting, trainer)
    complete_module(learner, basics)
    run(pass_the_quiz, learner, basics)
    return basics


def grade(trainer, learner, validated: bool, run) -> None:
    answer = Submission.objects.filter(learner=learner, status="pending").latest("pk")
    level = answer.competence.block.framework.levels.get(rank=3) if validated else None
    run(
        partial(assessments.grade_submission, validated=validated, level=level, comment=""),
        trainer,
        answer,
    )


def test_a_module_attestation_waits_for_its_open_answers_to_be_validated(
    setting, sophie, karim, run_on_commit
):
    passed_with_an_open_answer(setting, sophie, karim, run_on_commit)
    # The quiz's scored part passed and the module is complete; the trainer has not read
    # the open answer: an attestation now would freeze « — » for what it proves.
    assert not certificates_of(sophie, setting.module_award)

    grade(karim, sophie, validated=True, run=run_on_commit)

    (module,) = certificates_of(sophie, setting.module_award)
    # The level the trainer validated (rank 3), not « — ».
    assert ("B1.2", "Maîtriser") in [(r["code"], r["level"]) for r in module.context["competences"]]


def test_an_open_answer_sent_back_for_rework_holds_the_attestation_until_a_later_one_passes(
    setting, sophie, karim, run_on_commit
):
    basics = passed_with_an_open_answer(setting, sophie, karim, run_on_commit)

    grade(karim, sophie, validated=False, run=run_on_commit)
    assert not certificates_of(sophie, setting.module_award)
    assert not eligibility.eligible(sophie, setting.module_award)

    run_on_commit(pass_the_quiz, sophie, basics)  # the reworked answer, in a new attempt
    assert not certificates_of(sophie, setting.module_award)
    grade(karim, sophie, validated=True, run=run_on_commit)
    assert len(certificates_of(sophie, setting.module_award)) == 1


def test_a_bulk_issue_skips_a_learner_whose_open_answer_awaits_its_trainer(
    setting, sophie, karim, staff, run_on_commit
):
    passed_with_an_open_answer(setting, sophie, karim, run_on_commit)
    run_on_commit(services.start_bulk, setting.module_award, staff, BulkIssue.Mode.ISSUE)
    assert not certificates_of(sophie, setting.module_award)


def test_a_revoked_block_attestation_is_not_given_back_by_a_later_level_nor_a_bulk_issue(
    setting, camille, staff, run_on_commit
):
    run_on_commit(reach, camille, setting.framework, "B1.1", 2)
    run_on_commit(reach, camille, setting.framework, "B1.2", 2)
    (certificate,) = certificates_of(camille, setting.block_award)
    services.revoke(certificate, "Fraude à l'évaluation.", by=staff)

    run_on_commit(reach, camille, setting.framework, "B1.2", 3)  # a level raised later
    run_on_commit(services.start_bulk, setting.block_award, staff, BulkIssue.Mode.ISSUE)

    assert certificates_of(camille, setting.block_award) == [certificate]
    assert services.issue(camille, setting.block_award) == (certificate, False)


def test_a_rework_is_settled_by_a_later_pass_even_when_the_question_is_gone(
    setting, sophie, karim, run_on_commit
):
    basics = passed_with_an_open_answer(setting, sophie, karim, run_on_commit)
    grade(karim, sophie, validated=False, run=run_on_commit)
    # The author drops the open question; the learner passes what the quiz now asks.
    basics = set_quiz(basics, [single("B1.1", "appliquer")], max_attempts=None)

    run_on_commit(pass_the_quiz, sophie, basics)

    assert len(certificates_of(sophie, setting.module_award)) == 1


def test_an_ungraded_answer_holds_neither_a_block_attestation_nor_the_certificat_de_realisation(
    setting, sophie, karim, staff, run_on_commit
):
    passed_with_an_open_answer(setting, sophie, karim, run_on_commit)
    run_on_commit(complete_module, sophie, setting.advanced)  # the track is complete
    # They freeze no level the open answer proves (a block follows the ledger, which a
    # grading writes to with its own signal; a certificat de réalisation states hours).
    assert len(certificates_of(sophie, setting.completion_award)) == 1
    assert not certificates_of(sophie, setting.end_of_training_award)  # it states results
    run_on_commit(reach, sophie, setting.framework, "B1.2", 2)
    assert len(certificates_of(sophie, setting.block_award)) == 1
    run_on_commit(services.start_bulk, setting.block_award, staff, BulkIssue.Mode.ISSUE)
    assert len(certificates_of(sophie, setting.block_award)) == 1


def test_the_quiz_result_page_announces_the_attestation_the_quiz_earned(
    client, setting, sophie, run_on_commit
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")])
    complete_module(sophie, basics)
    attempt = assessments.start_attempt(sophie, basics)
    run_on_commit(assessments.submit_attempt, attempt, right_answers(attempt))
    (certificate,) = certificates_of(sophie, setting.module_award)

    client.force_login(sophie)
    page = client.get(f"/moi/quiz/{attempt.pk}/resultat/").text

    assert 'data-testid="certificates-earned"' in page
    assert "Vous avez obtenu une attestation" in page and certificate.award.title in page
    assert certificate.get_pdf_url() in page


def test_a_failed_retake_does_not_settle_a_rework(setting, sophie, karim, staff, run_on_commit):
    basics = passed_with_an_open_answer(setting, sophie, karim, run_on_commit)
    grade(karim, sophie, validated=False, run=run_on_commit)

    attempt = assessments.start_attempt(sophie, basics)
    run_on_commit(assessments.submit_attempt, attempt, {})  # nothing answered: failed
    assert not attempt.passed
    run_on_commit(services.start_bulk, setting.module_award, staff, BulkIssue.Mode.ISSUE)

    assert not certificates_of(sophie, setting.module_award)


def test_an_old_result_page_announces_neither_later_blocks_nor_a_name_correction(
    client, setting, sophie, staff, run_on_commit
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")])
    complete_module(sophie, basics)
    attempt = assessments.start_attempt(sophie, basics)
    run_on_commit(assessments.submit_attempt, attempt, right_answers(attempt))
    run_on_commit(reach, sophie, setting.framework, "B1.2", 2)  # a block attestation, later
    assert certificates_of(sophie, setting.block_award)
    (module_attestation,) = certificates_of(sophie, setting.module_award)
    client.force_login(sophie)
    url = f"/moi/quiz/{attempt.pk}/resultat/"

    page = client.get(url).text
    assert module_attestation.award.title in page
    assert setting.block_award.title not in page

    sophie.full_name = "Sophie Lefèvre-Martin"  # a name corrected
    sophie.save()
    run_on_commit(services.reissue, module_attestation, staff)
    assert 'data-testid="certificates-earned"' not in client.get(url).text
