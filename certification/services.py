"""Issuing, rendering, revoking and re-issuing certificates; bulk issuance.

Who may hold an award is certification/eligibility.py's question; what a
certificate states is frozen into `Certificate.context` when it is issued
(certification/frozen_context.py), and rendering reads only that context.
"""

import copy
import datetime
import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from functools import partial

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from certification import rendering, tasks
from certification.eligibility import (
    LEVEL_FREE_KINDS,
    TRACK_KINDS,
    candidate_learner_ids,
    eligible,
    expiry_for,
    iso_date,
    seat_holder_ids,
)
from certification.frozen_context import freeze_context
from certification.models import Award, BulkIssue, BulkIssueChunk, Certificate
from courses.models import (
    Competence,
    ModulePage,
    TrackPage,
)
from learners import queries as learner_queries
from learners.activity import attending_ids
from learners.attendance import still_open_if_ending_from
from learners.models import (
    User,
)
from learners.session_models import Attendance, Seat, TrainingSession

logger = logging.getLogger(__name__)

BULK_CHUNK_SIZE = 25
STALE_AFTER = datetime.timedelta(minutes=10)


# --- Issuing ------------------------------------------------------------------------


# `issue`'s default expiry: the award's validity period, counted from the issue.
AWARD_PERIOD = object()


class ReissueRefused(Exception):
    """A re-issue that cannot be done: `str(error)` says why, for staff."""


def holder_name(learner: User) -> str:
    """The name a certificate prints: the profile's, never the sign-in address (which
    would then be public on the verification page and in the badge)."""
    return (learner.full_name or "").strip()


class HolderErased(ReissueRefused):
    """The account was erased since it was loaded: it earns nothing more."""

    def __init__(self, learner: User):
        super().__init__(_("The holder closed or erased their account: nothing was issued."))
        self.learner = learner


class HolderNameMissing(ReissueRefused):
    """The learner has no name on her profile: a certificate names its holder."""

    def __init__(self, learner: User):
        super().__init__(
            _(
                "This learner has no name on their profile, and a certificate prints its "
                "holder's name: it is issued once they give one."
            )
        )


