"""Demo awards, and certificates the demo accounts earned through the real journey.

The certificates are not created directly: the demo learners complete lessons and
receive trainer validations through learners' services, whose signals make the
receivers issue them, as on the live platform; what was earned before the awards
existed is issued by the same eligibility check. Safe to run twice.
"""

from django.db import transaction

from certification import services
from certification.models import Award, Certificate
from courses.models import Framework, ModulePage, TrackPage
from learners import services as learners
from learners.demo import DEMO_ACCOUNTS
from learners.demo_assessments import pass_quiz
from learners.models import LedgerEntry, User

FACILITATORS_TRACK = "piloter-un-tiers-lieu"
AGENTS_TRACK = "sensibilisation-agents-publics"
CERTIFICATION_CODE = "RS5142"
DEMO_EVIDENCE = "démo : validation par observation"

SIGNATORY = {"signatory_name": "Claire Dubois", "signatory_title": "Directrice pédagogique"}


def _award(kind: str, target: dict, title: str, criteria: str, **extra) -> int:
    _, created = Award.objects.get_or_create(
        kind=kind, **target, defaults={"title": title, "criteria": criteria, **SIGNATORY, **extra}
    )
    return int(created)


def _track_awards(track: TrackPage, *, awareness: bool) -> int:
    created = 0
    if awareness:
        created += _award(
            Award.Kind.AWARENESS,
            {"track": track},
            "Attestation de sensibilisation aux tiers-lieux",
            "Avoir suivi l'ensemble des modules du parcours de sensibilisation.",
        )
    created += _award(
        Award.Kind.END_OF_TRAINING,
        {"track": track},
        f"Attestation de fin de formation — {track.title}",
        "Avoir achevé tous les modules du parcours ; l'attestation reprend les objectifs, "
        "la nature, la durée et les résultats de l'évaluation des acquis.",
    )
    created += _award(
        Award.Kind.COMPLETION,
        {"track": track},
        f"Certificat de réalisation — {track.title}",
        "Avoir réalisé l'action de formation dans son intégralité.",
    )
    return created


def seed_awards() -> int:
    created = 0
    facilitators = TrackPage.objects.filter(slug=FACILITATORS_TRACK).first()
    if facilitators is not None:
        for module in ModulePage.objects.child_of(facilitators).order_by("path"):
            created += _award(
                Award.Kind.MODULE,
                {"module": module},
                f"Attestation de réussite — {module.title}",
                "Avoir achevé toutes les leçons du module et réussi son évaluation.",
            )
        created += _track_awards(facilitators, awareness=False)
    framework = Framework.objects.latest_of(CERTIFICATION_CODE)
    if framework is not None:
        for block in framework.blocks.order_by("order"):
            created += _award(
                Award.Kind.BLOCK,
                {"block": block},
                f"Bloc {block.code} — {block.title}",
                "Chaque compétence du bloc validée au niveau attendu par le référentiel.",
            )
        created += _award(
            Award.Kind.CERTIFICATION,
            {"framework": framework},
            f"{framework.code} — {framework.title}",
            "Tous les blocs de compétences du référentiel validés.",
        )
    agents = TrackPage.objects.filter(slug=AGENTS_TRACK).first()
    if agents is not None:
        created += _track_awards(agents, awareness=True)
    return created


def _complete_modules(learner: User, track: TrackPage, modules: list[ModulePage]) -> None:
    learners.enrol(learner, track)
    for module in modules:
        for lesson in module.lessons():
            learners.mark_lesson_done(learner, lesson)
        # Modules with a quiz complete once it is passed: the demo passes it for real.
        pass_quiz(learner, module)


def _facilitator_journey(facilitator: User, trainer: User | None) -> None:
    track = TrackPage.objects.filter(slug=FACILITATORS_TRACK).first()
    framework = Framework.objects.latest_of(CERTIFICATION_CODE)
    if track is None or framework is None:
        return
    first_module = ModulePage.objects.live().child_of(track).order_by("path").first()
    if first_module is not None:
        _complete_modules(facilitator, track, [first_module])
    # Block B1 validated by a trainer's observations, once.
    if LedgerEntry.objects.filter(learner=facilitator, source_reference=DEMO_EVIDENCE).exists():
        return
    block = framework.blocks.order_by("order").first()
    target = framework.levels.filter(rank=framework.target_level_rank).first()
    if block is None or target is None:
        return
    for competence in block.competences.order_by("order"):
        learners.record_evidence(
            facilitator,
            competence,
            target,
            LedgerEntry.Source.TRAINER,
            validated_by=trainer,
            source_reference=DEMO_EVIDENCE,
            comment="Observé lors de l'animation d'un atelier de gouvernance partagée.",
        )


def _agent_journey(agent: User) -> None:
    track = TrackPage.objects.filter(slug=AGENTS_TRACK).first()
    if track is not None:
        # Tree order respects the prerequisites of the demo track.
        _complete_modules(agent, track, list(ModulePage.objects.live().child_of(track)))


def seed() -> int:
    """Awards, then the demo facilitator's and public agent's certificates."""
    with transaction.atomic():
        created = seed_awards()
    before = Certificate.objects.count()
    # Outside any transaction: learners' signals, and the issuing they trigger,
    # run on commit of each step, exactly as after a learner's request.
    facilitator = User.objects.filter(email="facilitatrice@example.org").first()
    if facilitator is not None:
        trainer = User.objects.filter(email="formateur@example.org").first()
        _facilitator_journey(facilitator, trainer)
    agent = User.objects.filter(email="agent@example.org").first()
    if agent is not None:
        _agent_journey(agent)
    _issue_what_was_earned_before_the_awards()
    return created + Certificate.objects.count() - before


def _issue_what_was_earned_before_the_awards() -> None:
    # learners' demo completes the facilitator's first module before the awards
    # above exist: its signal found nothing to issue then, and a second pass
    # through the journey sends none. Evaluating every award once they exist
    # issues what was earned, as a staff bulk issue would, and nothing twice.
    awards = list(Award.objects.active())
    emails = [account["email"] for account in DEMO_ACCOUNTS]
    for learner in User.objects.filter(email__in=emails).order_by("pk"):
        services.issue_if_eligible(learner, awards)
