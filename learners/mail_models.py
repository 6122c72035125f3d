"""Mails that could not be sent: the visible end of a mail task that gave up.

A mail task retries a mail server's failures for hours (`MailTask` in
learners/tasks.py); a mail that still fails, or that could not even be handed
to the broker, lands here. Staff see it in the admin (learners/mail_admin.py)
and the beat sends it again now and then.

A row names the task and its primary-key arguments, never the mail itself: a
resend renders the mail again from the current rows, so the task's own checks
(an erased or deactivated learner, a grading notice already sent) still apply.
"""

import datetime
import hashlib
import json
from collections.abc import Sequence

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# A failed mail waits this long before the beat sends it again…
RESEND_EVERY = datetime.timedelta(minutes=30)
# …for about a day. A mail refused for good (an address that no longer exists)
# then waits for staff, rather than being tried every half hour forever.
MAX_AUTOMATIC_ATTEMPTS = 48
# A resend that never reported back (its worker lost, its message lost) may be
# claimed again after this.
RESEND_GUARD = datetime.timedelta(hours=1)


def mail_key(task: str, args: Sequence) -> str:
    """One row per mail: the task's name and its arguments, as JSON sees them."""
    # JSON, because the arguments a worker receives went through it: (3, "x") and [3, "x"] match.
    payload = json.dumps([task, list(args)], separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


class UndeliveredMailQuerySet(models.QuerySet):
    def claimable(self, now: datetime.datetime | None = None):
        """Rows whose last resend, if any, has come back (failed) or was lost."""
        now = now or timezone.now()
        return self.filter(
            Q(resent_at__isnull=True)
            | Q(resent_at__lte=F("failed_at"))
            | Q(resent_at__lt=now - RESEND_GUARD)
        )

    def due(self, now: datetime.datetime | None = None):
        """Rows the beat sends again: failed a while ago, and not given up to staff yet."""
        now = now or timezone.now()
        return self.claimable(now).filter(
            failed_at__lte=now - RESEND_EVERY, attempts__lt=MAX_AUTOMATIC_ATTEMPTS
        )

    def record(self, task: str, args: Sequence, *, recipient: str, error: str) -> None:
        """Record (or count one more) failure of the mail `task(*args)`."""
        key = mail_key(task, args)
        now = timezone.now()
        changes = {"recipient": recipient[:254], "error": error[:2000], "failed_at": now}
        if self.filter(key=key).update(attempts=F("attempts") + 1, **changes):
            return
        try:
            with transaction.atomic():
                self.create(
                    key=key, task=task, args=list(args), attempts=1, first_failed_at=now, **changes
                )
        except IntegrityError:
            # Another worker recorded the same mail in between.
            self.filter(key=key).update(attempts=F("attempts") + 1, **changes)

    def delivered(self, task: str, args: Sequence) -> None:
        """The mail went (or has nobody left to go to): it no longer waits."""
        self.filter(key=mail_key(task, args)).delete()


class UndeliveredMail(models.Model):
    key = models.CharField(max_length=64, unique=True, editable=False)
    task = models.CharField(_("task"), max_length=200)
    args = models.JSONField(_("arguments"), default=list)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveIntegerField(
        _("failed attempts"),
        default=0,
        help_text=_(
            "A first sending with its automatic retries counts as one, each resend as one."
        ),
    )
    first_failed_at = models.DateTimeField(_("first failed at"), default=timezone.now)
    failed_at = models.DateTimeField(_("last failed at"), default=timezone.now)
    resent_at = models.DateTimeField(_("last resent at"), null=True, blank=True)

    objects = UndeliveredMailQuerySet.as_manager()

    class Meta:
        verbose_name = _("undelivered email")
        verbose_name_plural = _("undelivered emails")
        ordering = ["-failed_at", "-pk"]
        indexes = [models.Index(fields=["failed_at"], name="learners_undelivered_failed")]

    def __str__(self) -> str:
        # The admin's history keeps this as each entry's label: an erasure finds the
        # entries about a person's mails by its end (labelled_for).
        return f"{self.label}{self.labelled_for(self.recipient or '?')}"

    @staticmethod
    def labelled_for(recipient: str) -> str:
        return f" → {recipient}"

    @property
    def label(self) -> str:
        """What the mail is, in the staff's words when its task says it."""
        from learners import tasks

        return tasks.mail_label(self.task)
