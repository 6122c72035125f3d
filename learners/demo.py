"""Demo accounts and organisation, all with the password `campus-demo`, and a journey.

The demo facilitator follows the facilitator track with some lessons done and
a few ledger entries, so that « Mon parcours » and the trainer's learner list
show something. Every step is idempotent.
"""

from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.db import transaction
from django.db.models import Q

from courses.models import LessonPage, Level, ModulePage, TrackPage
from learners import demo_assessments, demo_quality, demo_sessions, services
from learners.models import LedgerEntry, Organisation, User

DEMO_PASSWORD = "campus-demo"  # noqa: S105 - documented demo password, never used in production
DEMO_ORGANISATION = "Communauté de communes du Pays de Démo"

DEMO_ACCOUNTS = [
    {
        "email": "facilitatrice@example.org",
        "full_name": "Camille Martin",
        "role": User.Role.FACILITATOR,
        "description": "facilitatrice (apprenante)",
    },
    {
        "email": "formateur@example.org",
        "full_name": "Karim Benali",
        "role": User.Role.TRAINER,
        "description": "formateur",
    },
    {
        "email": "agent@example.org",
        "full_name": "Sophie Lefèvre",
        "role": User.Role.PUBLIC_AGENT,
        "job_title": "Chargée de mission développement local",
        "organisation": True,
        "description": f"agente publique, membre de « {DEMO_ORGANISATION} »",
    },
    {
        "email": "referente@example.org",
        "full_name": "Hélène Moreau",
        "role": User.Role.PUBLIC_AGENT,
        "job_title": "Directrice générale des services",
        "organisation": True,
        "manager": True,
        "description": f"référente de « {DEMO_ORGANISATION} »",
    },
    {
        "email": "admin@example.org",
        "full_name": "Équipe Campus",
        "role": User.Role.FACILITATOR,
        "staff": True,
        "description": "équipe de la plateforme (superutilisateur)",
    },
]


@transaction.atomic
def seed() -> int:
    created = 0
    organisation, org_created = Organisation.objects.get_or_create(
        name=DEMO_ORGANISATION,
        defaults={
            "kind": Organisation.Kind.EPCI,
            "departement": "23",
            "region": "75",
        },
    )
    created += org_created
    for account in DEMO_ACCOUNTS:
        if User.objects.filter(email=account["email"]).exists():
            continue
        user = User.objects.create_user(
            email=account["email"],
            password=DEMO_PASSWORD,
            full_name=account["full_name"],
            role=account["role"],
            job_title=account.get("job_title", ""),
            organisation=organisation if account.get("organisation") else None,
            is_organisation_manager=account.get("manager", False),
            is_staff=account.get("staff", False),
            is_superuser=account.get("staff", False),
        )
        # Demo accounts log in straight away: their address counts as confirmed.
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        created += 1
    created += seed_journey()
    # Recomputed rather than created: the track pages show figures straight away,
    # and a second seed still reports nothing new.
    call_command("refresh_indicators", verbosity=0)
    return created


DEMO_LEARNER = "facilitatrice@example.org"
DEMO_TRAINER = "formateur@example.org"
DEMO_TRACK = "piloter-un-tiers-lieu"
# (competence code, level rank, source): a positioning test at entry, then one
# validation by the trainer after the first module.
DEMO_EVIDENCE = [
    ("B1.1", 1, LedgerEntry.Source.POSITIONING),
    ("B2.1", 1, LedgerEntry.Source.POSITIONING),
    ("B1.4", 1, LedgerEntry.Source.POSITIONING),
    ("B1.1", 3, LedgerEntry.Source.TRAINER),
]


def seed_journey() -> int:
    """Enrol the demo facilitator in the facilitator track, with progress and evidence.

    Does nothing when the track (built from data/demo/) or the accounts are missing.
    """
    track = TrackPage.objects.filter(slug=DEMO_TRACK).select_related("framework").first()
    learner = User.objects.filter(email=DEMO_LEARNER).first()
    trainer = User.objects.filter(email=DEMO_TRAINER).first()
    if track is None or learner is None:
        return 0
    created = 0
    modules = list(ModulePage.objects.live().child_of(track).order_by("path"))
    if trainer is not None:
        # The demo trainer authors the track's modules, so his learner list is not empty,
        # and their lessons: Wagtail lets only a page's owner (or a moderator) edit it.
        created += ModulePage.objects.filter(
            pk__in=[m.pk for m in modules], owner__isnull=True
        ).update(owner=trainer)
        below_his_modules = Q()
        for path in (
            ModulePage.objects.filter(owner=trainer).child_of(track).values_list("path", flat=True)
        ):
            below_his_modules |= Q(path__startswith=path)
        if below_his_modules:
            created += LessonPage.objects.filter(below_his_modules, owner__isnull=True).update(
                owner=trainer
            )
    _, enrolled = services.enrol(learner, track)
    created += enrolled
    # The first module done, and the first lesson of the next one it opens.
    if modules:
        first, *others = modules
        for lesson in first.lessons():
            created += services.mark_lesson_done(learner, lesson)
        created += demo_assessments.pass_quiz(learner, first)
        opened = next((m for m in others if not services.missing_prerequisites(learner, m)), None)
        if opened is not None and (lesson := opened.lessons().first()) is not None:
            created += services.mark_lesson_done(learner, lesson)
    created += _seed_evidence(learner, trainer, track)
    created += demo_assessments.seed_open_answer(learner, modules)
    created += demo_sessions.seed(track, learner, trainer)
    created += demo_quality.seed(track, trainer)
    return created


def _seed_evidence(learner: User, trainer: User | None, track: TrackPage) -> int:
    # The first quiz, passed just before, wrote assessment entries of its own.
    earlier = LedgerEntry.objects.for_learner(learner).exclude(source=LedgerEntry.Source.ASSESSMENT)
    if track.framework is None or earlier.exists():
        return 0
    competences = {c.code: c for c in track.framework.competences()}
    levels = {level.rank: level for level in Level.objects.filter(framework=track.framework)}
    created = 0
    for code, rank, source in DEMO_EVIDENCE:
        if code not in competences or rank not in levels:
            continue
        if source != LedgerEntry.Source.TRAINER:
            services.record_evidence(
                learner, competences[code], levels[rank], source, source_reference="demo"
            )
        elif trainer is not None:
            services.record_observation(
                trainer,
                learner,
                competences[code],
                levels[rank],
                "Observée lors de l'accueil d'un groupe de visiteurs : présente le projet du "
                "lieu et son histoire avec aisance.",
            )
        else:
            continue
        created += 1
    return created
