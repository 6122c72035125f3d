"""Activity events recorded from signals of Django itself (learners' own events call
`learners.activity.record` where they happen)."""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

from learners import activity
from learners.models import User
from learners.session_models import ActivityEvent


@receiver(user_logged_in, dispatch_uid="learners.tell_new_agent_their_organisation")
def tell_new_agent_their_organisation(sender, request, user, **kwargs):
    # Connected before record_login: her first login has no login recorded yet. A
    # sign-up names the organisation before the address is proved, and typing the
    # code confirms it: she is told which one, and how to leave it if it is not hers.
    if request is None or user.role != User.Role.PUBLIC_AGENT or not user.organisation_id:
        return
    if ActivityEvent.objects.filter(learner_id=user.pk, kind=ActivityEvent.Kind.LOGIN).exists():
        return
    messages.info(
        request,
        _(
            "You are registered as an agent of « %(organisation)s »: if it is not yours, "
            "leave it from your profile."
        )
        % {"organisation": user.organisation.name},
        fail_silently=True,  # a login made in code (tests, a shell) has no messages
    )


@receiver(user_logged_in, dispatch_uid="learners.record_login")
def record_login(sender, request, user, **kwargs):
    if activity.tracked(user):
        activity.record(user.pk, ActivityEvent.Kind.LOGIN)
