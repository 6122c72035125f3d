"""Issuing, rendering, revoking and re-issuing certificates; bulk issuance.

Everything a certificate states is frozen into `Certificate.context` when it is
issued. Rendering reads only that context, so a PDF rendered again later says
the same thing, whatever happened to the profile, the pages or the framework.
"""

import datetime
import hashlib
import logging
import re
from decimal import Decimal
from enum import Enum
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.html import strip_tags
from django.utils.text import normalize_newlines
from django.utils.translation import gettext as _

from certification import rendering, tasks
from certification.models import Award, BulkIssue, BulkIssueChunk, Certificate
from courses.models import (
    Block,
    Competence,
    Framework,
    ModuleCompetence,
    ModulePage,
    TrackPage,
)
from courses.models.pages import Format
from learners import queries as learner_queries
from learners.activity import session_window, summarise
from learners.attendance import half_day_hours
from learners.dates import add_months
from learners.models import (
    Attempt,
    Enrolment,
    LedgerEntry,
    ModuleCompletion,
    TrackCompletion,
    User,
)
from learners.queries import block_validated, competence_map, validated_blocks
from learners.session_models import ActivityEvent, Attendance, Seat, TrainingSession

logger = logging.getLogger(__name__)

TRACK_KINDS = (Award.Kind.AWARENESS, Award.Kind.END_OF_TRAINING, Award.Kind.COMPLETION)
BULK_CHUNK_SIZE = 25
STALE_AFTER = datetime.timedelta(minutes=10)


# --- Dates --------------------------------------------------------------------------


def expiry_for(award: Award, issued_at: datetime.datetime) -> datetime.datetime | None:
    return add_months(issued_at, award.validity_months) if award.validity_months else None


def _iso_date(moment: datetime.datetime | None) -> str | None:
    return timezone.localdate(moment).isoformat() if moment else None


# --- Eligibility -------------------------------------------------------------------


def _framework_complete(learner: User, framework: Framework) -> bool:
    total = framework.blocks.count()
    return total > 0 and len(validated_blocks(learner, framework)) == total


def eligible(learner: User, award: Award, session: TrainingSession | None = None) -> bool:
    """Whether `learner` meets what earns `award`, from the facts learners records.

    A certificat de réalisation states what was done: for a learner with a seat in
    a session of the track, it needs some attendance in that session (`session`,
    or else the last one of theirs that is over), and waits while none is over.
    """
    if award.kind == Award.Kind.MODULE:
        return ModuleCompletion.objects.filter(learner=learner, module_id=award.module_id).exists()
    if award.kind == Award.Kind.BLOCK:
        return block_validated(learner, award.block)
    if award.kind == Award.Kind.CERTIFICATION:
        return _framework_complete(learner, award.framework)
    if not TrackCompletion.objects.filter(learner=learner, track_id=award.track_id).exists():
        return False
    if award.kind != Award.Kind.COMPLETION:
        return True
    session = session_of(learner, award, session)
    if session is None:
        # Self-paced, or a session not over yet: the session's staff issue it then.
        return not _seats(learner, award).exists()
    return learner.pk in attending_ids(session, [learner.pk])


def _seats(learner: User, award: Award):
    return Seat.objects.confirmed().filter(learner=learner, session__track_id=award.track_id)


def session_of(
    learner: User, award: Award, session: TrainingSession | None = None
) -> TrainingSession | None:
    """The session a track document of `learner` is issued for: `session` when given,
    else the last session of the award's track they held a confirmed seat in and
    that is over; None for other kinds and for self-paced learners."""
    if award.kind not in TRACK_KINDS:
        return None
    if session is not None:
        return session
    return (
        TrainingSession.objects.filter(
            pk__in=_seats(learner, award).values("session_id"),
            ends_on__lt=timezone.localdate(),
        )
        .order_by("-ends_on", "-pk")
        .first()
    )


def _has_online_parts(session: TrainingSession) -> bool:
    return session.format in (Format.ONLINE, Format.BLENDED)


def attending_ids(session: TrainingSession, learner_ids: list[int]) -> set[int]:
    """Those of `learner_ids` who attended `session` at all: present for a half-day,
    or active online during its dates when it has online parts. Two queries at most."""
    attended = set(
        Attendance.objects.filter(
            half_day__session=session,
            learner_id__in=learner_ids,
            status=Attendance.Status.PRESENT,
        ).values_list("learner_id", flat=True)
    )
    rest = [pk for pk in learner_ids if pk not in attended]
    if rest and _has_online_parts(session):
        start, end = session_window(session)
        attended |= set(
            ActivityEvent.objects.filter(learner_id__in=rest, at__gte=start, at__lt=end)
            .values_list("learner_id", flat=True)
            .distinct()
        )
    return attended


