"""Account mails (confirmation, sign-in code, password reset) when the mail server fails.

They are sent while the person waits: a failure is told to her at once, and what
she did is kept, rather than ending on a server error.
"""

import pytest
from django.contrib.messages import get_messages

from learners.models import User
from tests.learners.test_agent_login import SIGNUP_URL as AGENT_SIGNUP_URL
from tests.learners.test_agent_login import signup_data as agent_signup_data
from tests.learners.test_signup import SIGNUP_URL, signup_data

NOT_SENT = "pas pu être envoyé"


def told(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_a_facilitator_signing_up_while_mail_is_down_keeps_her_account_and_is_told(
    client, db, mail_server_down, caplog
):
    response = client.post(SIGNUP_URL, signup_data())

    assert response.status_code == 302
    assert User.objects.filter(email="nouvelle@example.org").exists()
    assert mail_server_down.tries == 1
    [message] = told(response)
    assert NOT_SENT in message and "nouvelle@example.org" in message
    assert "contact@example.org" in message
    assert "could not be sent" in caplog.text
    assert "nouvelle@example.org" not in caplog.text  # logs outlive an erasure


def test_the_page_after_sign_up_shows_that_the_confirmation_did_not_go(
    client, db, mail_server_down
):
    response = client.post(SIGNUP_URL, signup_data(), follow=True)

    assert response.status_code == 200
    page = response.content.decode()
    assert NOT_SENT in page
    assert "Rien n'a été envoyé" in page
    assert "Nous vous avons envoyé un e-mail" not in page
    # Once: the page asked again later says what it usually says.
    again = client.get(response.wsgi_request.path).content.decode()
    assert "Rien n'a été envoyé" not in again


def test_an_agent_signing_up_while_mail_is_down_keeps_her_account_and_is_told(
    client, organisation, mail_server_down
):
    response = client.post(AGENT_SIGNUP_URL, agent_signup_data(organisation=organisation.pk))

    assert response.status_code == 302
    assert User.objects.filter(email="nadia.agent@mairie-test.fr").exists()
    assert any(NOT_SENT in message for message in told(response))


@pytest.mark.parametrize("address", ["camille@example.org", "personne@example.org"])
def test_a_password_reset_while_mail_is_down_says_so_for_any_address_alike(
    client, camille, mail_server_down, address
):
    # Known or unknown address, the same answer: the failure reveals no account.
    camille.email = "camille@example.org"
    camille.save(update_fields=["email"])

    response = client.post("/comptes/password/reset/", {"email": address})

    assert response.status_code == 302
    [message] = told(response)
    assert NOT_SENT in message and address in message
    page = client.get(response["Location"]).content.decode()
    assert "Nous vous avons envoyé un e-mail" not in page


def test_a_sign_in_code_request_while_mail_is_down_says_so(client, sophie, mail_server_down):
    response = client.post("/comptes/login/code/", {"email": sophie.email})

    assert response.status_code == 302
    assert any(NOT_SENT in message for message in told(response))


def test_the_code_page_after_a_failed_code_mail_says_no_code_was_sent(
    client, sophie, mail_server_down
):
    response = client.post("/comptes/login/code/", {"email": sophie.email}, follow=True)

    page = response.content.decode()
    assert 'data-testid="code-not-sent"' in page
    assert "Aucun code n'a été envoyé" in page
    assert "Nous avons envoyé un code" not in page
    assert 'value="resend"' in page  # the way to ask again is on the page


def test_the_code_page_after_a_code_that_went_says_it_was_sent(client, sophie, mailoutbox):
    response = client.post("/comptes/login/code/", {"email": sophie.email}, follow=True)
    page = response.content.decode()
    assert len(mailoutbox) == 1
    assert "Nous avons envoyé un code à" in page and 'data-testid="code-not-sent"' not in page
