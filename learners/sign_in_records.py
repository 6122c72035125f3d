"""What signing in leaves behind, kept only as long as it serves.

Every sign-in writes a session row (the browser's cookie) and, through
django-axes, a log row with the address typed, the IP address and the browser;
a failed one also a failure row. They serve security (throttling, finding out
who used an account), not training: the CNIL's recommendation on logs is six
months to a year. Expired sessions go at once (Django never deletes them by
itself), the logs after `LOG_KEPT`, as the privacy page says.
"""

from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.db.models import Q
from django.utils import timezone

from learners.account_sessions import AccountSession

LOG_KEPT = timedelta(days=183)


def typed_with(addresses: set[str]) -> dict:
    """Each kind of sign-in record left by these addresses, as querysets: sign-ins,
    failures, and the throttling counters (all keep the address typed)."""
    typed = Q(pk__in=[])
    for address in addresses:
        typed |= Q(username__iexact=address)
    return {
        "logs": AccessLog.objects.filter(typed),
        "failures": AccessFailureLog.objects.filter(typed),
        "attempts": AccessAttempt.objects.filter(typed),
    }


def forget_old(now: datetime | None = None) -> dict[str, int]:
    """Delete expired sessions and sign-in logs older than LOG_KEPT; counts per kind."""
    now = now or timezone.now()
    cutoff = now - LOG_KEPT
    return {
        "sessions": AccountSession.objects.filter(expire_date__lt=now).delete()[0],
        "logs": AccessLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
        "failures": AccessFailureLog.objects.filter(attempt_time__lt=cutoff).delete()[0],
        "attempts": AccessAttempt.objects.filter(attempt_time__lt=cutoff).delete()[0],
    }
