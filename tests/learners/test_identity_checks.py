"""« Confirm it's you » before the data export, a passwordless erasure, a new address or
password, and a new name for the certificates."""

import html
import re
import time

from django.urls import reverse

from learners import identity_checks
from learners.models import User
from tests.html_checks import soup_of

EXPORT = "/moi/donnees/export.zip"
ERASE = "/moi/donnees/supprimer/"
CONFIRM = "/moi/donnees/confirmer/"
PASSWORD = "campus-test-password"


def signed_in_long_ago(client, user: User):
    # force_login records no sign-in time: as a browser left signed in since yesterday.
    client.force_login(user)
    return client


def without_password(user: User) -> User:
    user.set_unusable_password()
    user.save()
    return user


def code_in(mail) -> str:
    (code,) = re.findall(r"^\s*([A-Z0-9-]{6,})\s*$", mail.body, re.MULTILINE)
    return code


def test_the_export_asks_a_browser_signed_in_long_ago_to_confirm_first(client, camille):
    signed_in_long_ago(client, camille)

    response = client.get(EXPORT)

    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Fmoi%2Fdonnees%2F"
    response = client.get(reverse("learners:my_data"))
    assert "il vous sera demandé de confirmer votre identité" in html.unescape(response.text)
    # No `download` attribute: a link meeting the confirmation would save it as the file.
    link = soup_of(response).select_one("[data-testid=download-my-data]")
    assert link["href"] == EXPORT and not link.has_attr("download")


def test_the_password_confirms_and_the_data_downloads_for_ten_minutes(client, camille):
    signed_in_long_ago(client, camille)

    response = client.post(CONFIRM, {"password": PASSWORD, "next": "/moi/donnees/"})

    assert response.status_code == 302 and response["Location"] == "/moi/donnees/"
    assert "il vous sera demandé" not in html.unescape(client.get("/moi/donnees/").text)
    download = client.get(EXPORT)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"

    session = client.session
    session[identity_checks.CONFIRMED_KEY] = time.time() - identity_checks.RECENT_SECONDS - 1
    session.save()
    assert client.get(EXPORT).status_code == 302


def test_a_fresh_sign_in_needs_no_confirmation(client, camille):
    client.post(reverse("account_login"), {"login": camille.email, "password": PASSWORD})

    assert client.get(EXPORT).status_code == 200


def test_wrong_passwords_are_refused_and_counted_as_at_login(client, camille, settings):
    signed_in_long_ago(client, camille)

    response = client.post(CONFIRM, {"password": "not-mine", "next": "/moi/donnees/"})
    assert response.status_code == 200
    assert "Ce mot de passe est incorrect." in response.text
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post(CONFIRM, {"password": "not-mine"})

    assert client.post(CONFIRM, {"password": PASSWORD}).status_code == 429
    assert client.get(EXPORT).status_code == 302


def test_a_next_address_elsewhere_is_not_followed(client, camille):
    signed_in_long_ago(client, camille)

    response = client.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.example/"})

    assert response["Location"] == "/moi/profil/"


def test_an_account_without_password_confirms_with_a_mailed_code(client, sophie, mailoutbox):
    signed_in_long_ago(client, without_password(sophie))
    page = client.get(CONFIRM).text
    assert "Envoyez-moi un code" in page and 'name="code"' not in page

    sent = client.post(CONFIRM, {"action": "send_code", "next": ERASE}, follow=True)

    (mail,) = mailoutbox
    assert mail.to == [sophie.email] and "10 minutes" in mail.body
    assert f"Un code a été envoyé à {sophie.email}." in sent.text
    assert 'name="code"' in sent.text
    # Typed as people type it: lower case, the dash left out or a space instead.
    typed = code_in(mail).lower().replace("-", " ")
    response = client.post(CONFIRM, {"code": typed, "next": ERASE})
    assert response["Location"] == ERASE
    assert client.get(ERASE).status_code == 200


def test_without_password_the_erasure_asks_for_the_code_first(client, sophie):
    signed_in_long_ago(client, without_password(sophie))

    response = client.get(ERASE)

    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Fmoi%2Fdonnees%2Fsupprimer%2F"
    assert client.post(ERASE, {"confirmation": sophie.email}).status_code == 302
    assert User.objects.get(pk=sophie.pk).erased_at is None


def test_with_a_password_the_erasure_form_asks_for_it_itself(client, camille):
    signed_in_long_ago(client, camille)

    assert client.get(ERASE).status_code == 200


def test_a_code_allows_five_tries_then_a_new_one_is_needed(client, sophie, mailoutbox):
    signed_in_long_ago(client, without_password(sophie))
    client.post(CONFIRM, {"action": "send_code"})
    code = code_in(mailoutbox[0])

    for _ in range(identity_checks.CODE_TRIES):
        wrong = client.post(CONFIRM, {"code": "ZZZZZZ"})
        assert "Ce code n'est pas correct." in wrong.text.replace("&#x27;", "'")

    refused = client.post(CONFIRM, {"code": code})
    assert refused.status_code == 200
    assert "Trop de codes erronés : demandez-en un nouveau." in refused.text.replace("&#x27;", "'")
    assert client.get(EXPORT).status_code == 302


def test_an_expired_code_is_refused(client, sophie, mailoutbox):
    signed_in_long_ago(client, without_password(sophie))
    client.post(CONFIRM, {"action": "send_code"})
    session = client.session
    session[identity_checks.CODE_KEY]["expires"] = time.time() - 1
    session.save()

    response = client.post(CONFIRM, {"code": code_in(mailoutbox[0])})

    assert "Ce code a expiré : demandez-en un nouveau." in response.text
    assert client.get(EXPORT).status_code == 302