def seat_holder_ids(session: TrainingSession):
    """The learners holding a confirmed seat in `session`, as a subquery."""
    return Seat.objects.confirmed().filter(session=session).values("learner_id")


def candidate_learner_ids(award: Award, session: TrainingSession | None = None) -> list[int]:
    """Learners who may be eligible: every one who is, perhaps a few who are not yet.

    With a session, only its confirmed seat holders are candidates.
    """
    if award.kind == Award.Kind.MODULE:
        ids = ModuleCompletion.objects.filter(module_id=award.module_id).values("learner_id")
    elif award.kind in TRACK_KINDS:
        ids = TrackCompletion.objects.filter(track_id=award.track_id).values("learner_id")
    else:
        scope = (
            Competence.objects.filter(block=award.block)
            if award.kind == Award.Kind.BLOCK
            else Competence.objects.of_framework(award.framework)
        )
        counting = Competence.objects.counting_for(list(scope))
        ids = LedgerEntry.objects.filter(competence__in=counting).values("learner_id")
    learners = User.objects.filter(pk__in=ids, erased_at__isnull=True)
    if session is not None:
        learners = learners.filter(pk__in=seat_holder_ids(session))
    return list(learners.order_by("pk").values_list("pk", flat=True))


# --- The frozen context ---------------------------------------------------------------


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
        "start": _iso_date(start or end),
        "end": _iso_date(end),
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
        Attendance.objects.filter(
            half_day__session=session, learner=learner, status=Attendance.Status.PRESENT
        ).values_list("half_day_id", flat=True)
    )
    facts = {
        "id": session.pk,
        "title": session.title,
        "planned_hours": _hours(sum(half_day_hours(h) for h in half_days)) if half_days else None,
        "half_days_planned": len(half_days),
        "half_days_attended": sum(1 for h in half_days if h.pk in present),
        "attended_hours": _hours(sum(half_day_hours(h) for h in half_days if h.pk in present)),
    }
    if _has_online_parts(session):
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
        "start": _iso_date(start or end),
        "end": _iso_date(end),
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
            "holder": {"name": learner.display_name},
            "award": {
                "id": award.pk,
                "title": award.title,
                "kind": str(award.kind),
                "criteria": award.criteria,
            },
            "target": target,
            "framework": _framework_facts(facts.get("framework")),
            "competences": [] if award.kind == Award.Kind.COMPLETION else rows,
            "issued_on": _iso_date(issued_at),
            "expires_on": _iso_date(expiry_for(award, issued_at)),
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


# --- Issuing ------------------------------------------------------------------------


def issue(
    learner: User,
    award: Award,
    *,
    by: User | None = None,
    render: bool = True,
    session: TrainingSession | None = None,
) -> tuple[Certificate, bool]:
    """Issue `award` to `learner` once; a second call returns the existing certificate.

    A track document issued for `session` freezes that session's dates, modality
    and the hours the learner attended.

    The partial unique constraint (one valid certificate per learner and award)
    decides between concurrent calls. The PDF is rendered after commit, by a
    task, unless `render` is False (the caller renders it itself).
    """
    existing = Certificate.objects.valid().filter(learner=learner, award=award).first()
    if existing is not None:
        return existing, False
    issued_at = timezone.now()
    try:
        with transaction.atomic():
            certificate = Certificate.objects.create(
                learner=learner,
                award=award,
                context=freeze_context(learner, award, issued_at, session),
                issued_at=issued_at,
                expires_at=expiry_for(award, issued_at),
                issued_by=by,
            )
            if render:
                transaction.on_commit(partial(enqueue_render, certificate.pk))
    except IntegrityError:
        # Another request or worker issued it between our read and our insert.
        return Certificate.objects.valid().get(learner=learner, award=award), False
    logger.info("Issued certificate %s (%s) to user %s", certificate.pk, award, learner.pk)
    return certificate, True


def issue_if_eligible(learner: User, awards) -> list[Certificate]:
    """Issue each of `awards` the learner has earned; returns the certificates created."""
    created = []
    for award in awards:
        if eligible(learner, award):
            certificate, was_created = issue(learner, award)
            if was_created:
                created.append(certificate)
    return created


