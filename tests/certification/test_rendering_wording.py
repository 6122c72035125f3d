"""What each certificate says, read back from its real PDF: who awards what, and how long."""

import pytest

from certification import services
from certification.models import Award, Certificate
from certification.templatetags.certification_tags import hours
from courses.models import Framework
from learners import assessments
from tests.certification.conftest import complete_module, pdf_text, reach
from tests.learners.factories import make_module, make_track
from tests.learners.quiz_helpers import right_answers, set_quiz, single

RS = "Répertoire spécifique (France compétences)"
CERTIFIER = "Coopérative des Tiers-Lieux"


@pytest.fixture
def certifying(setting) -> Framework:
    """The setting's framework as the RS5142 note describes it: an RS certification
    whose certifier is not the platform."""
    Framework.objects.filter(pk=setting.framework.pk).update(
        code="RS5142", title="Piloter un tiers-lieu", kind=RS, awarding_body=CERTIFIER
    )
    setting.framework.refresh_from_db()
    return setting.framework


def rendered_text(certificate: Certificate) -> str:
    """The PDF's text with its line breaks and non-breaking spaces as plain spaces, and
    words broken at a hyphen at the end of a line joined again."""
    services.render(certificate.pk)
    certificate.refresh_from_db()
    return " ".join(pdf_text(certificate).split()).replace("- ", "-")


def issued(learner, award) -> Certificate:
    return services.issue(learner, award, render=False)[0]


# --- The framework attestation (Award.Kind.CERTIFICATION) -------------------------------


def test_the_framework_attestation_names_the_certifier_and_never_claims_to_award_it(
    setting, certifying, camille
):
    for code in ("B1.1", "B1.2", "B2.1"):
        reach(camille, certifying, code, 2)
    certificate = issued(camille, setting.certification_award)

    assert certificate.context["framework"]["awarding_body"] == CERTIFIER
    assert certificate.context["framework"]["registry"] == "Répertoire spécifique"
    text = rendered_text(certificate)
    assert (
        "a validé l'ensemble des compétences du référentiel RS5142 « Piloter un tiers-lieu »"
        in text
    )
    assert "Certification enregistrée au Répertoire spécifique, délivrée par " + CERTIFIER in text
    assert "ne vaut pas certification" in text
    assert "a obtenu" not in text
    assert "Certification TEST" not in text  # the award's own title claims nothing here


def test_a_framework_attestation_without_a_known_certifier_still_claims_no_certification(
    setting, camille
):
    text = rendered_text(issued(camille, setting.certification_award))
    assert "a validé l'ensemble des compétences du référentiel TEST" in text
    assert "ne vaut pas certification" in text
    assert "délivrée par" not in text


# --- The block attestation --------------------------------------------------------------


def test_a_block_attestation_records_progress_toward_the_certification(
    setting, certifying, camille
):
    text = rendered_text(issued(camille, setting.block_award))
    assert "Attestation de validation de bloc" not in text
    assert "a obtenu" not in text
    assert "a atteint le niveau visé dans chaque compétence du bloc B1 « Bloc B1 »" in text
    assert "du référentiel RS5142 « Piloter un tiers-lieu », en vue de la certification" in text
    assert "délivrée par " + CERTIFIER in text
    assert "ne vaut pas certification" in text


# --- The certificat de réalisation: the action and its provider -----------------------------


def test_the_certificat_de_realisation_names_the_action_and_the_providers_nda_siret_and_city(
    setting, sophie, settings
):
    settings.CAMPUS_PROVIDER_NDA = "11 26 54321 26"
    settings.CAMPUS_PROVIDER_SIRET = "123 456 789 00012"
    settings.CAMPUS_PROVIDER_CITY = "Die"
    Award.objects.filter(pk=setting.completion_award.pk).update(
        title="Certificat de réalisation — modèle maison"
    )
    setting.completion_award.refresh_from_db()
    certificate = issued(sophie, setting.completion_award)
    settings.CAMPUS_PROVIDER_CITY = "Guéret"  # frozen at issue: a later change is not printed

    assert certificate.context["provider"] == {
        "name": "Campus Tiers-Lieux",
        "nda": "11 26 54321 26",
        "siret": "123 456 789 00012",
        "city": "Die",
    }
    text = rendered_text(certificate)
    assert "a réalisé l'action de formation Piloter un tiers-lieu (test)" in text
    assert "modèle maison" not in text
    assert "11 26 54321 26" in text
    assert "SIRET 123 456 789 00012" in text
    assert "Fait à Die, le " in text
    assert "Guéret" not in text


