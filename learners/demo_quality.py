"""Demo quality record of the facilitator track: a spring session that ended months ago,
three of its former learners who answered the « à froid » survey, the trainer's
feedback and one line of the improvement log. Found again by natural keys, so
seeding twice creates nothing.
"""

import datetime

from django.utils import timezone

from courses.models import TrackPage
from courses.models.pages import Format
from learners.cold_surveys import due_date
from learners.models import TrackCompletion, User
from learners.quality_models import ColdSurvey, Feedback, ImprovementAction
from learners.session_models import Seat, TrainingSession

PAST_SESSION_TITLE = "Session de printemps (terminée)"
# (email, name, rating, usefulness, applied, comment)
ALUMNI = [
    (
        "aicha.diallo@example.org",
        "Aïcha Diallo",
        5,
        5,
        True,
        "J'ai mis en place un comité d'usagers, comme vu en formation.",
    ),
    ("julien.roux@example.org", "Julien Roux", 4, 3, True, ""),
    (
        "nathalie.blanc@example.org",
        "Nathalie Blanc",
        3,
        2,
        False,
        "Le module sur le modèle économique m'aurait été utile plus tôt dans le parcours.",
    ),
]
TRAINER_FEEDBACK = {
    "rating": 4,
    "strengths": "Un groupe très investi ; les études de cas de tiers-lieux ruraux ont porté.",
    "improvements": "Prévoir plus de temps pour le modèle économique.",
}
IMPROVEMENT = {
    "finding": "Deux retours à froid et le formateur jugent le modèle économique abordé trop tard.",
    "action": (
        "Avancer le module « Modèle économique » avant « Gouvernance » dès la prochaine session."
    ),
}


def seed(track: TrackPage, trainer: User | None) -> int:
    created = 0
    session, session_created = _past_session(track, trainer)
    created += session_created
    for email, name, rating, usefulness, applied, comment in ALUMNI:
        created += _alumnus(track, session, email, name, rating, usefulness, applied, comment)
    if (
        trainer is not None
        and not Feedback.objects.filter(
            session=session, author=trainer, respondent=Feedback.Respondent.TRAINER
        ).exists()
    ):
        Feedback.objects.create(
            track=track,
            session=session,
            respondent=Feedback.Respondent.TRAINER,
            author=trainer,
            author_name=trainer.display_name,
            **TRAINER_FEEDBACK,
        )
        created += 1
    _, action_created = ImprovementAction.objects.get_or_create(
        track=track,
        finding=IMPROVEMENT["finding"],
        defaults={
            "session": session,
            "source": ImprovementAction.Source.SATISFACTION,
            "action": IMPROVEMENT["action"],
            "status": ImprovementAction.Status.IN_PROGRESS,
        },
    )
    return created + action_created


def _past_session(track: TrackPage, trainer: User | None) -> tuple[TrainingSession, bool]:
    starts_on = timezone.localdate() - datetime.timedelta(days=130)
    session, created = TrainingSession.objects.get_or_create(
        track=track,
        title=PAST_SESSION_TITLE,
        defaults={
            "format": Format.ONLINE,
            "starts_on": starts_on,
            "ends_on": starts_on + datetime.timedelta(days=1),
            "online_link": "https://visio.example.org/campus-demo-printemps",
            "capacity": 12,
        },
    )
    if created and trainer is not None:
        session.trainers.add(trainer)
    return session, created


def _alumnus(track, session, email, name, rating, usefulness, applied, comment) -> int:
    learner = User.objects.filter(email=email).first()
    if learner is None:
        # Former learners of the demo: they have no password and never log in.
        learner = User.objects.create_user(email=email, password=None, full_name=name)
    completed_at = timezone.make_aware(
        datetime.datetime.combine(session.ends_on, datetime.time(17))
    )
    # Booked a fortnight ahead: a place given once half-days were over would leave them
    # « not registered yet » on the attendance sheet.
    fortnight_before = session.starts_on - datetime.timedelta(days=14)
    booked = timezone.make_aware(datetime.datetime.combine(fortnight_before, datetime.time(10)))
    Seat.objects.get_or_create(
        session=session,
        learner=learner,
        defaults={"status": Seat.Status.CONFIRMED, "requested_at": booked, "confirmed_at": booked},
    )
    TrackCompletion.objects.get_or_create(
        learner=learner, track=track, defaults={"completed_at": completed_at}
    )
    due_at = due_date(completed_at)
    _, created = ColdSurvey.objects.get_or_create(
        learner=learner,
        track=track,
        defaults={
            "session": session,
            "due_at": due_at,
            "sent_at": due_at,
            "answered_at": due_at + datetime.timedelta(days=2),
            "rating": rating,
            "usefulness": usefulness,
            "applied": applied,
            "comment": comment,
        },
    )
    return int(created)
