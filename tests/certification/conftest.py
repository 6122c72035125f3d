"""A small track, its awards, and helpers to earn them the way learners do."""

from dataclasses import dataclass

import pytest

from certification.models import Award
from courses.models import Framework, ModulePage, TrackPage
from learners import services as learners
from learners.models import LedgerEntry, User
from tests.learners.factories import competence, level, make_framework, make_module, make_track


@dataclass
class Setting:
    framework: Framework
    track: TrackPage
    basics: ModulePage  # targets B1.1 and B1.2
    advanced: ModulePage  # targets B2.1
    module_award: Award
    block_award: Award  # B1
    certification_award: Award
    awareness_award: Award
    end_of_training_award: Award
    completion_award: Award


@pytest.fixture
def setting(db) -> Setting:
    framework = make_framework()
    track = make_track(framework, "Piloter un tiers-lieu (test)")
    basics = make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2), ("B1.2", 2)])
    advanced = make_module(track, "Approfondir", lessons=1, targets=[("B2.1", 2)])
    criteria = "Avoir achevé toutes les leçons du module."
    return Setting(
        framework=framework,
        track=track,
        basics=basics,
        advanced=advanced,
        module_award=Award.objects.create(
            kind=Award.Kind.MODULE,
            title="Attestation — Les bases",
            criteria=criteria,
            module=basics,
        ),
        block_award=Award.objects.create(
            kind=Award.Kind.BLOCK,
            title="Bloc B1 validé",
            criteria="Chaque compétence du bloc au niveau Appliquer.",
            block=framework.blocks.get(code="B1"),
            signatory_name="Claire Dubois",
            signatory_title="Directrice pédagogique",
        ),
        certification_award=Award.objects.create(
            kind=Award.Kind.CERTIFICATION,
            title="Certification TEST",
            criteria="Tous les blocs validés.",
            framework=framework,
            validity_months=36,
        ),
        awareness_award=Award.objects.create(
            kind=Award.Kind.AWARENESS,
            title="Attestation de sensibilisation",
            criteria="Parcours achevé.",
            track=track,
        ),
        end_of_training_award=Award.objects.create(
            kind=Award.Kind.END_OF_TRAINING,
            title="Attestation de fin de formation",
            criteria="Parcours achevé.",
            track=track,
        ),
        completion_award=Award.objects.create(
            kind=Award.Kind.COMPLETION,
            title="Certificat de réalisation",
            criteria="Parcours réalisé.",
            track=track,
        ),
    )


def complete_module(learner: User, module: ModulePage) -> None:
    """Enrol if needed and mark every lesson done, as the learner's clicks would."""
    track = TrackPage.objects.parent_of(module).first()
    learners.enrol(learner, track)
    for lesson in module.lessons():
        learners.mark_lesson_done(learner, lesson)


def reach(learner: User, framework: Framework, code: str, rank: int) -> LedgerEntry:
    return learners.record_evidence(
        learner, competence(framework, code), level(framework, rank), LedgerEntry.Source.TRAINER
    )


@pytest.fixture(autouse=True)
def eager_tasks(settings, tmp_path):
    """Run tasks in-process (as the embedded mode does) even when CI sets a broker,
    and keep each test's PDFs in its own media folder."""
    from config.celery import app

    settings.MEDIA_ROOT = tmp_path / "media"
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


def pdf_text(certificate) -> str:
    """The text of a certificate's stored PDF, as a reader would extract it."""
    from io import BytesIO

    from pypdf import PdfReader

    with certificate.pdf.open("rb") as handle:
        reader = PdfReader(BytesIO(handle.read()))
    return "\n".join(page.extract_text() for page in reader.pages)
