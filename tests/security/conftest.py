"""One small world where every URL of the project has something real to point at.

Karim owns the module Camille answered and holds Camille's open answer; Léa owns
another; Camille holds a rendered certificate; Hélène's organisation has an
invitation batch; staff started a bulk issuance.
"""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils.timezone import localdate, now

from certification import keys
from certification import services as certification
from certification.models import Award, BulkIssue, Certificate, EvidencePack
from courses.authoring import ensure_authoring_setup
from courses.models import CatalogPage, Framework, HomePage, LessonPage, ModulePage, TrackPage
from courses.models.pages import Format
from learners import assessments
from learners import services as learners
from learners.models import (
    AccommodationRequest,
    Attempt,
    Invitation,
    InvitationBatch,
    Submission,
    User,
)
from learners.quality_models import ColdSurvey
from learners.session_models import Seat, TrainingSession
from tests.learners.factories import make_framework, make_module, make_track
from tests.learners.quiz_helpers import right_answers, set_quiz

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"

OPEN_QUESTION = {
    "type": "open",
    "competence": "B1.1",
    "level": "appliquer",
    "text": "Décrivez votre lieu.",
    "explanation": "Attendus.",
}


@dataclass
class World:
    framework: Framework
    home: HomePage
    catalogue: CatalogPage
    track: TrackPage
    module: ModulePage  # Karim's, with an open question Camille answered
    other_module: ModulePage  # Léa's
    lesson: LessonPage
    attempt: Attempt  # Camille's, submitted
    submission: Submission  # Camille's open answer, with a PDF, in Karim's module
    award: Award
    certificate: Certificate  # Camille's, rendered
    bulk: BulkIssue
    batch: InvitationBatch  # Hélène's organisation's
    invitation: Invitation
    kid: str
    sophie: User  # the agent a manager may (or may not) remove
    evidence_pack: EvidencePack  # a ready ZIP of a session of the track
    accommodation: AccommodationRequest  # Camille's, in the track
    training_session: TrainingSession  # upcoming, of the track
    seat: Seat  # Camille's place in it
    cold_survey: ColdSurvey  # Camille's « à froid » survey of the track
    attended_session: TrainingSession  # Karim trains it; Camille has a confirmed seat
    attendance_token: str  # Camille's personal sign-in link to it


@pytest.fixture
def eager_tasks():
    """Run tasks in-process, as the embedded mode does, even when CI sets a broker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def isolated(settings, tmp_path):
    """Each test keeps its media and issuer key in its own folder, and starts
    with an empty cache (rate-limit counters live there)."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    cache.clear()
    yield settings
    cache.clear()


@pytest.fixture
def world(
    isolated,
    eager_tasks,
    django_capture_on_commit_callbacks,
    camille,
    dominique,
    karim,
    lea,
    sophie,
    helene,
    marc,
    staff,
) -> World:
    framework = make_framework()
    track = make_track(framework, "Piloter un tiers-lieu (sécurité)")
    module = make_module(track, "Les bases", lessons=1, targets=[("B1.1", 2)], owner=karim)
    other_module = make_module(track, "Conclure", lessons=1, targets=[("B1.2", 2)], owner=lea)
    ensure_authoring_setup()  # trainers get Wagtail admin access, as in production
    module = set_quiz(module, [OPEN_QUESTION])
    learners.enrol(camille, track)
    attempt = assessments.start_attempt(camille, module)
    upload = SimpleUploadedFile("piece.pdf", PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        assessments.submit_attempt(
            attempt, right_answers(attempt), {attempt.questions[0]["id"]: upload}
        )
    award = Award.objects.create(
        kind=Award.Kind.MODULE,
        title="Attestation — Les bases",
        criteria="Avoir achevé le module.",
        module=module,
    )
    certificate, _ = certification.issue(camille, award, render=False)
    certification.render(certificate.pk)
    certificate.refresh_from_db()
    batch = InvitationBatch.objects.create(
        organisation=helene.organisation, invited_by=helene, total=1
    )
    invitation = Invitation.objects.create(
        batch=batch, organisation=helene.organisation, email="anne@example.org", sent_at=now()
    )
    keys.generate()
    return World(
        framework=framework,
        home=HomePage.objects.get(),
        catalogue=CatalogPage.objects.get(),
        track=track,
        module=module,
        other_module=other_module,
        lesson=module.lessons()[0],
        attempt=attempt,
        submission=Submission.objects.get(learner=camille),
        award=award,
        certificate=certificate,
        bulk=BulkIssue.objects.create(award=award, requested_by=staff),
        batch=batch,
        invitation=invitation,
        kid=keys.published_keys()[0]["kid"],
        sophie=sophie,
        evidence_pack=make_evidence_pack(track, staff),
        accommodation=AccommodationRequest.objects.create(
            learner=camille, track=track, need="Sous-titres pour les vidéos."
        ),
        training_session=(training_session := make_training_session(track)),
        seat=Seat.objects.create(
            session=training_session, learner=camille, status=Seat.Status.CONFIRMED
        ),
        cold_survey=ColdSurvey.objects.create(learner=camille, track=track, due_at=now()),
        attended_session=(attended := make_attended_session(track, karim, camille)),
        attendance_token=attended.seats.get().attendance_token,
    )


def make_attended_session(track: TrackPage, trainer: User, learner: User) -> TrainingSession:
    day = localdate()
    session = TrainingSession.objects.create(
        track=track, format=Format.BLENDED, starts_on=day, ends_on=day, capacity=5, place_name="Die"
    )
    session.trainers.add(trainer)
    Seat.objects.create(session=session, learner=learner, status=Seat.Status.CONFIRMED)
    return session


def make_training_session(track: TrackPage) -> TrainingSession:
    day = localdate() + timedelta(days=30)
    return TrainingSession.objects.create(
        track=track, format=Format.ONLINE, starts_on=day, ends_on=day, capacity=5
    )


def make_evidence_pack(track: TrackPage, by: User) -> EvidencePack:
    """A ready pack, its ZIP written directly: building a real one is the evidence tests' job."""
    day = localdate()
    session = TrainingSession.objects.create(
        track=track, format=Format.ONLINE, starts_on=day, ends_on=day, capacity=5
    )
    pack = EvidencePack.objects.create(
        session=session, requested_by=by, status=EvidencePack.Status.DONE, total=1, done=1
    )
    pack.file.save("pack.zip", ContentFile(b"PK\x05\x06" + bytes(18)))
    return pack


@pytest.fixture
def personas(camille, dominique, sophie, karim, lea, helene, marc, staff) -> dict[str, User]:
    return {
        "camille": camille,
        "dominique": dominique,
        "sophie": sophie,
        "karim": karim,
        "lea": lea,
        "helene": helene,
        "marc": marc,
        "staff": staff,
    }
