"""What an agent's login settles about the organisation her sign-up named.

Connected before learners.activity_receivers.record_login (learners/apps.py): her
first login has no login recorded yet.
"""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.utils.translation import gettext as _

from learners import organisations
from learners.models import Organisation, User
from learners.session_models import ActivityEvent


@receiver(user_logged_in, dispatch_uid="learners.settle_proposed_organisation")
def settle_proposed_organisation(sender, request, user, **kwargs):
    if request is None or user.proposed_organisation_id is None:
        return
    proposed = Organisation.objects.filter(pk=user.proposed_organisation_id).first()
    signed_up_here = request.session.get(
        organisations.SIGNED_UP_HERE_KEY
    ) == organisations.signup_proposal(user)
    outcome = organisations.settle_proposed_organisation(user, signed_up_here=signed_up_here)
    if outcome == organisations.Proposal.ASKED and proposed is not None:
        messages.info(
            request,
            _(
                "A sign-up with your address named you an agent of « %(organisation)s ». "
                "You are a member only once you confirm it is your organisation, from "
                "« My profile »."
            )
            % {"organisation": proposed.name},
            fail_silently=True,  # a login made in code (tests, a shell) has no messages
        )


@receiver(user_logged_in, dispatch_uid="learners.tell_new_agent_their_organisation")
def tell_new_agent_their_organisation(sender, request, user, **kwargs):
    # A sign-up confirmed where it was made, or an invitation: she is told which
    # organisation she joined, and how to leave it if it is not hers.
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
