"""What a certificate states, frozen when it is issued (`Certificate.context`).

Rendering reads only this context, so a PDF rendered again later says the same
thing, whatever happened since to the profile, the pages or the framework.
"""

import datetime
import re
from decimal import Decimal

from django.conf import settings
from django.utils import translation
from django.utils.html import strip_tags
from django.utils.text import normalize_newlines

from certification.eligibility import expiry_for, iso_date, session_of
from certification.models import Award
from courses.models import (
    Block,
    Competence,
    Framework,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)
from learners.activity import has_online_parts, session_window, summarise
from learners.attendance import half_day_hours
from learners.models import (
    Attempt,
    Enrolment,
    ModuleCompletion,
    TrackCompletion,
    User,
)
from learners.queries import competence_map
from learners.session_models import Attendance, TrainingSession


def _plain_lines(html: str) -> list[str]:
    """Rich text as one line per paragraph or list item: the PDF prints no HTML."""
    text = re.sub(r"</(p|li|h\d)>|<br\s*/?>", "\n", html or "", flags=re.IGNORECASE)
    return [
        line.strip() for line in normalize_newlines(strip_tags(text)).split("\n") if line.strip()
    ]


def _hours(value) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.1")))


def _competence_rows(learner: User, competences: list[Competence]) -> list[dict]:
    """Code, title and level reached for each competence, in the order given."""
    frameworks = Framework.objects.filter(
        pk__in={competence.block.framework_id for competence in competences}
    )
    states = {
        state.competence.pk: state
        for fmap in competence_map(learner, frameworks)
        for block in fmap.blocks
        for state in block.competences
    }
    rows = []
    for competence in competences:
        state = states.get(competence.pk)
        rows.append(
            {
                "code": competence.code,
                "title": competence.title,
                "block": competence.block.code,
                "level": state.level.label if state and state.level else None,
                "level_rank": state.rank if state else 0,
                "target_reached": bool(state and state.reached),
            }
        )
    return rows


# Which register a certification is recorded in, from the framework's code or kind:
# documents name it so that nobody reads the platform as the one awarding it.
REGISTRIES = (
    (re.compile(r"^RS\d+$|r[ée]pertoire sp[ée]cifique", re.IGNORECASE), "Répertoire spécifique"),
    (
        re.compile(r"^RNCP\d+$|\bRNCP\b|r[ée]pertoire national", re.IGNORECASE),
        "Répertoire national des certifications professionnelles",
    ),
)


def _registry(framework: Framework) -> str:
    for pattern, name in REGISTRIES:
        if pattern.search(framework.code) or pattern.search(framework.kind):
            return name
    return ""


def _framework_facts(framework: Framework | None) -> dict | None:
    if framework is None:
        return None
    return {
        "code": framework.code,
        "version": framework.version,
        "title": framework.title,
        "kind": framework.kind,
        "registry": _registry(framework),
        "awarding_body": framework.awarding_body,
    }


def _provider_facts() -> dict:
    """The provider as the ministry's certificat de réalisation names it; the
    identifiers only when configured."""
    provider = {"name": settings.CAMPUS_PROVIDER_NAME}
    for key in ("nda", "siret", "city"):
        value = getattr(settings, f"CAMPUS_PROVIDER_{key.upper()}", "")
        if value:
            provider[key] = value
    return provider


def _first_enrolment(learner: User, **target) -> datetime.datetime | None:
    enrolment = Enrolment.objects.for_learner(learner).filter(**target).order_by("enrolled_at")
    return enrolment.values_list("enrolled_at", flat=True).first()


def _module_facts(learner: User, module: ModulePage) -> tuple[dict, list[Competence]]:
    track = TrackPage.objects.parent_of(module).first()
    start = (
        Enrolment.objects.for_learner(learner)
        .covering_module(module)
        .order_by("enrolled_at")
        .values_list("enrolled_at", flat=True)
        .first()
    )
    end = (
        ModuleCompletion.objects.filter(learner=learner, module=module)
        .values_list("completed_at", flat=True)
        .first()
    )
    targets = ModuleCompetence.objects.filter(module=module).select_related("competence__block")
    training = {
        "title": module.title,
        "start": iso_date(start or end),
        "end": iso_date(end),
        "duration_hours": _hours(Decimal(module.duration_minutes) / 60),
        "formats": [module.format],
    }
    framework = track.framework if track else None
    return {"training": training, "framework": framework}, [
        t.competence for t in targets.order_by("sort_order")
    ]


def _session_facts(learner: User, session: TrainingSession) -> dict:
    """What the learner actually attended of `session`, beside what was planned."""
    half_days = list(session.half_days.all())
    present = set(
        Attendance.objects.counted()
        .filter(half_day__session=session, learner=learner)
        .values_list("half_day_id", flat=True)
    )
    facts = {
        "id": session.pk,
        "title": session.title,
        "planned_hours": _hours(sum(half_day_hours(h) for h in half_days)) if half_days else None,
        "half_days_planned": len(half_days),
        "half_days_attended": sum(1 for h in half_days if h.pk in present),
        "attended_hours": _hours(sum(half_day_hours(h) for h in half_days if h.pk in present)),
    }
    if has_online_parts(session):
        facts["online_minutes"] = summarise(learner, *session_window(session)).minutes
    return facts


