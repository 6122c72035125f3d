"""Certificates of erased accounts stop naming anyone once their retention is over.

A certificate outlives its holder's account: training rules require the provider
to keep what it issued, with the name it was issued to, for 3 years after issue
(the privacy page says so). Past that, the certificate of an erased account no
longer names anyone: its frozen holder (name, employer) is emptied and its PDF,
which prints them, deleted. The row stays, so that its code still tells a
verifier which award was issued when, and its status; the SHA-256 of its PDFs
stays too, so that the copy its holder kept still checks as authentic.
"""

import datetime
import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from certification.models import Certificate

logger = logging.getLogger(__name__)

HOLDER_KEPT_YEARS = 3


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:  # 29 February, in a year that has none
        return moment.replace(year=moment.year - years, day=28)


def due_for_removal(now: datetime.datetime):
    """Certificates of erased (or deleted) accounts issued over 3 years ago, still naming them."""
    return Certificate.objects.filter(
        Q(learner__erased_at__isnull=False) | Q(learner__isnull=True),
        issued_at__lt=years_before(now, HOLDER_KEPT_YEARS),
        holder_removed_at__isnull=True,
    )


def remove_holder(certificate_pk: int, now: datetime.datetime) -> bool:
    """Empty the certificate's frozen holder and delete its PDF; False if already done."""
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update()
            .filter(pk=certificate_pk, holder_removed_at__isnull=True)
            .only("pk", "context", "pdf")
            .first()
        )
        if certificate is None:
            return False
        context = {**certificate.context, "holder": {}}
        # update(), which tells the verification cache and dashboards to forget it.
        Certificate.objects.filter(pk=certificate.pk).update(
            context=context, holder_removed_at=now, pdf="", render_claimed_at=None
        )
        # Inside the transaction: a file that cannot be deleted leaves the row as it
        # was, for the next run to try again, rather than a file nothing points to.
        if certificate.pdf.name:
            default_storage.delete(certificate.pdf.name)
    return True


def remove_expired_holders(now: datetime.datetime | None = None) -> int:
    """Daily: the holders past their retention stop being named; returns how many."""
    now = now or timezone.now()
    removed = 0
    for pk in due_for_removal(now).values_list("pk", flat=True):
        try:
            removed += remove_holder(pk, now)
        except Exception:
            # One stuck file must not keep the others named: it is retried tomorrow.
            logger.exception("Certificate %s past its retention still names its holder", pk)
    return removed
