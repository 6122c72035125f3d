"""Accounts nobody used for three years are erased, after a month's notice (RGPD).

The CNIL's guidance for accounts is to keep them while they serve and to delete
them after a period without use: three years since the person last signed in
(or since the account was made, if she never did), or since the last session she
held a place in ended (a public agent may sign her attendance by link without
ever signing in). A month before, she is mailed: signing in keeps the account,
and « Mes données » lets her download what it holds. The erasure is the one she
could ask for herself (`services.erase_account`): certificates and training
evidence stay, anonymised, for their own legal periods.

The notice is stamped once its mail went, so nobody is erased without having
been told: an address whose mail fails every night keeps its account, logged as
an error each time, until the team acts. The operating team's accounts (staff)
are the team's to manage and are left alone; an account the team deactivated
cannot sign in to keep itself, so it is erased at the end of the period without
a notice.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from learners import services
from learners.models import User

logger = logging.getLogger(__name__)

UNUSED_KEPT = timedelta(days=3 * 365)
NOTICE_BEFORE = timedelta(days=30)


def _unused_since(cutoff: datetime) -> QuerySet[User]:
    """Accounts not used since `cutoff`, with `seen`: when they last were."""
    return (
        User.objects.filter(erased_at__isnull=True, is_staff=False, is_superuser=False)
        .annotate(seen=Coalesce("last_login", "date_joined"))
        .filter(seen__lt=cutoff)
        # A place in a session that ended since (or is still to come) is use too.
        .exclude(seats__session__ends_on__gte=timezone.localdate(cutoff))
    )


def to_notify(now: datetime | None = None) -> QuerySet[User]:
    """Active accounts whose period ends within the notice, not told since last used."""
    now = now or timezone.now()
    return (
        _unused_since(now - UNUSED_KEPT + NOTICE_BEFORE)
        .filter(is_active=True)
        .exclude(email="")
        # A notice older than the last use was about an earlier period: void.
        .exclude(inactivity_notice_at__gte=F("seen"))
    )


def to_erase(now: datetime | None = None) -> QuerySet[User]:
    """Accounts past their period: told a month ago at least, or deactivated by the team."""
    now = now or timezone.now()
    told = Q(inactivity_notice_at__gte=F("seen"), inactivity_notice_at__lte=now - NOTICE_BEFORE)
    return _unused_since(now - UNUSED_KEPT).filter(told | Q(is_active=False))


def send_notices(now: datetime | None = None) -> int:
    """Mail every account due a notice and stamp it, one account per transaction."""
    now = now or timezone.now()
    sent = 0
    for pk in list(to_notify(now).values_list("pk", flat=True)):
        try:
            with transaction.atomic():
                # Checked again under the lock: signed in, erased or told meanwhile.
                account = (
                    to_notify(now)
                    .select_for_update(skip_locked=True, of=("self",))
                    .filter(pk=pk)
                    .first()
                )
                if account is None:
                    continue
                _mail_notice(account, now + NOTICE_BEFORE)
                User.objects.filter(pk=pk).update(inactivity_notice_at=now)
        except Exception:
            # One refused address must not hold the others back; it is tried again
            # tomorrow, and its account stays until a notice goes.
            logger.exception("Could not mail the inactivity notice to account %s", pk)
            continue
        sent += 1
    return sent


def erase_due(now: datetime | None = None) -> int:
    """Erase every account past its period; returns how many were erased."""
    now = now or timezone.now()
    erased = 0
    for pk in list(to_erase(now).values_list("pk", flat=True)):
        # Not locked here: the erasure locks the account last (docs/decisions.md), and
        # under that lock gives up if she signed in since this read.
        account = to_erase(now).filter(pk=pk).first()
        if account is None:
            continue
        try:
            done = services.erase_account(account, for_inactivity=True)
        except Exception:
            logger.exception("Could not erase the unused account %s", pk)
            continue
        erased += done
    return erased


def _mail_notice(account: User, erased_on: datetime) -> None:
    # A worker has no request to take the language from: mails go in the site's.
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "account": account,
            "last_seen": formats.date_format(timezone.localtime(account.seen), "DATE_FORMAT"),
            "erased_on": formats.date_format(timezone.localtime(erased_on), "DATE_FORMAT"),
            "login_url": settings.SITE_URL + reverse("account_login"),
            "my_data_url": settings.SITE_URL + reverse("learners:my_data"),
        }
        send_mail(
            settings.ACCOUNT_EMAIL_SUBJECT_PREFIX
            + render_to_string("learners/email/inactivity_notice_subject.txt", context).strip(),
            render_to_string("learners/email/inactivity_notice.txt", context),
            None,
            [account.email],
            html_message=render_to_string("learners/email/inactivity_notice.html", context),
        )