def evaluate_module(learner: User, module: ModulePage) -> list[Certificate]:
    return issue_if_eligible(
        learner, Award.objects.active().of_kind(Award.Kind.MODULE).filter(module=module)
    )


def evaluate_competence(learner: User, competence: Competence) -> list[Certificate]:
    """Block awards of the competence's block, then certifications of its framework."""
    block = competence.block
    awards = Award.objects.active().select_related("block__framework", "framework")
    created = issue_if_eligible(learner, awards.of_kind(Award.Kind.BLOCK).filter(block=block))
    created += issue_if_eligible(
        learner,
        awards.of_kind(Award.Kind.CERTIFICATION).filter(framework_id=block.framework_id),
    )
    return created


def evaluate_track(learner: User, track: TrackPage) -> list[Certificate]:
    return issue_if_eligible(
        learner, Award.objects.active().of_kind(*TRACK_KINDS).filter(track=track)
    )


# --- Rendering ------------------------------------------------------------------------


class RenderOutcome(Enum):
    RENDERED = "rendered"
    ALREADY_RENDERED = "already_rendered"
    BUSY = "busy"  # another process holds a fresh claim on it


def render_lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CERTIFICATE_RENDER_LEASE_SECONDS)


def enqueue_render(certificate_pk: int, countdown: int | None = None) -> bool:
    """Ask a worker to render the PDF; on a dead broker the certificate stays pending."""
    Certificate.objects.filter(pk=certificate_pk).update(render_enqueued_at=timezone.now())
    return tasks.enqueue(tasks.render_certificate, certificate_pk, countdown=countdown)


def render(certificate_pk: int) -> RenderOutcome:
    """Render and store the certificate's PDF unless it already has one.

    A compare-and-swap claim keeps two workers from rendering the same
    certificate; the file name is fixed per certificate, so a rerun after a crash
    replaces the same object instead of adding another.
    """
    claimed_at = timezone.now()
    claimed = (
        Certificate.objects.filter(pk=certificate_pk, pdf="")
        .filter(
            Q(render_claimed_at__isnull=True) | Q(render_claimed_at__lt=claimed_at - render_lease())
        )
        .update(render_claimed_at=claimed_at)
    )
    if not claimed:
        rendered = Certificate.objects.filter(pk=certificate_pk).exclude(pdf="").exists()
        return RenderOutcome.ALREADY_RENDERED if rendered else RenderOutcome.BUSY
    mine = Certificate.objects.filter(pk=certificate_pk, render_claimed_at=claimed_at)
    try:
        certificate = Certificate.objects.select_related("award").get(pk=certificate_pk)
        data = rendering.render_pdf(certificate)
        name = certificate.storage_name
        if default_storage.exists(name):
            default_storage.delete(name)  # left by a worker that died before recording it
        saved = default_storage.save(name, ContentFile(data))
    except BaseException:
        mine.update(render_claimed_at=None)
        raise
    stored = mine.filter(pdf="").update(
        pdf=saved,
        pdf_sha256=hashlib.sha256(data).hexdigest(),
        rendered_at=timezone.now(),
        render_claimed_at=None,
    )
    if not stored:
        # Our lease expired and another worker took over: its file is the one.
        if saved != name:
            default_storage.delete(saved)
        return RenderOutcome.BUSY
    return RenderOutcome.RENDERED


def render_or_defer(certificate_pk: int) -> RenderOutcome:
    """Render now; if another worker holds the claim, check back once its lease is over."""
    outcome = render(certificate_pk)
    if outcome is RenderOutcome.BUSY:
        enqueue_render(certificate_pk, countdown=int(render_lease().total_seconds()) + 1)
    return outcome


def regenerate_pdf(certificate: Certificate) -> None:
    """Render the PDF again from the same frozen context (e.g. after a template fix)."""
    _forget_pdf(certificate.pk)
    transaction.on_commit(partial(enqueue_render, certificate.pk))


def _forget_pdf(certificate_pk: int, rendered_before: datetime.datetime | None = None) -> bool:
    # The stored file stays until the new render replaces it under the same name.
    certificates = Certificate.objects.filter(pk=certificate_pk)
    if rendered_before is not None:
        certificates = certificates.filter(rendered_at__lt=rendered_before)
    return bool(
        certificates.update(
            pdf="", pdf_sha256="", rendered_at=None, render_enqueued_at=timezone.now()
        )
    )


