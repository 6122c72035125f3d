"""Activity events recorded from signals of Django itself (learners' own events call
`learners.activity.record` where they happen)."""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from learners import activity
from learners.session_models import ActivityEvent


@receiver(user_logged_in, dispatch_uid="learners.record_login")
def record_login(sender, request, user, **kwargs):
    if activity.tracked(user):
        activity.record(user.pk, ActivityEvent.Kind.LOGIN)