def issue(
    learner: User,
    award: Award,
    *,
    by: User | None = None,
    render: bool = True,
    session: TrainingSession | None = None,
    despite_revocation: bool = False,
    expires_at: datetime.datetime | None | object = AWARD_PERIOD,
) -> tuple[Certificate, bool]:
    """Issue `award` to `learner` once; a second call returns the existing certificate,
    and so does a call after a revocation (the revoked certificate), unless staff
    deliberately issue it again (`despite_revocation`). The award's validity period
    counts from the issue unless `expires_at` is given.

    A track document issued for `session` freezes that session's dates, modality
    and the hours the learner attended.

    The partial unique constraint (one valid certificate per learner and award)
    decides between concurrent calls. The PDF is rendered after commit, by a
    task, unless `render` is False (the caller renders it itself).
    """
    existing = Certificate.objects.valid().filter(learner=learner, award=award).first()
    if existing is not None:
        return existing, False
    # A revocation stands (a fraud, an award given in error): no signal nor bulk job
    # gives the award back behind the back of whoever revoked it.
    revoked = (
        Certificate.objects.filter(learner=learner, award=award, status=Certificate.Status.REVOKED)
        .order_by("-pk")
        .first()
    )
    if revoked is not None and not despite_revocation:
        return revoked, False
    try:
        with transaction.atomic():
            # The account read again, locked: one erased since it was loaded (a bulk
            # chunk's learners, a signal's) earns nothing, and the name frozen is the
            # one the profile holds now. erase_account takes the same lock.
            learner = (
                User.objects.select_for_update(of=("self",))
                .select_related("organisation")
                .get(pk=learner.pk)
            )
            if learner.erased_at is not None:
                raise HolderErased(learner)
            if not holder_name(learner):
                raise HolderNameMissing(learner)
            issued_at = timezone.now()
            context = freeze_context(learner, award, issued_at, session)
            if expires_at is AWARD_PERIOD:
                expires_at = expiry_for(award, issued_at)
            else:
                context["expires_on"] = iso_date(expires_at)
            certificate = Certificate.objects.create(
                learner=learner,
                award=award,
                context=context,
                issued_at=issued_at,
                expires_at=expires_at,
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
    """Issue each of `awards` the learner has earned; returns the certificates created.

    Nothing is issued to a learner with no name on her profile: she is told so on her
    dashboard, and giving a name issues what she earned meanwhile (`issue_what_was_earned`).
    """
    created = []
    for award in awards:
        if eligible(learner, award):
            try:
                certificate, was_created = issue(learner, award)
            except HolderNameMissing:
                logger.info("Award %s waits for user %s to give a name", award.pk, learner.pk)
                continue
            except HolderErased:
                return created  # erased since the signal was sent: nothing more
            if was_created:
                created.append(certificate)
    return created


def issue_what_was_earned(learner: User) -> list[Certificate]:
    """Every award the learner earned while nothing could be issued to her (no name on
    her profile): the modules and tracks she completed, the blocks and frameworks of
    the competences she holds a level in. Issuing is idempotent."""
    if learner.erased_at is not None or not holder_name(learner):
        return []
    completed = ModulePage.objects.filter(completions__learner=learner)
    created = []
    for module in completed:
        if not learner_queries.evidence_pending(learner, [module]):
            created += evaluate_module(learner, module)
    # Derived ranks, not the ledger's own rows: evidence on an older framework version
    # earns the newer version's blocks through its crosswalks, as it does when recorded.
    # One competence per block is enough, each evaluates its whole block and framework.
    held = Competence.objects.filter(pk__in=learner_queries.derived_ranks(learner))
    one_per_block = {c.block_id: c for c in held.select_related("block")}
    for competence in one_per_block.values():
        created += evaluate_competence(learner, competence)
    for track in TrackPage.objects.filter(completions__learner=learner):
        pending = learner_queries.evidence_pending(learner, ModulePage.objects.child_of(track))
        created += evaluate_track(learner, track, evidence_pending=pending)
    # A session attended earns its certificat de réalisation without the track's
    # completion (eligibility): its session's bulk left her for later.
    attended = TrainingSession.objects.filter(
        seats__in=Seat.objects.confirmed().filter(learner=learner),
        ends_on__lt=timezone.localdate(),
    ).values("track_id")
    created += issue_if_eligible(
        learner,
        Award.objects.active().of_kind(Award.Kind.COMPLETION).filter(track_id__in=attended),
    )
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


def evaluate_track(
    learner: User, track: TrackPage, *, evidence_pending: bool = False
) -> list[Certificate]:
    """The track's awards the learner earned; while evidence is pending, only those that
    freeze no level or result."""
    awards = Award.objects.active().of_kind(*TRACK_KINDS).filter(track=track)
    if evidence_pending:
        awards = awards.filter(kind__in=LEVEL_FREE_KINDS)
    return issue_if_eligible(learner, awards)


# Days looked back past the close of attendance: a beat missed for a few days still
# issues what it would have.
CLOSED_SESSIONS_LOOKBACK = 7


def issue_after_attendance_closes(today: datetime.date | None = None) -> int:
    """Daily: the track documents of the sessions whose attendance just closed, to each
    confirmed seat holder who earned them; returns how many were issued.

    A session's documents freeze its hours attended, so they wait for its end (the
    receivers refuse them while it runs) and for its attendance to be final: until
    then trainers may still confirm a signature or mark an absence. Staff may have
    issued them already with a session bulk; issuing is idempotent. One learner's
    failure is logged and does not hold the others back.
    """
    last_end = still_open_if_ending_from(today) - datetime.timedelta(days=1)
    sessions = TrainingSession.objects.filter(
        ends_on__lte=last_end,
        ends_on__gt=last_end - datetime.timedelta(days=CLOSED_SESSIONS_LOOKBACK),
    ).select_related("track")
    issued = 0
    for session in sessions:
        awards = list(Award.objects.active().of_kind(*TRACK_KINDS).filter(track=session.track))
        seats = Seat.objects.confirmed().filter(session=session, learner__erased_at__isnull=True)
        waiting = set(
            Attendance.objects.awaiting_confirmation()
            .filter(half_day__session=session)
            .values_list("learner_id", flat=True)
        )
        if waiting:
            # Attendance is closed to its trainers: only the team can confirm now, and
            # until then these learners' documents cannot be issued. Said every day.
            logger.warning(
                "Session %s: signatures of %d learner(s) still await a confirmation; "
                "their documents wait for it (attendance admin).",
                session.pk,
                len(waiting),
            )
        for seat in seats.select_related("learner"):
            for award in awards:
                learner = seat.learner
                try:
                    if _waits_for_evidence(learner, award) or not eligible(
                        learner, award, session=session
                    ):
                        continue
                    _certificate, created = issue(learner, award, session=session)
                except (HolderNameMissing, HolderErased):
                    continue  # issued when she gives a name; an erased account earns nothing
                except Exception:
                    logger.exception(
                        "Session %s: award %s for user %s failed", session.pk, award.pk, learner.pk
                    )
                    continue
                issued += created
    return issued


# --- Rendering ------------------------------------------------------------------------


class RenderOutcome(Enum):
    RENDERED = "rendered"
    ALREADY_RENDERED = "already_rendered"
    BUSY = "busy"  # another process holds a fresh claim on it
    # It no longer names its holder (certification/retention.py): nothing to print.
    HOLDER_REMOVED = "holder_removed"


class HolderRemoved(Exception):
    """The certificate no longer names its holder: there is nothing to print."""


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
        Certificate.objects.awaiting_render()
        .filter(pk=certificate_pk)
        .filter(
            Q(render_claimed_at__isnull=True) | Q(render_claimed_at__lt=claimed_at - render_lease())
        )
        .update(render_claimed_at=claimed_at)
    )
    if not claimed:
        found = Certificate.objects.filter(pk=certificate_pk).values("pdf", "holder_removed_at")
        state = found.first() or {"pdf": "", "holder_removed_at": None}
        if state["holder_removed_at"] is not None:
            return RenderOutcome.HOLDER_REMOVED
        return RenderOutcome.ALREADY_RENDERED if state["pdf"] else RenderOutcome.BUSY
    mine = Certificate.objects.filter(pk=certificate_pk, render_claimed_at=claimed_at)
    try:
        certificate = Certificate.objects.select_related("award").get(pk=certificate_pk)
        data = rendering.render_pdf(certificate)
        saved = _store_replacing(certificate.storage_name, data)
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
        removed = Certificate.objects.filter(pk=certificate_pk, holder_removed_at__isnull=False)
        if removed.exists():
            # Its holder's name was removed meanwhile: the file printing it goes too.
            default_storage.delete(saved)
            return RenderOutcome.HOLDER_REMOVED
        # Our lease expired and another worker took over: its file is the one.
        if saved != certificate.storage_name:
            default_storage.delete(saved)
        return RenderOutcome.BUSY
    return RenderOutcome.RENDERED


