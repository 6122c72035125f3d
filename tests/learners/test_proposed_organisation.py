"""The organisation an agent's sign-up named is hers only once she says so.

Anyone may sign up with someone else's address: typing the code where the
sign-up was made proves that its author owns the address, any other login
proves only the address, and she is then asked.
"""

import html
import importlib

from allauth.account.models import EmailAddress
from django.apps import apps
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learners import invitations, organisations
from learners.models import Invitation, InvitationBatch, User
from tests.learners.test_agent_login import SIGNUP_URL, code_in, signup_data

NADIA = "nadia.agent@mairie-test.fr"
PROFILE = "/moi/profil/"


def sign_up_elsewhere(organisation) -> User:
    """Someone else, in their own browser, signs Nadia's address up."""
    Client().post(SIGNUP_URL, signup_data(organisation=organisation.pk))
    return User.objects.get(email=NADIA)


def log_in_by_code(client, email: str):
    client.post("/comptes/login/code/", {"email": email})
    return client.post(
        "/comptes/login/code/confirm/", {"code": code_in(mail.outbox[-1])}, follow=True
    )


def said(response) -> str:
    return " ".join(str(message) for message in response.context["messages"])


def test_her_code_typed_where_she_signed_up_makes_her_a_member(client, organisation, helene):
    batch = InvitationBatch.objects.create(organisation=organisation, invited_by=helene, total=1)
    invited = Invitation.objects.create(
        batch=batch, organisation=organisation, email=NADIA, sent_at=timezone.now()
    )
    client.post(SIGNUP_URL, signup_data(organisation=organisation.pk))
    nadia = User.objects.get(email=NADIA)
    assert nadia.proposed_organisation == organisation

    response = client.post(
        "/comptes/login/code/confirm/", {"code": code_in(mail.outbox[-1])}, follow=True
    )

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (organisation, None)
    assert "agent de « Communauté de communes du Val Test »" in said(response)
    assert nadia in organisations.members_of(helene)
    # The invitation her manager sent her has nothing left to do.
    assert not Invitation.objects.pending().filter(pk=invited.pk).exists()


def test_a_sign_up_made_by_someone_else_names_no_organisation_until_she_answers(
    client, organisation, helene
):
    nadia = sign_up_elsewhere(organisation)

    response = log_in_by_code(client, NADIA)

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (None, organisation)
    assert EmailAddress.objects.get(user=nadia).verified
    assert "Une inscription avec votre adresse vous indique comme agent de" in said(response)
    assert "Vous êtes inscrit·e comme agent de" not in said(response)
    # Her manager-to-be follows nobody she did not agree to.
    assert nadia not in organisations.members_of(helene)
    profile = client.get(PROFILE).content.decode()
    assert 'data-testid="proposed-organisation"' in profile
    assert "Si vous la rejoignez, son ou sa référent·e voit votre nom" in html.unescape(profile)

    client.post(reverse("organisations:answer_proposal"), {"joins": "yes"})

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (organisation, None)
    assert nadia in organisations.members_of(helene)
    assert 'data-testid="proposed-organisation"' not in client.get(PROFILE).content.decode()


def test_she_declines_an_organisation_that_is_not_hers(client, organisation, helene):
    nadia = sign_up_elsewhere(organisation)
    log_in_by_code(client, NADIA)

    response = client.post(reverse("organisations:answer_proposal"), {"joins": "no"}, follow=True)

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (None, None)
    assert "vous n'êtes pas membre de cette organisation" in said(response)
    assert 'data-testid="proposed-organisation"' not in response.content.decode()
    # A later answer, a replayed form, changes nothing.
    client.post(reverse("organisations:answer_proposal"), {"joins": "yes"})
    nadia.refresh_from_db()
    assert nadia.organisation is None


def test_an_invitation_answers_the_question(client, organisation, other_organisation, marc):
    nadia = sign_up_elsewhere(organisation)
    log_in_by_code(client, NADIA)
    batch = InvitationBatch.objects.create(
        organisation=other_organisation, invited_by=marc, total=1
    )
    invitation = Invitation.objects.create(
        batch=batch, organisation=other_organisation, email=NADIA, sent_at=timezone.now()
    )

    invitations.accept(invitation.token)

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (other_organisation, None)


def test_an_organisation_the_team_gave_her_since_stands(client, organisation, other_organisation):
    nadia = sign_up_elsewhere(organisation)
    User.objects.filter(pk=nadia.pk).update(organisation=other_organisation)

    log_in_by_code(client, NADIA)

    nadia.refresh_from_db()
    assert (nadia.organisation, nadia.proposed_organisation) == (other_organisation, None)


def test_sign_ups_waiting_for_their_code_when_deployed_are_proposed_not_settled(organisation):
    migration = importlib.import_module("learners.migrations.0023_proposed_organisation")

    def agent(email: str, verified: bool) -> User:
        account = User.objects.create_user(
            email=email, role=User.Role.PUBLIC_AGENT, organisation=organisation
        )
        EmailAddress.objects.create(user=account, email=email, verified=verified, primary=True)
        return account

    waiting = agent("attente@mairie-test.fr", verified=False)
    confirmed = agent("confirmee@mairie-test.fr", verified=True)

    migration.propose_pending_signups(apps, None)

    waiting.refresh_from_db()
    confirmed.refresh_from_db()
    assert waiting.proposed_organisation == organisation
    # Her address is confirmed: the organisation is hers already.
    assert confirmed.proposed_organisation is None