def test_without_nda_siret_or_city_the_certificate_prints_none_of_them(setting, sophie):
    certificate = issued(sophie, setting.completion_award)
    assert certificate.context["provider"] == {"name": "Campus Tiers-Lieux"}
    text = rendered_text(certificate)
    assert "SIRET" not in text and "déclaration d'activité" not in text
    assert "Fait le " in text


# --- Durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, label",
    [
        ("0.5", "0,5 heure"),
        ("1", "1 heure"),
        ("1.0", "1 heure"),
        ("1.5", "1,5 heure"),
        ("2", "2 heures"),
        ("2.5", "2,5 heures"),
        ("140.0", "140 heures"),
        ("0", "0 heure"),
    ],
)
def test_hours_are_singular_below_two_as_french_writes_them(value, label):
    assert hours(value) == label


def test_a_module_attestation_gives_its_estimated_duration_in_the_singular(setting, camille):
    complete_module(camille, setting.basics)
    text = rendered_text(issued(camille, setting.module_award))
    assert "Durée estimée : 0,5 heure" in text


def test_a_self_paced_track_document_gives_the_estimated_duration_of_the_modules_completed(
    setting, sophie
):
    complete_module(sophie, setting.basics)
    complete_module(sophie, setting.advanced)
    certificate = issued(sophie, setting.completion_award)

    assert certificate.context["training"]["estimated_hours"] == "1.0"
    assert "session" not in certificate.context["training"]
    text = rendered_text(certificate)
    assert "Durée estimée des modules achevés : 1 heure" in text
    assert "Durée : 10 heures" not in text
    assert "réalisée" not in text


def test_a_certificate_frozen_before_these_keys_existed_still_renders(setting, sophie):
    certificate = issued(sophie, setting.completion_award)
    context = certificate.context
    context["training"].pop("estimated_hours")
    context["provider"] = {"name": "Campus Tiers-Lieux"}
    context["framework"] = {
        key: context["framework"][key] for key in ("code", "version", "title", "awarding_body")
    }
    Certificate.objects.filter(pk=certificate.pk).update(context=context)

    text = rendered_text(certificate)
    assert "Durée prévue : 10 heures" in text
    assert "Fait le " in text


# --- The attestation de fin de formation: the evaluation, always ---------------------------


def test_the_end_of_training_attestation_gives_evaluation_results_even_without_competences(
    sophie,
):
    framework = Framework.objects.create(code="SANS", version="1", title="Sans compétences")
    track = make_track(framework, "Parcours sans compétences")
    module = make_module(track, "Seul module", lessons=1)
    award = Award.objects.create(
        kind=Award.Kind.END_OF_TRAINING, title="Fin", criteria="Parcours achevé.", track=track
    )
    complete_module(sophie, module)
    certificate = issued(sophie, award)

    assert certificate.context["competences"] == []
    text = rendered_text(certificate)
    assert "Résultats de l'évaluation des acquis" in text
    assert "Modules achevés : 1 sur 1" in text
    assert "compétences au niveau attendu" not in text


def test_the_end_of_training_attestation_gives_the_quiz_results(
    setting, sophie, django_capture_on_commit_callbacks
):
    basics = set_quiz(setting.basics, [single("B1.1", "appliquer")])
    complete_module(sophie, basics)
    attempt = assessments.start_attempt(sophie, basics)
    with django_capture_on_commit_callbacks(execute=True):  # its evidence, written by a task
        assessments.submit_attempt(attempt, right_answers(attempt))
    complete_module(sophie, setting.advanced)
    certificate = issued(sophie, setting.end_of_training_award)

    assert certificate.context["evaluation"]["quizzes"] == [
        {"module": "Les bases", "score": 100, "passed": True}
    ]
    text = rendered_text(certificate)
    assert "Modules achevés : 2 sur 2" in text
    assert "quiz de fin de module : Les bases 100 % (réussi)" in text
    assert "compétences au niveau attendu : 1 sur 3" in text
