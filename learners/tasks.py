"""Celery tasks of learners: thin, take primary keys, safe to run twice."""

import logging
from collections.abc import Sequence
from datetime import timedelta
from smtplib import SMTPException

from celery import Task, current_app, shared_task
from celery.exceptions import Reject
from django.conf import settings
from django.core.mail import send_mail
from django.db import OperationalError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from config import broker
from learners.models import AccommodationRequest, Attempt, Submission, UndeliveredMail

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down: kombu wraps a refused connection
# in its OperationalError, which is not an OSError.
ENQUEUE_ERRORS = (BrokerError, RedisError, OSError)


def _backoff_cap() -> int:
    # Redis hands a message held unacknowledged longer than its visibility timeout
    # to another worker: a retry waiting longer than that would send its mail twice.
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    return max(60, min(1800, visibility // 2))


class MailTask(Task):
    """A task that sends one mail and never drops it silently.

    A mail server's failure is retried for about four hours (1, 2, 4, 8, 16
    minutes, then every 30). What still fails — or any other error, such as a
    broken template — is recorded as an `UndeliveredMail`, which staff see in
    the admin and the beat sends again. In embedded mode (tasks run inside the
    request) there is nobody to wait for: the first failure is recorded at once
    and the request that sent the mail carries on.

    Each task names who the mail is for with `recipient` (a function of the
    task's arguments) and what it is with `mail_label`, both shown to staff.
    """

    acks_late = True
    reject_on_worker_lost = True
    # A mail server hiccup (SMTPException is an OSError, named for the reader).
    autoretry_for = (OSError, SMTPException)
    retry_backoff = 60
    retry_backoff_max = _backoff_cap()
    # No jitter: the window is what docs/operations.md promises, and mails failing
    # together were sent at different times anyway.
    retry_jitter = False
    max_retries = 12
    mail_label = ""

    @staticmethod
    def recipient(*args) -> str:
        return ""

    def retry(self, *args, exc=None, **kwargs):
        if self.request.is_eager and exc is not None:
            # In-process, a retry would hold (then fail) the request that sent the
            # mail, after its commit: give up now, on_failure records the mail.
            raise exc
        try:
            return super().retry(*args, exc=exc, **kwargs)
        except Reject as rejected:
            # The retry could not be published (the broker went down meanwhile):
            # Celery drops the message, so the mail must be recorded here.
            self.record_undelivered(self.request.args or (), exc or rejected.reason)
            raise

    def apply(self, *args, **kwargs):
        # In-process, the failure is recorded by on_failure; it must not turn the
        # action that sent the mail, committed already, into a server error.
        kwargs["throw"] = False
        return super().apply(*args, **kwargs)

    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        self.record_undelivered(args, exc)

    def on_success(self, retval, task_id, args, kwargs) -> None:
        # Sent, or nobody left to write to: either way the mail no longer waits.
        UndeliveredMail.objects.delivered(self.name, args)

    def record_undelivered(self, args: Sequence, error: BaseException) -> None:
        try:
            recipient = self.recipient(*args)
        except Exception:
            recipient = ""  # the row went, or the database did: the mail still counts
        try:
            UndeliveredMail.objects.record(
                self.name, args, recipient=recipient, error=f"{type(error).__name__}: {error}"
            )
        except Exception:
            logger.exception("Could not record the undelivered mail %s%r", self.name, tuple(args))
            return
        logger.error(
            "Mail %s%r undelivered (%s: %s); recorded for a resend",
            self.name,
            tuple(args),
            type(error).__name__,
            error,
        )


def mail_label(task_name: str) -> str:
    """What the mail task `task_name` sends, in the staff's words (its name if unknown)."""
    task = current_app.tasks.get(task_name)
    label = getattr(task, "mail_label", "")
    return str(label) if label else task_name


def enqueue(task, *args, resend: bool = False) -> bool:
    """Publish `task`; log and return False when the broker cannot be reached.

    A mail task that cannot be published is recorded as undelivered, for the
    beat to send later. `resend` publishes a mail task for one try without its
    automatic retries: the record counts each resend, and the beat (or staff)
    decides when to try again.
    """
    try:
        if resend:
            broker.publish(
                task, lambda: task.apply_async(args, retries=task.max_retries), ENQUEUE_ERRORS
            )
        else:
            broker.publish(task, lambda: task.delay(*args), ENQUEUE_ERRORS)
    except ENQUEUE_ERRORS as error:
        logger.exception("Could not enqueue %s%r", task.name, args)
        if isinstance(task, MailTask):
            task.record_undelivered(args, error)
        return False
    return True


def resend_undelivered(mail_pk: int) -> bool:
    """Send a recorded mail again; False when it is being resent already, or cannot be.

    The claim on `resent_at` keeps staff and the beat from sending it twice at once.
    """
    mail = UndeliveredMail.objects.filter(pk=mail_pk).first()
    if mail is None:
        return False
    task = current_app.tasks.get(mail.task)
    if not isinstance(task, MailTask):
        logger.error("Undelivered mail %s names an unknown mail task %s", mail_pk, mail.task)
        return False
    now = timezone.now()
    if not UndeliveredMail.objects.claimable(now).filter(pk=mail_pk).update(resent_at=now):
        return False
    return enqueue(task, *mail.args, resend=True)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resend_undelivered_mails(limit: int = 200) -> int:
    """Beat: send again the recorded mails whose last failure is old enough; returns how many."""
    pks = list(
        UndeliveredMail.objects.due()
        .order_by("failed_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    resent = 0
    for pk in pks:
        try:
            resent += resend_undelivered(pk)
        except Exception:
            # One broken row must not keep the others waiting.
            logger.exception("Could not resend the undelivered mail %s", pk)
        if broker.resting():
            # The broker just failed: each mail claimed now would count one more failed
            # attempt against its automatic ones without a mail server ever being asked.
            break
    return resent


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


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def complete_what_is_now_met(page_pk: int) -> int:
    """Completions a module's or a track's fewer requirements now allow (idempotent)."""
    from learners import services

    return services.complete_what_is_now_met(page_pk)


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


def _graders_recipient(attempt_pk: int) -> str:
    from learners import grading_notices

    return grading_notices.graders_address(attempt_pk)


@shared_task(
    base=MailTask,
    mail_label=_("Answers to review"),
    recipient=staticmethod(_graders_recipient),
)
def notify_answers_to_review(attempt_pk: int) -> bool:
    """Tell the graders that an attempt's open answers wait for them.

    No column claims the mail: a worker lost between the send and the acknowledgement
    sends it again, which beats answers waiting unseen.
    """
    from learners import grading_notices

    return grading_notices.tell_graders(attempt_pk)


def _submission_recipient(submission_pk: int) -> str:
    return (
        Submission.objects.filter(pk=submission_pk).values_list("learner__email", flat=True).first()
        or ""
    )


@shared_task(
    base=MailTask,
    mail_label=_("Grading notice"),
    recipient=staticmethod(_submission_recipient),
)
def notify_submission_graded(submission_pk: int) -> bool:
    """Tell the learner their submission was graded; False when already told (redelivery)
    or when the account was erased or deactivated since.

    The row stays locked while the mail goes, and is marked told in the same
    transaction: a worker killed mid-send rolls the mark back with it, so the
    redelivered task sends the mail instead of finding it « sent ». A second copy
    of the task waits for the lock, then finds the learner told.
    """
    with transaction.atomic():
        submission = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("learner", "module")
            .filter(
                pk=submission_pk,
                learner_notified_at__isnull=True,
                learner__is_active=True,
                learner__erased_at__isnull=True,
            )
            .exclude(status=Submission.Status.PENDING)
            .first()
        )
        if submission is None:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "submission": submission,
                # Rectified only if she was told of a grading before: the first mail may
                # still have been waiting when the trainer corrected it.
                "corrected": submission.corrections.filter(learner_was_told=True).exists(),
                "dashboard_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
                + reverse("learners:dashboard"),
                "quiz_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/")
                + reverse("learners:quiz_start", args=[submission.module_id]),
            }
            send_mail(
                settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
                + render_to_string("learners/email/submission_graded_subject.txt", context).strip(),
                render_to_string("learners/email/submission_graded.txt", context),
                None,
                [submission.learner.email],
            )
        Submission.objects.filter(pk=submission_pk).update(learner_notified_at=timezone.now())
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


def _seat_recipient(seat_pk: int, notice: str = "") -> str:
    from learners.session_models import Seat

    return Seat.objects.filter(pk=seat_pk).values_list("learner__email", flat=True).first() or ""


@shared_task(
    base=MailTask, mail_label=_("Session seat notice"), recipient=staticmethod(_seat_recipient)
)
def notify_seat(seat_pk: int, notice: str) -> bool:
    """Mail a learner what happened to their seat; False when the seat no longer exists
    or is no longer what the notice says.

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
    if not sessions.notice_still_true(seat, notice):
        return False
    sessions.send_seat_notice(seat, notice)
    return True


@shared_task(acks_late=True, reject_on_worker_lost=True)
def close_waiting_lists() -> int:
    """Daily: the waiting lists of sessions that started are closed, their people told."""
    from learners import sessions

    return sessions.close_waiting_lists()


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

    return {
        "scheduled": cold_surveys.schedule_for_attendees(),
        "sent": cold_surveys.send_due(),
        "reminded": cold_surveys.send_reminders(),
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_indicators() -> int:
    """Nightly: recompute every track's public figures. Running it twice only recomputes."""
    from learners import indicators

    return indicators.refresh_all()


def _accommodation_recipient(request_pk: int, kind: str) -> str:
    from learners import accommodations

    request = (
        AccommodationRequest.objects.select_related("learner", "track")
        .filter(pk=request_pk)
        .first()
    )
    if request is None:
        return ""
    if kind == accommodations.MAIL_REFERENT:
        return accommodations.referent(request.track).email
    return request.learner.email


@shared_task(
    base=MailTask,
    mail_label=_("Accommodation request email"),
    recipient=staticmethod(_accommodation_recipient),
)
def send_accommodation_mail(request_pk: int, kind: str) -> bool:
    """One mail about an accommodation request (to the referent, or to the learner).

    The request has no column to claim a mail with, so a worker lost between the
    send and the acknowledgement sends it again: twice is better than never here.
    """
    from learners import accommodations

    return accommodations.send(request_pk, kind)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def forget_unused_invitations() -> int:
    """Daily: the address and name of people who never joined go a year after their link."""
    from learners import invitations

    return invitations.forget_unused()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def forget_old_sign_in_records() -> dict[str, int]:
    """Daily: expired sessions, and sign-in logs past their six months."""
    from learners import sign_in_records

    return sign_in_records.forget_old()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def erase_unused_accounts() -> dict[str, int]:
    """Daily: accounts unused for three years are told, then erased a month later."""
    from learners import inactive_accounts

    return {
        "told": inactive_accounts.send_notices(),
        "erased": inactive_accounts.erase_due(),
    }


@shared_task(acks_late=True, reject_on_worker_lost=True)
def resume_stale_invitations() -> int:
    """Beat safety net: send the invitation batches whose sending task was lost."""
    from learners import invitations

    return invitations.resume_stale_batches()
