"""Who may hold an award: eligibility, the session a track document is for, and dates.

Read from the facts learners records (completions, the ledger, seats, attendance
and online activity); nothing here writes.
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from certification.models import Award
from courses.models import (
    Competence,
    Framework,
)
from learners.activity import attending_ids
from learners.attendance import still_open_if_ending_from
from learners.dates import add_months
from learners.models import (
    LedgerEntry,
    ModuleCompletion,
    TrackCompletion,
    User,
)
from learners.queries import answers_to_rework, block_validated, validated_blocks
from learners.session_models import Attendance, Seat, TrainingSession

TRACK_KINDS = (Award.Kind.AWARENESS, Award.Kind.END_OF_TRAINING, Award.Kind.COMPLETION)
# A certificat de réalisation states what was done (dates, hours, modality), no level
# nor result: it never waits for a quiz's evidence or a trainer's grading.
LEVEL_FREE_KINDS = (Award.Kind.COMPLETION,)


# --- Dates --------------------------------------------------------------------------


def expiry_for(award: Award, issued_at: datetime.datetime) -> datetime.datetime | None:
    # Months are the holder's calendar months: issued at 00:30 on 1 March in Paris is
    # still 28 February in UTC, and a month after that would end on 28 March.
    if not award.validity_months:
        return None
    last_day = add_months(timezone.localtime(issued_at), award.validity_months).date()
    # « Valable jusqu'au 1 mars 2026 » reads as the whole of that day, in Paris: the
    # certificate must not turn « expired » at the hour it happened to be issued.
    return timezone.make_aware(datetime.datetime.combine(last_day, datetime.time(23, 59, 59)))


def iso_date(moment: datetime.datetime | None) -> str | None:
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
    The track's other documents wait while a session of theirs is not over.

    Without `session` (her completion, her name given, a track-wide bulk), a track
    document of a seat holder also waits until that session's attendance closes: the
    daily `issue_after_attendance_closes` issues it then, with the attendance as
    final. The session's staff may issue it earlier, by its bulk (`session` given).
    """
    if award.kind == Award.Kind.MODULE:
        # An attestation de réussite: an open answer sent back for rework is no success yet.
        return ModuleCompletion.objects.filter(
            learner=learner, module_id=award.module_id
        ).exists() and not answers_to_rework(learner, award.module_id)
    if award.kind == Award.Kind.BLOCK:
        return block_validated(learner, award.block)
    if award.kind == Award.Kind.CERTIFICATION:
        return _framework_complete(learner, award.framework)
    completed = TrackCompletion.objects.filter(learner=learner, track_id=award.track_id)
    if award.kind != Award.Kind.COMPLETION:
        # Issued for a session the learner has a place in, it states that session's
        # dates, format and hours: it waits for its end (the session's staff issue it
        # then), or it would be frozen as if self-paced, once and for all.
        if (
            session is None
            and _seats(learner, award)
            .filter(session__ends_on__gte=still_open_if_ending_from())
            .exists()
        ):
            return False
        sessions = [session.pk] if session else _seats(learner, award).values("session_id")
        return completed.exists() and not _awaits_confirmation(learner, sessions)
    given = session is not None
    session = session_of(learner, award, session)
    if session is None:
        # Self-paced: the whole track is what was done. A session not over yet: the
        # session's staff issue it then.
        return completed.exists() and not _seats(learner, award).exists()
    if not given and session.ends_on >= still_open_if_ending_from():
        return False  # its attendance may still change: issued once it closes
    # A session attended states the hours attended, whole or not (funders pay those):
    # it needs no completion of the online track around it.
    return learner.pk in attending_ids(session, [learner.pk]) and not _awaits_confirmation(
        learner, [session.pk]
    )


def _awaits_confirmation(learner: User, sessions) -> bool:
    """A personal link's signature of hers on an on-site half-day counts once a trainer
    confirms it: a document frozen before would leave that half-day out for good. Every
    path that issues waits for it, not only the session's bulk (`check_session_fits`)."""
    return (
        Attendance.objects.awaiting_confirmation()
        .filter(learner=learner, half_day__session__in=sessions)
        .exists()
    )


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


def seat_holder_ids(session: TrainingSession):
    """The learners holding a confirmed seat in `session`, as a subquery."""
    return Seat.objects.confirmed().filter(session=session).values("learner_id")


def candidate_learner_ids(award: Award, session: TrainingSession | None = None) -> list[int]:
    """Learners who may be eligible: every one who is, perhaps a few who are not yet.

    With a session, only its confirmed seat holders are candidates.
    """
    if award.kind == Award.Kind.MODULE:
        ids = ModuleCompletion.objects.filter(module_id=award.module_id).values("learner_id")
    elif award.kind == Award.Kind.COMPLETION and session is not None:
        ids = seat_holder_ids(session)  # attendance decides, not completion
    elif award.kind == Award.Kind.COMPLETION:
        completed = TrackCompletion.objects.filter(track_id=award.track_id).values("learner_id")
        attended = (
            Seat.objects.confirmed()
            .filter(session__track_id=award.track_id, session__ends_on__lt=timezone.localdate())
            .values("learner_id")
        )
        ids = User.objects.filter(Q(pk__in=completed) | Q(pk__in=attended)).values("pk")
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
