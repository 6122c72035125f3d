"""Public agents sign up without a password and log in with a code mailed to them."""

import html
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from learners import organisations
from learners.models import Organisation, User

SIGNUP_URL = "/agents/inscription/"
NEW_ORGANISATION = {
    "new_organisation_name": "Mairie de Guéret",
    "new_organisation_kind": Organisation.Kind.COMMUNE,
    "new_organisation_departement": "23",
}


def code_in(message) -> str:
    # allauth's login code: two groups of four characters on a line of their own.
    return re.search(r"^\s*([A-Z0-9]{4}-[A-Z0-9]{4})\s*$", message.body, re.MULTILINE).group(1)


def signup_data(**overrides) -> dict[str, str]:
    data = {
        "full_name": "Nadia Agent",
        "email": "Nadia.Agent@Mairie-Test.fr",
        "organisation": "",
        "new_organisation_name": "",
        "new_organisation_kind": "",
        "new_organisation_departement": "",
        "job_title": "",
    }
    data.update(overrides)
    return data


def test_an_agent_signs_up_in_an_existing_organisation_and_logs_in_with_the_mailed_code(
    client, organisation
):
    response = client.post(
        SIGNUP_URL, signup_data(organisation=organisation.pk, job_title="Secrétaire de mairie")
    )
    assert response.status_code == 302
    assert response["Location"] == "/comptes/login/code/confirm/"
    nadia = User.objects.get(email="nadia.agent@mairie-test.fr")
    assert (nadia.role, nadia.organisation, nadia.job_title) == (
        User.Role.PUBLIC_AGENT,
        organisation,
        "Secrétaire de mairie",
    )
    assert not nadia.has_usable_password()
    assert not EmailAddress.objects.get(user=nadia).verified
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [nadia.email]

    response = client.post("/comptes/login/code/confirm/", {"code": code_in(mail.outbox[0])})
    assert response.status_code == 302
    assert client.get("/moi/parcours/").wsgi_request.user == nadia
    assert EmailAddress.objects.get(user=nadia).verified


def test_an_agent_names_a_new_organisation_whose_region_follows_the_departement(client, db):
    response = client.post(
        SIGNUP_URL,
        signup_data(**NEW_ORGANISATION),
    )
    assert response.status_code == 302
    created = Organisation.objects.get(name="Mairie de Guéret")
    assert (created.kind, created.departement, created.region) == ("commune", "23", "75")
    assert User.objects.get(email="nadia.agent@mairie-test.fr").organisation == created


def test_a_sign_up_whose_code_was_never_typed_is_replaced_by_the_next_one(client, organisation):
    elsewhere = Organisation.objects.create(
        name="Mairie de Bastia", kind=Organisation.Kind.COMMUNE, departement="2B"
    )
    # Someone signs Nadia's address up into an organisation she is not part of.
    client.post(SIGNUP_URL, signup_data(organisation=elsewhere.pk, full_name="Nom inventé"))
    mail.outbox.clear()
    # While its code may still be typed, nobody rewrites it.
    assert client.post(SIGNUP_URL, signup_data(organisation=organisation.pk)).status_code == 200
    User.objects.filter(email="nadia.agent@mairie-test.fr").update(
        date_joined=timezone.now() - timedelta(minutes=10)
    )

    response = client.post(SIGNUP_URL, signup_data(organisation=organisation.pk))

    assert response.status_code == 302
    nadia = User.objects.get(email="nadia.agent@mairie-test.fr")
    assert (nadia.organisation, nadia.full_name) == (organisation, "Nadia Agent")
    assert [m.to for m in mail.outbox] == [[nadia.email]]  # a fresh code
    confirmed = client.post(
        "/comptes/login/code/confirm/", {"code": code_in(mail.outbox[0])}, follow=True
    )
    assert EmailAddress.objects.get(user=nadia).verified
    # Her first login says which organisation she joined, and how to leave it.
    said = " ".join(str(m) for m in confirmed.context["messages"])
    assert "agent de « Communauté de communes du Val Test »" in said
    # Claimed now: the address is hers, and a sign-up with it is refused.
    client.logout()
    again = client.post(SIGNUP_URL, signup_data(organisation=elsewhere.pk))
    assert again.status_code == 200
    assert "email" in again.context["form"].errors
    assert User.objects.get(pk=nadia.pk).organisation == organisation