def rerender_stale(now: datetime.datetime | None = None) -> int:
    """Enqueue again every valid certificate still without a PDF after ten minutes."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    pks = list(Certificate.objects.stale_renders(cutoff).values_list("pk", flat=True)[:1000])
    for pk in pks:
        if not enqueue_render(pk):
            break  # the broker is down: the next run tries again
    return len(pks)


# --- Lifecycle --------------------------------------------------------------------------


def revoke(certificate: Certificate, reason: str, by: User | None) -> bool:
    """Revoke a valid certificate; the reason is shown to whoever verifies it."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError("A revocation needs a reason.")
    revoked = Certificate.objects.filter(pk=certificate.pk, status=Certificate.Status.VALID).update(
        status=Certificate.Status.REVOKED,
        revoked_at=timezone.now(),
        revocation_reason=reason,
        revoked_by=by,
    )
    certificate.refresh_from_db()
    if revoked:
        logger.info("Certificate %s revoked by user %s", certificate.pk, getattr(by, "pk", None))
    return bool(revoked)


@transaction.atomic
def reissue(certificate: Certificate, by: User | None) -> Certificate:
    """Replace a valid certificate by a new one with a fresh context (e.g. a corrected name).

    The old certificate stays, marked superseded and pointing to its successor,
    so its code still verifies and says what replaced it. The validity period
    is not extended: a correction is not a renewal.
    """
    old = (
        # Lock only the certificate row: the holder may be gone (nullable join).
        Certificate.objects.select_for_update(of=("self",))
        .select_related("award", "learner")
        .get(pk=certificate.pk)
    )
    if old.status != Certificate.Status.VALID:
        raise ValueError("Only a valid certificate can be re-issued.")
    if old.learner is None:
        raise ValueError("The holder's account no longer exists.")
    # Free the one-valid-certificate slot before taking it.
    Certificate.objects.filter(pk=old.pk).update(status=Certificate.Status.SUPERSEDED)
    issued_at = timezone.now()
    # A correction keeps the session the certificate was issued for.
    frozen_session = (old.context.get("training") or {}).get("session") or {}
    session = TrainingSession.objects.filter(pk=frozen_session.get("id")).first()
    context = freeze_context(old.learner, old.award, issued_at, session)
    context["expires_on"] = _iso_date(old.expires_at)
    new = Certificate.objects.create(
        learner=old.learner,
        award=old.award,
        context=context,
        issued_at=issued_at,
        expires_at=old.expires_at,
        issued_by=by,
    )
    Certificate.objects.filter(pk=old.pk).update(superseded_by=new)
    transaction.on_commit(partial(enqueue_render, new.pk))
    certificate.refresh_from_db()
    return new


# --- Bulk issuance --------------------------------------------------------------------------


class BulkRefused(Exception):
    """A bulk request staff can correct: `str(error)` says what to change."""


def bulk_items(
    award: Award, mode: str = BulkIssue.Mode.ISSUE, session: TrainingSession | None = None
) -> list[int]:
    """What a bulk job would process: learner ids when issuing, certificate ids when
    regenerating, restricted to the session's confirmed seat holders when one is given.

    A session is a few dozen people, so its learners are checked for eligibility
    here: the job then counts exactly those who receive the award.
    """
    if mode == BulkIssue.Mode.ISSUE:
        items = candidate_learner_ids(award, session)
        if session is not None and award.kind == Award.Kind.COMPLETION:
            attended = attending_ids(session, items)
            return [pk for pk in items if pk in attended]
        if session is None or award.kind not in (Award.Kind.BLOCK, Award.Kind.CERTIFICATION):
            return items  # a module's or track's candidates hold the completion it asks for
        learners = User.objects.filter(pk__in=items).select_related("organisation")
        return [learner.pk for learner in learners.order_by("pk") if eligible(learner, award)]
    certificates = Certificate.objects.valid().filter(award=award)
    if session is not None:
        certificates = certificates.filter(learner__in=seat_holder_ids(session))
    return list(certificates.order_by("pk").values_list("pk", flat=True))


def check_session_fits(award: Award, session: TrainingSession) -> None:
    """Raise `BulkRefused` unless following the session's track can earn `award`."""
    if not Award.objects.for_track(session.track).filter(pk=award.pk).exists():
        raise BulkRefused(
            _(
                "The session « %(session)s » follows the track « %(track)s », which does not "
                "lead to « %(award)s ». Choose a session of the award's track."
            )
            % {"session": session, "track": session.track.title, "award": award.title}
        )


