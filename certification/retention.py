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

from certification import evidence
from certification.models import Certificate
from learners.session_models import TrainingSession

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
            Certificate.objects.select_for_update(of=("self",))
            .select_related("award")
            .filter(pk=certificate_pk, holder_removed_at__isnull=True)
            .first()
        )
        if certificate is None:
            return False
        context = {**certificate.context, "holder": {}}
        # update(), which tells the verification cache and dashboards to forget it. A
        # render under way loses its claim, and deletes its file (services.render).
        Certificate.objects.filter(pk=certificate.pk).update(
            context=context, holder_removed_at=now, pdf="", rendered_at=None, render_claimed_at=None
        )
        # The session evidence packs holding its PDF are built again without it.
        evidence.rebuild_without_erased(_sessions_holding(certificate))
        # Inside the transaction: a file that cannot be deleted leaves the row as it
        # was, for the next run to try again, rather than a file nothing points to.
        # The fixed name too: a copy waiting for its regeneration lies there.
        for name in {certificate.pdf.name, certificate.storage_name} - {""}:
            default_storage.delete(name)
    return True


def _sessions_holding(certificate: Certificate) -> list[int]:
    """The sessions whose evidence pack lists this certificate (evidence._certificates)."""
    if certificate.learner_id is None or certificate.award.track_id is None:
        return []
    return list(
        TrainingSession.objects.filter(
            track_id=certificate.award.track_id, seats__learner_id=certificate.learner_id
        )
        .distinct()
        .values_list("pk", flat=True)
    )


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