def test_a_browser_whose_sign_up_was_rewritten_since_confirms_nothing_it_did_not_send(
    client, organisation
):
    from django.test import Client

    elsewhere = Organisation.objects.create(
        name="Mairie de Bastia", kind=Organisation.Kind.COMMUNE, departement="2B"
    )
    client.post(SIGNUP_URL, signup_data(organisation=organisation.pk))  # Nadia's browser
    her_code = code_in(mail.outbox[-1])
    User.objects.filter(email="nadia.agent@mairie-test.fr").update(
        date_joined=timezone.now() - timedelta(minutes=10)
    )
    # Her code was not typed in time: someone else's sign-up rewrites hers.
    Client().post(SIGNUP_URL, signup_data(organisation=elsewhere.pk, full_name="Nom inventé"))

    # Back in the browser of her own sign-up, she signs in.
    client.post("/comptes/login/code/confirm/", {"code": her_code})

    nadia = User.objects.get(email="nadia.agent@mairie-test.fr")
    assert nadia.last_login is not None
    # Asked, not made a member of the organisation someone else chose for her.
    assert (nadia.organisation, nadia.proposed_organisation) == (None, elsewhere)


def test_an_organisation_typed_without_its_accent_or_with_extra_spaces_is_the_existing_one(
    client, db
):
    existing = Organisation.objects.create(
        name="Mairie de Guéret", kind=Organisation.Kind.COMMUNE, departement="23"
    )

    typed = {**NEW_ORGANISATION, "new_organisation_name": "mairie  de GUERET"}

    refused = client.post(SIGNUP_URL, signup_data(**typed))

    assert refused.status_code == 200
    assert refused.context["form"].errors["new_organisation_name"] == [
        "« Mairie de Guéret » existe déjà : choisissez-la dans la liste."
    ]
    assert list(Organisation.objects.all()) == [existing]
    assert not User.objects.filter(email="nadia.agent@mairie-test.fr").exists()


def test_an_address_taken_by_another_request_meanwhile_is_said_and_leaves_no_organisation(
    client, db, monkeypatch
):
    register = organisations.register_agent

    def after_a_double_click(**fields):
        # The first of two identical requests committed between this one's checks
        # and its writes.
        User.objects.create_user(email=fields["email"], full_name="Nadia Agent")
        return register(**fields)

    monkeypatch.setattr(organisations, "register_agent", after_a_double_click)

    response = client.post(
        SIGNUP_URL,
        signup_data(**NEW_ORGANISATION),
    )

    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not Organisation.objects.filter(name="Mairie de Guéret").exists()
    assert mail.outbox == []


def test_an_organisation_named_by_another_request_meanwhile_is_said_not_an_error(
    client, db, monkeypatch
):
    register = organisations.register_agent

    def after_a_double_click(**fields):
        # The first request created the organisation, then failed on something else.
        Organisation.objects.create(**fields["new_organisation"])
        return register(**fields)

    monkeypatch.setattr(organisations, "register_agent", after_a_double_click)

    response = client.post(SIGNUP_URL, signup_data(**NEW_ORGANISATION))

    assert response.status_code == 200
    assert "new_organisation_name" in response.context["form"].errors
    assert not User.objects.filter(email="nadia.agent@mairie-test.fr").exists()


def test_an_address_another_account_confirmed_cannot_sign_up_again(client, camille):
    EmailAddress.objects.create(user=camille, email="c.martin@mairie-test.fr", verified=True)

    response = client.post(SIGNUP_URL, signup_data(email="C.Martin@mairie-test.fr"))

    assert response.status_code == 200
    [refusal] = response.context["form"].errors["email"]
    assert "Un compte utilise déjà cette adresse" in refusal
    assert not User.objects.filter(email__iexact="c.martin@mairie-test.fr").exists()


