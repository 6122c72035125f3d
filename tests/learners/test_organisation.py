"""Organisations: INSEE codes from the shipped files, Luhn-checked SIREN, leaving, removal."""

import html

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from learners import insee, organisations
from learners.models import Organisation, User
from tests.learners.test_invitation import invite_and_get_link

VALID_SIRENS = ["732829320", "552032534", "130025265", "356000000"]
INVALID_SIRENS = ["732829321", "123456789", "12345678", "1234567890", "73282932A"]


def test_the_insee_files_hold_18_regions_and_101_departements_each_in_a_known_region():
    regions, departements = insee.regions(), insee.departements()
    assert len(regions) == 18
    assert len(departements) == 101
    assert all(d.region in regions for d in departements.values())
    assert (departements["2A"].region, departements["971"].region) == ("94", "01")
    assert (departements["23"].name, regions["75"].name) == ("Creuse", "Nouvelle-Aquitaine")
    per_region = dict.fromkeys(regions, 0)
    for departement in departements.values():
        per_region[departement.region] += 1
    assert (per_region["84"], per_region["76"], per_region["11"], per_region["94"]) == (
        12,
        13,
        8,
        2,
    )


@pytest.mark.parametrize("siren", VALID_SIRENS)
def test_a_siren_with_a_correct_luhn_checksum_is_accepted(db, siren):
    Organisation(name="Mairie", siren=siren, departement="23").full_clean()


@pytest.mark.parametrize("siren", INVALID_SIRENS)
def test_a_mistyped_siren_is_refused(db, siren):
    with pytest.raises(ValidationError) as error:
        Organisation(name="Mairie", siren=siren).full_clean()
    assert "siren" in error.value.message_dict


@pytest.mark.parametrize(
    ("fields", "wrong"),
    [
        ({"departement": "20"}, "departement"),  # Corsica is 2A and 2B
        ({"departement": "975"}, "departement"),
        ({"region": "12"}, "region"),
        ({"departement": "23", "region": "84"}, "region"),  # Creuse is in Nouvelle-Aquitaine
    ],
)
def test_unknown_or_inconsistent_insee_codes_are_refused(db, fields, wrong):
    with pytest.raises(ValidationError) as error:
        Organisation(name="Mairie", **fields).full_clean()
    assert wrong in error.value.message_dict


def test_the_region_is_filled_from_the_departement(db):
    organisation = Organisation(name="Mairie de Bastia", departement="2B")
    organisation.full_clean()
    assert organisation.region == "94"


def test_an_agent_leaves_their_organisation_from_their_profile(client, sophie):
    client.force_login(sophie)
    url = reverse("organisations:leave")
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    sophie.refresh_from_db()
    assert sophie.organisation is None
    # Nothing left to leave.
    assert client.post(url).status_code == 404


def test_a_manager_about_to_leave_is_told_she_will_no_longer_manage(client, helene, sophie):
    url = reverse("organisations:leave")
    client.force_login(helene)
    assert 'data-testid="leave-stops-managing"' in client.get(url).content.decode()
    client.force_login(sophie)
    assert 'data-testid="leave-stops-managing"' not in client.get(url).content.decode()


def test_a_manager_removes_an_agent_of_their_organisation_after_confirming(client, helene, sophie):
    client.force_login(helene)
    url = reverse("organisations:remove_member", args=[sophie.pk])
    assert client.get(url).status_code == 200
    sophie.refresh_from_db()
    assert sophie.organisation == helene.organisation  # a GET only asks
    assert client.post(url).status_code == 302
    sophie.refresh_from_db()
    assert sophie.organisation is None
    assert sophie.is_active


def test_a_removal_crossing_a_membership_made_elsewhere_undoes_nothing(
    helene, sophie, other_organisation
):
    seen_by_the_manager = User.objects.get(pk=sophie.pk)
    # At the same moment, Sophie joins another organisation by its invitation.
    User.objects.filter(pk=sophie.pk).update(organisation=other_organisation)

    assert organisations.leave_organisation(seen_by_the_manager) is False
    sophie.refresh_from_db()
    assert sophie.organisation == other_organisation


def test_a_manager_removing_an_agent_who_just_left_gets_no_error_page(
    client, helene, sophie, monkeypatch
):
    client.force_login(helene)
    url = reverse("organisations:remove_member", args=[sophie.pk])
    found = []
    members_of = organisations.members_of

    def left_meanwhile(manager):
        # The view finds her a member; by the time the removal checks, she left.
        found.append(manager)
        return members_of(manager) if len(found) == 1 else User.objects.none()

    monkeypatch.setattr(organisations, "members_of", left_meanwhile)

    assert client.post(url).status_code == 302


def test_a_manager_cannot_remove_a_fellow_manager_whom_staff_appointed(client, helene, sophie):
    User.objects.filter(pk=sophie.pk).update(is_organisation_manager=True)
    client.force_login(helene)
    url = reverse("organisations:remove_member", args=[sophie.pk])

    dashboard = client.get(reverse("certification:organisation_dashboard")).text
    asked = client.get(url)
    posted = client.post(url)

    row = dashboard.split(f'data-agent="{sophie.pk}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-testid="agent-manages"' in row and "remove-member-link" not in row
    assert asked.status_code == posted.status_code == 403
    assert "seule l'équipe lui retire ce rôle" in html.unescape(asked.text)
    assert 'data-testid="remove-member-form"' not in asked.text
    sophie.refresh_from_db()
    assert (sophie.organisation, sophie.is_organisation_manager) == (helene.organisation, True)
    with pytest.raises(PermissionError):
        organisations.remove_member(helene, sophie)


def test_removing_a_nameless_agent_names_her_by_the_address_she_was_invited_at(client, helene):
    link = invite_and_get_link(helene, email="agent.pro@mairie.fr", name="")
    visitor = Client()
    visitor.post(link)
    agent = User.objects.get(email="agent.pro@mairie.fr")
    # She signs in with a personal address of her own since.
    User.objects.filter(pk=agent.pk).update(email="perso@example.net", full_name="")
    client.force_login(helene)
    url = reverse("organisations:remove_member", args=[agent.pk])

    page = client.get(url).content.decode()
    removed = client.post(url, follow=True).content.decode()

    assert "agent.pro@mairie.fr" in page and "perso@example.net" not in page
    assert "agent.pro@mairie.fr" in removed and "perso@example.net" not in removed


def test_no_one_removes_an_agent_of_another_organisation_or_themselves(
    client, helene, marc, sophie, camille
):
    for person in (marc, camille, sophie):
        client.force_login(person)
        assert (
            client.post(reverse("organisations:remove_member", args=[sophie.pk])).status_code == 404
        )
    client.force_login(helene)
    assert client.post(reverse("organisations:remove_member", args=[helene.pk])).status_code == 404
    sophie.refresh_from_db()
    helene.refresh_from_db()
    assert helene.organisation is not None
    assert sophie.organisation == helene.organisation


def test_an_agent_is_told_what_her_manager_sees_at_sign_up_on_her_profile_and_in_the_privacy_page(
    client, sophie
):
    assert 'data-testid="manager-sees"' in client.get("/agents/inscription/").content.decode()
    privacy = client.get("/confidentialite/").content.decode()
    assert "Qui voit vos données" in privacy
    assert "vos attestations de sensibilisation" in privacy
    client.force_login(sophie)
    profile = client.get("/moi/profil/").content.decode()
    assert 'data-testid="manager-sees"' in profile