def _quiz_results(learner: User, modules: list[ModulePage]) -> list[dict]:
    """Each module's best submitted quiz score, in the track's order."""
    best: dict[int, tuple[int, bool]] = {}
    attempts = Attempt.objects.quizzes().filter(
        learner=learner, module__in=modules, status=Attempt.Status.SUBMITTED
    )
    for module_id, score, passed in attempts.values_list("module_id", "score", "passed"):
        if score is None:
            continue
        known = best.get(module_id, (-1, False))
        best[module_id] = (max(known[0], score), known[1] or bool(passed))
    return [
        {"module": module.title, "score": best[module.pk][0], "passed": best[module.pk][1]}
        for module in modules
        if module.pk in best
    ]


def _track_facts(
    learner: User, track: TrackPage, kind: str, session: TrainingSession | None
) -> tuple[dict, list[Competence]]:
    modules = list(ModulePage.objects.live().child_of(track).order_by("path"))
    completed = set(
        ModuleCompletion.objects.filter(learner=learner, module__in=modules).values_list(
            "module_id", flat=True
        )
    )
    start = _first_enrolment(learner, track=track)
    end = (
        TrackCompletion.objects.filter(learner=learner, track=track)
        .values_list("completed_at", flat=True)
        .first()
    )
    training = {
        "title": track.title,
        "start": iso_date(start or end),
        "end": iso_date(end),
        # The action's planned duration: printed as planned, never as done.
        "duration_hours": _hours(track.duration_hours),
        "formats": sorted({module.format for module in modules}),
    }
    if session is not None:
        # The action's dates and modality are the session's; its hours, those attended.
        training["start"] = session.starts_on.isoformat()
        training["end"] = session.ends_on.isoformat()
        training["formats"] = [session.format]
        training["session"] = _session_facts(learner, session)
    else:
        # Self-paced: nobody measured the hours, the modules' durations estimate them.
        minutes = sum(m.duration_minutes or 0 for m in modules if m.pk in completed)
        training["estimated_hours"] = _hours(Decimal(minutes) / 60)
    if kind in (Award.Kind.END_OF_TRAINING, Award.Kind.COMPLETION):
        # Both documents name the nature of the action (L6313-1, ministry model).
        training["nature"] = "action_de_formation"
    if kind == Award.Kind.END_OF_TRAINING:
        training["objectives"] = _plain_lines(track.objectives)
    competences = list(
        Competence.objects.filter(module_targets__module__in=modules)
        .select_related("block")
        .distinct()
        .order_by("block__order", "order", "code")
    )
    facts = {"training": training, "framework": track.framework, "modules": modules}
    facts["modules_completed"] = len(completed)
    return facts, competences


def freeze_context(
    learner: User,
    award: Award,
    issued_at: datetime.datetime,
    session: TrainingSession | None = None,
) -> dict:
    """Everything the certificate states, as it stands now; a track document issued
    for a session (given, or found by `session_of`) states that session's facts."""
    with translation.override("fr"):  # labels frozen into a French document
        facts: dict = {}
        target: dict
        competences: list[Competence] = []
        if award.kind == Award.Kind.MODULE:
            facts, competences = _module_facts(learner, award.module)
            target = {"type": "module", "title": award.module.title}
        elif award.kind == Award.Kind.BLOCK:
            block = Block.objects.select_related("framework").get(pk=award.block_id)
            competences = list(block.competences.select_related("block").order_by("order"))
            facts = {"framework": block.framework}
            target = {"type": "block", "code": block.code, "title": block.title}
        elif award.kind == Award.Kind.CERTIFICATION:
            framework = award.framework
            competences = list(framework.competences().select_related("block"))
            facts = {"framework": framework}
            target = {"type": "framework", "code": framework.code, "title": framework.title}
        else:
            session = session_of(learner, award, session)
            facts, competences = _track_facts(learner, award.track, award.kind, session)
            target = {"type": "track", "title": award.track.title}

        rows = _competence_rows(learner, competences) if competences else []
        context = {
            "version": 1,
            "language": "fr",
            # Never the sign-in address: issue() refuses a learner with no name.
            "holder": {"name": (learner.full_name or "").strip()},
            "award": {
                "id": award.pk,
                "title": award.title,
                "kind": str(award.kind),
                "criteria": award.criteria,
            },
            "target": target,
            "framework": _framework_facts(facts.get("framework")),
            "competences": [] if award.kind == Award.Kind.COMPLETION else rows,
            "issued_on": iso_date(issued_at),
            "expires_on": iso_date(expiry_for(award, issued_at)),
            "training": facts.get("training"),
            "provider": _provider_facts(),
            "signatory": {
                "name": award.signatory_name or settings.CAMPUS_PROVIDER_NAME,
                "title": award.signatory_title,
            },
        }
        if award.kind == Award.Kind.COMPLETION and learner.organisation_id:
            context["holder"]["organisation"] = learner.organisation.name
        if award.kind == Award.Kind.END_OF_TRAINING:
            # L6353-1 asks for the evaluation's results on every attestation de fin de
            # formation, a track without competences included.
            modules = facts.get("modules", [])
            context["evaluation"] = {
                "modules_completed": facts.get("modules_completed", 0),
                "modules_total": len(modules),
                "quizzes": _quiz_results(learner, modules),
                "competences_reached": sum(1 for row in rows if row["target_reached"]),
                "competences_total": len(rows),
            }
    return context