def test_three_codes_a_quarter_of_an_hour_at_most(client, sophie, mailoutbox):
    signed_in_long_ago(client, without_password(sophie))
    for _ in range(identity_checks.CODE_SENDS):
        client.post(CONFIRM, {"action": "send_code"})

    refused = client.post(CONFIRM, {"action": "send_code"}, follow=True)

    assert len(mailoutbox) == identity_checks.CODE_SENDS
    assert "Trois codes ont été envoyés" in refused.text
    # The last code still works.
    response = client.post(CONFIRM, {"code": code_in(mailoutbox[-1]), "next": EXPORT})
    assert response["Location"] == EXPORT


def test_a_code_is_kept_as_its_hash_only(client, sophie, mailoutbox):
    signed_in_long_ago(client, without_password(sophie))
    client.post(CONFIRM, {"action": "send_code"})

    assert code_in(mailoutbox[0]) not in str(client.session[identity_checks.CODE_KEY])


def test_a_failing_mail_server_is_told_and_nothing_is_confirmed(client, sophie, monkeypatch):
    from smtplib import SMTPServerDisconnected

    from django.core.mail import EmailMessage

    signed_in_long_ago(client, without_password(sophie))

    def fail(self, *args, **kwargs):
        raise SMTPServerDisconnected("down")

    monkeypatch.setattr(EmailMessage, "send", fail)
    page = client.post(CONFIRM, {"action": "send_code"}, follow=True).text

    assert "n'a pas pu être envoyé" in page.replace("&#x27;", "'")
    assert "Un code a été envoyé" not in page
    assert client.get(EXPORT).status_code == 302


# --- The name certificates print ------------------------------------------------------------

PROFILE = "/moi/profil/"


def test_a_new_name_waits_for_a_confirmation_and_nothing_typed_is_lost(client, camille):
    signed_in_long_ago(client, camille)

    response = client.post(PROFILE, {"full_name": "Quelqu'un d'autre", "job_title": "Régisseur"})

    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Fmoi%2Fprofil%2F"
    camille.refresh_from_db()
    assert (camille.full_name, camille.job_title) == ("Camille Martin", "")

    back = client.post(CONFIRM, {"password": PASSWORD, "next": PROFILE})
    assert back["Location"] == PROFILE
    page = client.get(PROFILE)
    form = soup_of(page)
    assert form.select_one("#id_full_name")["value"] == "Quelqu'un d'autre"
    assert form.select_one("#id_job_title")["value"] == "Régisseur"
    assert "pas encore enregistrées" in html.unescape(page.text)

    client.post(PROFILE, {"full_name": "Camille Martin-Roux", "job_title": "Régisseuse"})
    camille.refresh_from_db()
    assert (camille.full_name, camille.job_title) == ("Camille Martin-Roux", "Régisseuse")
    assert "pas encore enregistrées" not in html.unescape(client.get(PROFILE).text)


def test_a_name_typed_and_never_confirmed_does_not_greet_the_owner_later(client, camille):
    from learners.views import PROFILE_WAITING_KEY

    signed_in_long_ago(client, camille)
    client.post(PROFILE, {"full_name": "Quelqu'un d'autre", "job_title": ""})
    # Whoever typed it walked away; the owner comes back after a confirmation's time.
    session = client.session
    session[PROFILE_WAITING_KEY]["at"] -= identity_checks.RECENT_SECONDS + 1
    session.save()

    page = client.get(PROFILE)

    assert soup_of(page).select_one("#id_full_name")["value"] == "Camille Martin"
    assert "pas encore enregistrées" not in html.unescape(page.text)


def test_a_job_title_alone_needs_no_confirmation(client, camille):
    signed_in_long_ago(client, camille)

    response = client.post(PROFILE, {"full_name": "Camille Martin", "job_title": "Concierge"})

    assert response.status_code == 302 and response["Location"] == PROFILE
    camille.refresh_from_db()
    assert camille.job_title == "Concierge"


# --- Adding an address or a password: a way to take the account over --------------------


def test_adding_an_address_asks_to_confirm_first(client, camille):
    signed_in_long_ago(client, camille)

    response = client.get("/comptes/email/")
    assert response.status_code == 302
    assert response["Location"] == f"{CONFIRM}?next=%2Fcomptes%2Femail%2F"
    client.post("/comptes/email/", {"action_add": "", "email": "intrus@example.org"})
    assert not camille.emailaddress_set.filter(email="intrus@example.org").exists()

    client.post(CONFIRM, {"password": PASSWORD, "next": "/comptes/email/"})
    assert client.get("/comptes/email/").status_code == 200


def test_setting_a_password_on_a_passwordless_account_asks_for_the_code(client, sophie):
    signed_in_long_ago(client, without_password(sophie))

    response = client.post(
        "/comptes/password/set/", {"password1": "Un-mot-2-passe!", "password2": "Un-mot-2-passe!"}
    )

    assert response.status_code == 302 and response["Location"].startswith(CONFIRM)
    assert not User.objects.get(pk=sophie.pk).has_usable_password()


def test_wrong_current_passwords_when_changing_it_are_counted_as_at_login(
    client, camille, settings
):
    signed_in_long_ago(client, camille)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            "/comptes/password/change/",
            {
                "oldpassword": "guess",
                "password1": "Nouveau-2-passe!",
                "password2": "Nouveau-2-passe!",
            },
        )

    response = client.post(
        "/comptes/password/change/",
        {"oldpassword": PASSWORD, "password1": "Nouveau-2-passe!", "password2": "Nouveau-2-passe!"},
    )

    assert response.status_code == 429
    assert User.objects.get(pk=camille.pk).check_password(PASSWORD)
