"""Celery tasks of learners: thin, take primary keys, safe to run twice."""

import logging
from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from learners.models import Attempt, Submission

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down: kombu wraps a refused connection
# in its OperationalError, which is not an OSError.
ENQUEUE_ERRORS = (BrokerError, RedisError, OSError)

# Tasks that send one mail: a mail server hiccup is retried, a template error
# (which would fail every retry) is not.
MAIL_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OSError, SMTPException),
    "retry_backoff": True,
    "max_retries": 5,
}


def enqueue(task, *args) -> bool:
    """Publish `task`; log and return False when the broker cannot be reached."""
    try:
        task.delay(*args)
    except ENQUEUE_ERRORS:
        logger.exception("Could not enqueue %s%r", task.name, args)
        return False
    return True


@shared_task(acks_late=True, reject_on_worker_lost=True)
def record_attempt_outcome(attempt_pk: int) -> bool:
    """Turn a submitted attempt into ledger evidence once; False on a redelivery."""
    from learners import assessments

    with transaction.atomic():
        claimed = Attempt.objects.filter(
            pk=attempt_pk, status=Attempt.Status.SUBMITTED, outcome_recorded_at__isnull=True
        ).update(outcome_recorded_at=timezone.now())
        if not claimed:
            return False
        attempt = Attempt.objects.select_related("learner", "module", "track").get(pk=attempt_pk)
        assessments.record_attempt_outcome(attempt)
    return True


# The task enqueued on commit normally runs within seconds; leave it that long
# before doing its job in its place.
UNRECORDED_OUTCOME_GRACE = timedelta(minutes=10)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def record_missed_outcomes(limit: int = 500) -> int:
    """Beat safety net: record the evidence of attempts whose task never ran.

    Each attempt goes through `record_attempt_outcome`, whose claim makes a
    second run (or the late original task) a no-op. Returns how many it recorded.
    """
    cutoff = timezone.now() - UNRECORDED_OUTCOME_GRACE
    pks = list(
        Attempt.objects.outcome_unrecorded()
        .filter(submitted_at__lt=cutoff)
        .order_by("submitted_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    recorded = 0
    for pk in pks:
        try:
            recorded += record_attempt_outcome(pk)
        except Exception:
            # One broken attempt must not keep the others waiting forever.
            logger.exception("Could not record the evidence of attempt %s", pk)
    if recorded:
        logger.warning("Recorded the evidence of %d attempts whose task never ran", recorded)
    return recorded


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def notify_submission_graded(submission_pk: int) -> bool:
    """Tell the learner their submission was graded; False when already told (redelivery)."""
    claimed = (
        Submission.objects.filter(pk=submission_pk, learner_notified_at__isnull=True)
        .exclude(status=Submission.Status.PENDING)
        .update(learner_notified_at=timezone.now())
    )
    if not claimed:
        return False
    submission = Submission.objects.select_related("learner", "module").get(pk=submission_pk)
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "submission": submission,
            "dashboard_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
            + reverse("learners:dashboard"),
        }
        try:
            send_mail(
                render_to_string("learners/email/submission_graded_subject.txt", context).strip(),
                render_to_string("learners/email/submission_graded.txt", context),
                None,
                [submission.learner.email],
            )
        except OSError:
            # Release the claim so that the retry sends it: a lost mail is worse than none late.
            Submission.objects.filter(pk=submission_pk).update(learner_notified_at=None)
            raise
    return True


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A mail server hiccup only: a template error would fail every retry.
    autoretry_for=(OSError, SMTPException),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_invitations(batch_pk: int) -> int:
    """Send a manager's batch of invitations; a redelivery sends no mail twice."""
    from learners import invitations

    return invitations.send_batch(batch_pk)


@shared_task(**MAIL_TASK)
def notify_seat(seat_pk: int, notice: str) -> bool:
    """Mail a learner what happened to their seat; False when the seat no longer exists.

    Not claimed: a redelivery may send the same notice twice, which is better
    than a learner never hearing their place was confirmed.
    """
    from learners import sessions
    from learners.session_models import Seat

    seat = (
        Seat.objects.select_related("learner", "session", "session__track")
        .filter(pk=seat_pk)
        .first()
    )
    if seat is None:
        return False
    # An erased account (its seats are cancelled as it goes) asked to hear nothing more.
    if seat.learner.erased_at is not None or not seat.learner.is_active:
        return False
    sessions.send_seat_notice(seat, notice)
    return True


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_session_reminders() -> int:
    """Daily: remind confirmed learners of sessions starting within two days, once per seat."""
    from learners import sessions

    return sessions.send_reminders()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def send_cold_surveys() -> dict[str, int]:
    """Daily: mail the « à froid » surveys that fell due, then the reminders.

    Each survey is stamped in its own transaction once its mail went, so a
    redelivery or a second run mails nobody twice.
    """
    from learners import cold_surveys

    return {"sent": cold_surveys.send_due(), "reminded": cold_surveys.send_reminders()}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_indicators() -> int:
    """Nightly: recompute every track's public figures. Running it twice only recomputes."""
    from learners import indicators

    return indicators.refresh_all()


@shared_task(**MAIL_TASK)
def send_accommodation_mail(request_pk: int, kind: str) -> bool:
    """One mail about an accommodation request (to the referent, or to the learner).

    The request has no column to claim a mail with, so a worker lost between the
    send and the acknowledgement sends it again: twice is better than never here.
    """
    from learners import accommodations

    return accommodations.send(request_pk, kind)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_stale_invitations() -> int:
    """Beat safety net: send the invitation batches whose sending task was lost."""
    from learners import invitations

    return invitations.resume_stale_batches()