@transaction.atomic
def start_bulk(
    award: Award,
    by: User | None,
    mode: str = BulkIssue.Mode.ISSUE,
    session: TrainingSession | None = None,
) -> BulkIssue:
    """Issue (or re-render) `award` for every eligible learner, in chunks run by workers.

    With a session, only its confirmed seat holders are concerned; raises
    `BulkRefused` when the session's track does not lead to the award or when
    none of them is eligible (or, regenerating, holds the award).
    """
    if session is not None:
        check_session_fits(award, session)
    items = bulk_items(award, mode, session)
    if session is not None and not items:
        raise BulkRefused(
            _("No learner with a confirmed seat in this session meets the award's criteria.")
            if mode == BulkIssue.Mode.ISSUE
            else _("No learner with a confirmed seat in this session holds this award.")
        )
    job = BulkIssue.objects.create(
        award=award, session=session, mode=mode, requested_by=by, total=len(items)
    )
    BulkIssueChunk.objects.bulk_create(
        BulkIssueChunk(job=job, index=number, item_ids=items[start : start + BULK_CHUNK_SIZE])
        for number, start in enumerate(range(0, len(items), BULK_CHUNK_SIZE))
    )
    if not items:
        _finish_if_complete(job.pk)
    else:
        transaction.on_commit(partial(tasks.enqueue, tasks.dispatch_bulk_issue, job.pk))
    return job


def dispatch_bulk(job_pk: int, stale_before: datetime.datetime | None = None) -> int:
    """Enqueue the job's unfinished chunks (all of them, or those enqueued before a date)."""
    chunks = BulkIssueChunk.objects.filter(job_id=job_pk, done_at__isnull=True)
    if stale_before is not None:
        chunks = chunks.filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=stale_before))
    enqueued = 0
    for chunk_pk in chunks.order_by("index").values_list("pk", flat=True):
        BulkIssueChunk.objects.filter(pk=chunk_pk).update(enqueued_at=timezone.now())
        if not tasks.enqueue(tasks.process_bulk_chunk, chunk_pk):
            break
        enqueued += 1
    return enqueued


def resume_stale_bulk(now: datetime.datetime | None = None) -> int:
    """Enqueue again chunks of running jobs that no worker finished in ten minutes."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    return sum(
        dispatch_bulk(job_pk, stale_before=cutoff)
        for job_pk in BulkIssue.objects.filter(status=BulkIssue.Status.RUNNING).values_list(
            "pk", flat=True
        )
    )


def process_bulk_chunk(chunk_pk: int) -> bool:
    """Issue or re-render one chunk; False when it was already done (a redelivery)."""
    chunk = BulkIssueChunk.objects.select_related("job__award", "job__session").get(pk=chunk_pk)
    if chunk.done_at is not None:
        return False
    job, award = chunk.job, chunk.job.award
    if job.mode == BulkIssue.Mode.ISSUE:
        for learner in User.objects.filter(pk__in=chunk.item_ids).select_related("organisation"):
            # A quiz whose evidence is still being written would be frozen as « — »:
            # its own signal issues to that learner once it is (receivers), or a
            # later run of the job does (a broker outage is the only way to get here).
            if learner.erased_at is not None or learner_queries.evidence_pending(
                learner, _award_modules(award)
            ):
                continue
            if eligible(learner, award, job.session):
                certificate, _created = issue(learner, award, render=False, session=job.session)
                render_or_defer(certificate.pk)
    else:
        for certificate_pk in chunk.item_ids:
            # Rendered since the job started means this chunk ran before a crash.
            _forget_pdf(certificate_pk, rendered_before=job.created_at)
            render_or_defer(certificate_pk)
    with transaction.atomic():
        # Serialise chunk completions on the job row, so exactly one sees the last.
        BulkIssue.objects.select_for_update().filter(pk=job.pk).first()
        marked = BulkIssueChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
        if marked:
            BulkIssue.objects.filter(pk=job.pk).update(done=F("done") + len(chunk.item_ids))
            _finish_if_complete(job.pk)
    return bool(marked)


def _award_modules(award: Award) -> QuerySet | list | None:
    """The modules whose quizzes feed the award's frozen levels (None: any module)."""
    if award.module_id:
        return [award.module_id]
    if award.track_id:
        return ModulePage.objects.child_of(award.track)
    return None


def _finish_if_complete(job_pk: int) -> None:
    if not BulkIssueChunk.objects.filter(job_id=job_pk, done_at__isnull=True).exists():
        BulkIssue.objects.filter(pk=job_pk, status=BulkIssue.Status.RUNNING).update(
            status=BulkIssue.Status.DONE, finished_at=timezone.now()
        )
