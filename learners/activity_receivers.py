"""Activity events recorded from signals of Django itself (learners' own events call
`learners.activity.record` where they happen)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

# organisation_receivers is imported for its receivers, connected before record_login
# below: what an agent's first login settles and tells reads no login recorded yet.
from learners import activity, organisation_receivers  # noqa: F401
from learners.session_models import ActivityEvent


@receiver(user_logged_in, dispatch_uid="learners.record_login")
def record_login(sender, request, user, **kwargs):
    if activity.tracked(user):
        activity.record(user.pk, ActivityEvent.Kind.LOGIN)