def test_a_known_agent_logs_in_again_by_code_without_a_password(client, sophie):
    response = client.post("/comptes/login/code/", {"email": sophie.email})
    assert response.status_code == 302
    code = code_in(mail.outbox[-1])
    assert client.post("/comptes/login/code/confirm/", {"code": "WRONG1"}).status_code == 200
    assert client.post("/comptes/login/code/confirm/", {"code": code}).status_code == 302
    assert client.get("/moi/parcours/").wsgi_request.user == sophie


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"email": "pas-une-adresse", "organisation": "ORG"}, "email"),
        ({"email": "sophie@example.org", "organisation": "ORG"}, "email"),
        # Valid for Django's form field (320 characters), longer than the column (254).
        ({"email": "a" * 250 + "@example.org", "organisation": "ORG"}, "email"),
        ({"full_name": "", "organisation": "ORG"}, "full_name"),
        ({}, "organisation"),  # neither chosen nor named
        ({"organisation": "999999"}, "organisation"),
        (
            {"organisation": "ORG", "new_organisation_name": "Autre"},
            "new_organisation_name",
        ),
        (
            {
                "new_organisation_name": "communauté de communes du val test",
                "new_organisation_kind": "epci",
                "new_organisation_departement": "23",
            },
            "new_organisation_name",
        ),
        (
            {"new_organisation_name": "Mairie", "new_organisation_departement": "23"},
            "new_organisation_kind",
        ),
        (
            {
                "new_organisation_name": "Mairie",
                "new_organisation_kind": "commune",
                "new_organisation_departement": "20",
            },
            "new_organisation_departement",
        ),
    ],
)
def test_a_bad_agent_sign_up_names_the_field_and_creates_nothing(
    client, sophie, organisation, overrides, field
):
    if overrides.get("organisation") == "ORG":
        overrides["organisation"] = str(organisation.pk)
    users, organisations = User.objects.count(), Organisation.objects.count()
    response = client.post(SIGNUP_URL, signup_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert (User.objects.count(), Organisation.objects.count()) == (users, organisations)
    assert mail.outbox == []


def test_an_agent_without_a_password_is_offered_to_set_one_not_to_change_it(client, sophie):
    sophie.set_unusable_password()
    sophie.save()
    client.force_login(sophie)
    page = client.get(reverse("learners:profile")).text
    assert reverse("account_set_password") in page
    assert reverse("account_change_password") not in page


def test_sign_ups_are_limited_per_connection_and_codes_per_address_keeping_what_was_typed(
    client, organisation, settings
):
    # Off for the rest of the suite (tests/settings.py): allauth's own limits, low.
    settings.ACCOUNT_RATE_LIMITS = {"signup": "3/m/ip", "request_login_code": "20/m/ip,1/m/key"}
    assert client.post(SIGNUP_URL, signup_data(organisation=organisation.pk)).status_code == 302
    client.logout()
    # Her code lapsed, she signs up again at once: a second code within the minute.
    User.objects.filter(email="nadia.agent@mairie-test.fr").update(
        date_joined=timezone.now() - timedelta(minutes=10)
    )

    again = client.post(SIGNUP_URL, signup_data(organisation=organisation.pk))
    other = client.post(
        SIGNUP_URL, signup_data(organisation=organisation.pk, email="marie@mairie-test.fr")
    )
    too_many = client.post(
        SIGNUP_URL, signup_data(organisation=organisation.pk, email="paul@mairie-test.fr")
    )

    assert again.status_code == 429
    assert "Plusieurs codes viennent d'être envoyés à cette adresse" in html.unescape(again.text)
    assert other.status_code == 302
    assert too_many.status_code == 429
    page = html.unescape(too_many.text)
    assert "Plusieurs inscriptions viennent d'arriver de votre connexion" in page
    assert 'value="paul@mairie-test.fr"' in page
    assert not User.objects.filter(email="paul@mairie-test.fr").exists()
    assert [m.to for m in mail.outbox] == [["nadia.agent@mairie-test.fr"], ["marie@mairie-test.fr"]]
