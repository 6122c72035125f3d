"""Sign-up answers every bad input with a clear French message and creates nothing."""

import pytest
from django.core import mail

from learners.models import User
from tests.conftest import signed_in_just_now

SIGNUP_URL = "/comptes/signup/"


def signup_data(**overrides) -> dict[str, str]:
    data = {
        "email": "nouvelle@example.org",
        "full_name": "Nadia Nouvelle",
        "role": "facilitator",
        "password1": "Tiers-lieux-2026!",
        "password2": "Tiers-lieux-2026!",
    }
    data.update(overrides)
    return data


def test_a_visitor_signs_up_and_receives_a_confirmation_email(client, db):
    response = client.post(SIGNUP_URL, signup_data())
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle@example.org")
    assert user.full_name == "Nadia Nouvelle"
    assert user.role == User.Role.FACILITATOR
    assert len(mail.outbox) == 1
    assert "/comptes/confirm-email/" in mail.outbox[0].body


def test_signed_in_by_her_confirmation_link_she_corrects_her_name_at_once(client, db):
    import re

    client.post(SIGNUP_URL, signup_data())
    link = re.search(r"/comptes/confirm-email/[^/\s]+/", mail.outbox[0].body).group(0)
    client.post(link)
    assert client.get("/moi/parcours/").status_code == 200  # signed in by the link

    response = client.post("/moi/profil/", {"full_name": "Nadia Nouvelle-Roux", "job_title": ""})

    assert response["Location"] == "/moi/profil/"  # not sent to confirm it's her
    assert User.objects.get(email="nouvelle@example.org").full_name == "Nadia Nouvelle-Roux"


@pytest.mark.parametrize(
    ("overrides", "french_error"),
    [
        ({"email": "pas-une-adresse"}, "Saisissez une adresse de courriel valide."),
        ({"password1": "azerty", "password2": "azerty"}, "Ce mot de passe est trop court."),
        (
            {"password1": "12345678901", "password2": "12345678901"},
            "Ce mot de passe est entièrement numérique.",
        ),
        (
            {"password2": "Autre-mot-de-passe-2026"},
            "Vous devez saisir deux fois le même mot de passe.",
        ),
        ({"full_name": ""}, "Ce champ est obligatoire."),
        (
            {"email": "a" * 250 + "@example.org"},
            "Cette adresse est trop longue (254 caractères au plus).",
        ),
    ],
)
def test_a_bad_sign_up_gives_a_french_error_and_creates_nothing(
    client, db, overrides, french_error
):
    response = client.post(SIGNUP_URL, signup_data(**overrides))
    assert response.status_code == 200
    assert french_error in response.content.decode()
    tried = ["nouvelle@example.org", "pas-une-adresse", overrides.get("email", "")]
    assert not User.objects.filter(email__in=tried).exists()
    assert mail.outbox == []


def test_signing_up_with_an_existing_email_gives_a_french_error_and_creates_nothing(
    client, camille
):
    response = client.post(SIGNUP_URL, signup_data(email=camille.email))
    assert response.status_code == 200
    assert "Un autre utilisateur utilise déjà cette adresse e-mail." in response.content.decode()
    assert User.objects.filter(email=camille.email).count() == 1


# --- The profile keeps the name certificates print --------------------------------


@pytest.mark.parametrize("typed", ["", "   "])
def test_the_profile_refuses_an_empty_name_and_keeps_the_one_certificates_print(
    client, camille, typed
):
    client.force_login(camille)

    response = client.post("/moi/profil/", {"full_name": typed, "job_title": "Coordinatrice"})

    assert response.status_code == 200
    (error,) = response.context["form"].errors["full_name"]
    # Says why the name matters, in French once locale/ has the string, in English until then.
    assert "certificat" in error
    camille.refresh_from_db()
    assert camille.full_name == "Camille Martin"
    assert camille.job_title == ""
    assert "Camille Martin" in client.get("/moi/parcours/").content.decode()


def test_the_profile_saves_a_name_without_the_spaces_around_it(client, camille):
    signed_in_just_now(client, camille)

    response = client.post("/moi/profil/", {"full_name": "  Camille Martin-Roux ", "job_title": ""})

    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.full_name == "Camille Martin-Roux"


# --- Other account forms do not tell who has an account ---------------------------


@pytest.mark.parametrize("url", ["/comptes/password/reset/", "/comptes/login/code/"])
def test_password_reset_and_sign_in_by_code_answer_alike_for_unknown_addresses(
    client, camille, url
):
    known = client.post(url, {"email": camille.email})
    client.logout()
    unknown = client.post(url, {"email": "personne@example.org"})

    assert known.status_code == unknown.status_code == 302
    assert known.url.split("?")[0] == unknown.url.split("?")[0]
    # Each address hears what happened: the unknown one that it has no account here.
    assert sorted(address for message in mail.outbox for address in message.to) == [
        camille.email,
        "personne@example.org",
    ]
    assert not User.objects.filter(email="personne@example.org").exists()


def test_too_many_sign_ups_from_one_connection_are_answered_in_french(client, db, settings):
    settings.ACCOUNT_RATE_LIMITS = {"signup": "1/m/ip"}  # off elsewhere in the suite
    assert client.post(SIGNUP_URL, signup_data()).status_code == 302
    client.logout()

    response = client.post(SIGNUP_URL, signup_data(email="autre@example.org"))

    assert response.status_code == 429
    assert "<h1>Trop de demandes</h1>" in response.content.decode()
    assert not User.objects.filter(email="autre@example.org").exists()
