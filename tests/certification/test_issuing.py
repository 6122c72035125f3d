"""Awards are issued when learners earn them, through learners' signals."""

import pytest

from certification import services
from certification.models import Award, Certificate
from tests.certification.conftest import complete_module, pdf_text, reach


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
    assert certificate.context["expires_on"] == services._iso_date(certificate.expires_at)


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
    assert certificate.context["issued_on"] == services._iso_date(certificate.issued_at)