def _store_replacing(name: str, data: bytes) -> str:
    """Store `data` under `name`, in place of what is there: the copy a regeneration
    replaces, or a file left by a worker that died before recording it. If the new file
    cannot be stored, the old one is put back: a holder keeps her copy meanwhile."""
    previous = None
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            previous = stored.read()
        default_storage.delete(name)
    try:
        return default_storage.save(name, ContentFile(data))
    except BaseException:
        if previous is not None:
            try:
                default_storage.save(name, ContentFile(previous))
            except Exception:
                logger.exception("Could not put back the earlier PDF %s", name)
        raise


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


def earlier_copy(certificate: Certificate) -> bytes | None:
    """While its PDF is produced again, the copy it replaces, if still stored as issued.

    The holder keeps a document to hand in when the new render is late or failing; it
    checks as authentic on the verification page. The stored file is only served if its
    hash is one we published: a render stored but not yet recorded is not.
    """
    if not certificate.is_rendered_again:
        return None
    name = certificate.storage_name
    try:
        if not default_storage.exists(name):
            return None
        with default_storage.open(name, "rb") as stored:
            data = stored.read()
    except OSError:
        return None
    if hashlib.sha256(data).hexdigest() not in certificate.earlier_pdf_sha256:
        return None
    return data


def _forget_pdf(certificate_pk: int, rendered_before: datetime.datetime | None = None) -> bool:
    # The stored file stays until the new render replaces it under the same name.
    # A certificate that no longer names its holder has nothing left to print, and one
    # revoked or superseded meanwhile (during a bulk run) keeps the PDF it was issued with.
    certificates = Certificate.objects.filter(
        pk=certificate_pk, holder_removed_at__isnull=True, status=Certificate.Status.VALID
    )
    if rendered_before is not None:
        certificates = certificates.filter(rendered_at__lt=rendered_before)
    found = certificates.values_list("pdf_sha256", "earlier_pdf_sha256").first()
    if found is None:
        return False
    issued, earlier = found
    # The hash the holder's copies carry is kept: they still check as authentic.
    kept = [*earlier, issued] if issued and issued not in earlier else earlier
    # Compare-and-swap on the hash read: a render finishing meanwhile is not lost.
    return bool(
        certificates.filter(pdf_sha256=issued).update(
            pdf="",
            pdf_sha256="",
            earlier_pdf_sha256=kept,
            rendered_at=None,
            render_enqueued_at=timezone.now(),
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


def expired_refusal(certificate: Certificate) -> str:
    return _(
        "Certificate %(code)s expired on %(date)s: a name correction does not renew it, and "
        "a new copy would be issued today already expired."
    ) % {
        "code": certificate.code,
        "date": formats.date_format(timezone.localtime(certificate.expires_at), "DATE_FORMAT"),
    }


def same_name_refusal(certificate: Certificate) -> str:
    return _(
        "Certificate %(code)s already names its holder as their profile does (« %(name)s »): "
        "correct the name on the profile first, then re-issue it."
    ) % {"code": certificate.code, "name": certificate.holder_name}


@transaction.atomic
def reissue(certificate: Certificate, by: User | None) -> Certificate:
    """Replace a valid certificate by a new one naming its holder as the profile now does
    (a corrected name), otherwise stating what the old one stated.

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
        raise ReissueRefused(
            _("Certificate %(code)s is no longer valid: it was re-issued or revoked meanwhile.")
            % {"code": old.code}
        )
    if old.learner is None or old.learner.erased_at is not None:
        # Its new context would name « deleted account »: the certificate stays as issued.
        raise ReissueRefused(
            _("The holder of %(code)s closed or erased their account: it cannot be re-issued.")
            % {"code": old.code}
        )
    if old.is_expired:
        raise ReissueRefused(expired_refusal(old))
    if not holder_name(old.learner):
        raise HolderNameMissing(old.learner)
    if holder_name(old.learner) == old.holder_name:
        # An identical certificate under a new code would only confuse those who check it.
        raise ReissueRefused(same_name_refusal(old))
    # Free the one-valid-certificate slot before taking it.
    Certificate.objects.filter(pk=old.pk).update(status=Certificate.Status.SUPERSEDED)
    issued_at = timezone.now()
    # What a correction corrects: the holder's name, and when this copy was issued.
    # The award's wording, the levels and results, the employer at the time of the
    # training stay as attested: none of them changes with a name.
    context = copy.deepcopy(old.context)
    context["holder"]["name"] = holder_name(old.learner)
    # When the award was earned stays the first issue's (Open Badges' awardedDate
    # keeps the original date); the copy's own issue is its validFrom.
    awarded_at = old.awarded_at or old.issued_at
    context.setdefault("awarded_at", awarded_at.isoformat())
    context["issued_on"] = iso_date(issued_at)
    context["expires_on"] = iso_date(old.expires_at)
    new = Certificate.objects.create(
        learner=old.learner,
        award=old.award,
        context=context,
        issued_at=issued_at,
        awarded_at=awarded_at,
        expires_at=old.expires_at,
        issued_by=by,
    )
    Certificate.objects.filter(pk=old.pk).update(superseded_by=new)
    transaction.on_commit(partial(enqueue_render, new.pk))
    certificate.refresh_from_db()
    return new


@transaction.atomic
def restore(certificate: Certificate, by: User | None) -> Certificate:
    """Issue a revoked certificate's award again, deliberately (a revocation in error).

    The new certificate ends when the revoked one would have: undoing a revocation is
    not a renewal (a certificate revoked then restored would otherwise outlast one
    never revoked). Raises `ReissueRefused` when the holder is gone or no longer
    eligible, or when the award is held again already.
    """
    learner, award = certificate.learner, certificate.award
    if certificate.status != Certificate.Status.REVOKED or (
        Certificate.objects.filter(learner_id=certificate.learner_id, award=award)
        .filter(pk__gt=certificate.pk)
        .exists()
    ):
        # A later certificate of the same award (given back, then revoked again for
        # another reason, say) decides: an older revocation is not the one to undo.
        raise ReissueRefused(
            _("A later certificate of « %(award)s » exists: act on that one.")
            % {"award": award.title}
        )
    if learner is None or learner.erased_at is not None:
        raise ReissueRefused(
            _("The holder of %(code)s closed or erased their account: it cannot be re-issued.")
            % {"code": certificate.code}
        )
    # A track document issued for a session is given back for that session: its facts,
    # and no wait for an attendance its staff already judged final.
    session = _frozen_session(certificate)
    if not eligible(learner, award, session):
        raise ReissueRefused(
            _("%(name)s no longer meets the criteria of « %(award)s »: nothing was issued.")
            % {"name": learner.display_name, "award": award.title}
        )
    new, created = issue(
        learner,
        award,
        by=by,
        despite_revocation=True,
        expires_at=certificate.expires_at,
        session=session,
    )
    if not created:
        raise ReissueRefused(
            _("%(name)s holds « %(award)s » already (certificate %(code)s).")
            % {"name": learner.display_name, "award": award.title, "code": new.code}
        )
    # The revoked copy stays revoked (its reason was true when given) and names the new
    # one: every link already shared leads to the certificate that stands.
    Certificate.objects.filter(pk=certificate.pk).update(superseded_by=new)
    certificate.refresh_from_db()
    return new


def _frozen_session(certificate: Certificate) -> TrainingSession | None:
    frozen = ((certificate.context.get("training") or {}).get("session") or {}).get("id")
    return TrainingSession.objects.filter(pk=frozen).first() if frozen else None


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


def check_session_fits(
    award: Award, session: TrainingSession, mode: str = BulkIssue.Mode.ISSUE
) -> None:
    """Raise `BulkRefused` unless following the session's track can earn `award`, and,
    to issue a track document, unless the session is over (such a certificate freezes
    the half-days signed so far; a regeneration re-reads nothing)."""
    freezes_attendance = mode == BulkIssue.Mode.ISSUE and award.kind in TRACK_KINDS
    if freezes_attendance and session.ends_on >= timezone.localdate():
        raise BulkRefused(
            _(
                "The session « %(session)s » ends on %(end)s: its certificates would state "
                "only the half-days signed so far. Issue them once it is over."
            )
            % {"session": session, "end": session.ends_on.strftime("%d/%m/%Y")}
        )
    # A personal link's signature on an on-site half-day counts once a trainer confirms
    # it: issued before, the certificate would leave that half-day out for good.
    unconfirmed = freezes_attendance and (
        Attendance.objects.awaiting_confirmation().filter(half_day__session=session).count()
    )
    if unconfirmed:
        raise BulkRefused(
            ngettext(
                "%(count)s signature of the session « %(session)s » awaits a trainer's "
                "confirmation: the certificates would leave its half-day out. Have it "
                "confirmed on the session's attendance sheet, then issue them.",
                "%(count)s signatures of the session « %(session)s » await a trainer's "
                "confirmation: the certificates would leave their half-days out. Have them "
                "confirmed on the session's attendance sheet, then issue them.",
                unconfirmed,
            )
            % {"count": unconfirmed, "session": session}
        )
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
        check_session_fits(award, session, mode)
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
    failed = deferred = 0
    if job.mode == BulkIssue.Mode.ISSUE:
        for learner in User.objects.filter(pk__in=chunk.item_ids):
            if learner.erased_at is not None:
                continue
            # A quiz whose evidence is still being written would be frozen as « — »:
            # its own signal issues to that learner once it is, for an award issued
            # automatically; the progress page counts them, for a later run of the job.
            if _waits_for_evidence(learner, award):
                deferred += 1
                continue
            if not holder_name(learner):
                # Issued once she gives a name (issue_what_was_earned); the progress
                # page counts her among those left for later.
                deferred += 1
                continue
            with _one_item(job, "learner", learner.pk) as outcome:
                if eligible(learner, award, job.session):
                    try:
                        certificate, _created = issue(
                            learner, award, render=False, session=job.session
                        )
                    except HolderErased:
                        continue  # erased since the chunk loaded her: as if erased then
                    # A revoked one comes back from issue(): it keeps the PDF it had.
                    if certificate.status == Certificate.Status.VALID:
                        render_or_defer(certificate.pk)
            failed += outcome.failed
    else:
        valid = set(
            Certificate.objects.valid().filter(pk__in=chunk.item_ids).values_list("pk", flat=True)
        )
        for certificate_pk in chunk.item_ids:
            if certificate_pk not in valid:
                continue  # revoked or superseded since the job started: its PDF stays
            with _one_item(job, "certificate", certificate_pk) as outcome:
                # Rendered since the job started means this chunk ran before a crash.
                _forget_pdf(certificate_pk, rendered_before=job.created_at)
                render_or_defer(certificate_pk)
            failed += outcome.failed
    with transaction.atomic():
        # Serialise chunk completions on the job row, so exactly one sees the last.
        BulkIssue.objects.select_for_update().filter(pk=job.pk).first()
        marked = BulkIssueChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            done_at=timezone.now()
        )
        if marked:
            BulkIssue.objects.filter(pk=job.pk).update(
                done=F("done") + len(chunk.item_ids),
                failed=F("failed") + failed,
                deferred=F("deferred") + deferred,
            )
            _finish_if_complete(job.pk)
    return bool(marked)


@dataclass
class _ItemOutcome:
    failed: bool = False


# Worth retrying the whole chunk for (its task's own retries): the database or the
# storage gone for a moment. Anything else is this item's own trouble.
TRANSIENT_ERRORS = (OSError, OperationalError, InterfaceError)


@contextmanager
def _one_item(job: BulkIssue, kind: str, pk: int):
    """Run one learner's or certificate's part of a chunk; an unexpected error is
    logged and counted, and the chunk goes on with the next (a certificate issued
    but not rendered is rendered again by the periodic task)."""
    # No transaction around the item: its render must not hold one open (on SQLite, the
    # write lock); issue() is atomic on its own, and chunks run in autocommit.
    outcome = _ItemOutcome()
    try:
        yield outcome
    except TRANSIENT_ERRORS:
        raise
    except Exception:
        logger.exception("Bulk issue %s: %s %s failed", job.pk, kind, pk)
        outcome.failed = True


def _waits_for_evidence(learner: User, award: Award) -> bool:
    """As the receivers wait: a module's or track's document for its quizzes' evidence
    and its open answers' grading, a block or framework award for quiz evidence only,
    a certificat de réalisation for nothing."""
    if award.kind in LEVEL_FREE_KINDS:
        return False
    modules = _award_modules(award)
    return learner_queries.evidence_pending(learner, modules, answers=modules is not None)


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
