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
from datetime import date, datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation

from learners import services
from learners.models import User
from learners.session_models import Seat, TrainingSession

logger = logging.getLogger(__name__)

# Three years, a 29 February included.
UNUSED_KEPT = timedelta(days=3 * 365 + 1)
NOTICE_BEFORE = timedelta(days=30)
# Backends that send nothing anywhere (the embedded default prints mails): with them
# a notice would count as gone and its account be erased a month later, unwarned.
SENDS_NOTHING = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
}


def _sessions_of(account: int | None = None) -> tuple[QuerySet, QuerySet]:
    """The sessions she held a place in, and those she trained in (of the outer
    query's account unless one is given)."""
    account = OuterRef("pk") if account is None else account
    return (
        Seat.objects.filter(learner=account).values("session__ends_on"),
        TrainingSession.objects.filter(trainers=account).values("ends_on"),
    )


def _unused_since(cutoff: datetime) -> QuerySet[User]:
    """Accounts not used since `cutoff`, with `seen`: their last sign-in (or creation),
    and `notice_day`: the day they were told.

    A place in a session, or training one, that ended since (or is still to come)
    is use too: a public agent may sign her attendance by link and never sign in.
    """
    day = timezone.localdate(cutoff)
    places, trained = _sessions_of()
    return (
        User.objects.filter(erased_at__isnull=True, is_staff=False, is_superuser=False)
        .annotate(
            seen=Coalesce("last_login", "date_joined"),
            notice_day=TruncDate("inactivity_notice_at"),
        )
        .filter(seen__lt=cutoff)
        .exclude(Exists(places.filter(session__ends_on__gte=day)))
        .exclude(Exists(trained.filter(ends_on__gte=day)))
    )


def _told_since_last_use() -> Q:
    """A notice newer than her last sign-in and than the end of her last session:
    an older one was about an earlier period, and is void. On `_unused_since`."""
    notice_day = OuterRef("notice_day")
    places, trained = _sessions_of()
    return (
        Q(inactivity_notice_at__gte=F("seen"))
        & ~Exists(places.filter(session__ends_on__gte=notice_day))
        & ~Exists(trained.filter(ends_on__gte=notice_day))
    )


def to_notify(now: datetime | None = None) -> QuerySet[User]:
    """Active accounts whose period ends within the notice, not told since last used."""
    now = now or timezone.now()
    return (
        _unused_since(now - UNUSED_KEPT + NOTICE_BEFORE)
        .filter(is_active=True)
        .exclude(email="")
        .exclude(_told_since_last_use())
    )


def to_erase(now: datetime | None = None) -> QuerySet[User]:
    """Accounts past their period: told a month ago at least, or deactivated by the team."""
    now = now or timezone.now()
    told = _told_since_last_use() & Q(inactivity_notice_at__lte=now - NOTICE_BEFORE)
    return _unused_since(now - UNUSED_KEPT).filter(told | Q(is_active=False))


def mails_leave() -> bool:
    if settings.EMAIL_BACKEND in SENDS_NOTHING:
        logger.error(
            "Unused accounts are neither told nor erased: no mail server is configured "
            "(EMAIL_HOST), so no notice could reach anyone."
        )
        return False
    return True


def send_notices(now: datetime | None = None) -> int:
    """Mail every account due a notice and stamp it, one account per transaction."""
    now = now or timezone.now()
    if not mails_leave():
        return 0
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
    if not mails_leave():
        return 0  # nobody was told: nobody goes
    erased = 0
    for pk in list(to_erase(now).values_list("pk", flat=True)):
        # Not locked here: the erasure locks the account last (docs/decisions.md), and
        # under that lock checks again that the account is still due.
        account = to_erase(now).filter(pk=pk).first()
        if account is None:
            continue
        try:
            done = services.erase_account(account, still_due=partial(_still_due, pk, now))
        except Exception:
            logger.exception("Could not erase the unused account %s", pk)
            continue
        erased += done
    return erased


def _still_due(pk: int, now: datetime) -> bool:
    # A sign-in, a place given, a reactivation since the list was read keep the account.
    return to_erase(now).filter(pk=pk).exists()


def last_use(account: User) -> date:
    """The day she last used the account: signed in, or ended a session she was in."""
    places, trained = _sessions_of(account.pk)
    ends = [
        *places.order_by("-session__ends_on").values_list("session__ends_on", flat=True)[:1],
        *trained.order_by("-ends_on").values_list("ends_on", flat=True)[:1],
    ]
    return max([timezone.localdate(account.seen), *ends])


def _mail_notice(account: User, erased_on: datetime) -> None:
    # A worker has no request to take the language from: mails go in the site's.
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "account": account,
            "last_seen": formats.date_format(last_use(account), "DATE_FORMAT"),
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
