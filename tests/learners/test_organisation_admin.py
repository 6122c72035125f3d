"""The team's organisations: a name typed at sign-up is offered to other agents only once
the team has read it, and the team appoints and relieves managers (référent·e·s)."""

import html
from importlib import import_module

from bs4 import BeautifulSoup
from django.apps import apps
from django.test import Client
from django.urls import reverse

from learners.models import Organisation, User
from tests.conftest import make_user
from tests.learners.test_agent_login import NEW_ORGANISATION, SIGNUP_URL, signup_data

LIST_URL = reverse("wagtailsnippets_learners_organisation:list")


def _edit_url(organisation: Organisation) -> str:
    return reverse("wagtailsnippets_learners_organisation:edit", args=[organisation.pk])


def _offered(client) -> list[str]:
    page = BeautifulSoup(client.get(SIGNUP_URL).content, "html.parser")
    return [option.get_text() for option in page.select("#id_organisation option[value!='']")]


def _form_data(organisation: Organisation, **changes) -> dict:
    data = {
        "name": organisation.name,
        "kind": organisation.kind,
        "siren": organisation.siren,
        "departement": organisation.departement,
        "region": organisation.region,
        "listing": organisation.listing,
        "new_manager": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_a_name_typed_at_sign_up_is_not_offered_to_the_next_agents(client, organisation):
    client.post(SIGNUP_URL, signup_data(**NEW_ORGANISATION))

    named = Organisation.objects.get(name="Mairie de Guéret")
    assert named.listing == Organisation.Listing.TO_CHECK
    assert _offered(Client()) == [organisation.name]


def test_a_colleague_typing_a_name_not_offered_yet_joins_that_organisation(client, db):
    client.post(SIGNUP_URL, signup_data(**NEW_ORGANISATION))
    named = Organisation.objects.get(name="Mairie de Guéret")

    response = Client().post(
        SIGNUP_URL,
        signup_data(
            **{**NEW_ORGANISATION, "new_organisation_name": "mairie de gueret"},
            email="collegue@mairie-test.fr",
        ),
    )

    assert response.status_code == 302
    colleague = User.objects.get(email="collegue@mairie-test.fr")
    assert colleague.proposed_organisation == named
    assert Organisation.objects.count() == 1


def test_a_name_already_offered_is_to_be_chosen_in_the_list(client, organisation):
    response = client.post(
        SIGNUP_URL, signup_data(**{**NEW_ORGANISATION, "new_organisation_name": organisation.name})
    )

    assert response.status_code == 200
    assert "existe déjà : choisissez-la dans la liste" in html.unescape(response.text)


def test_staff_find_the_names_waiting_and_offer_one(client, staff, organisation):
    Client().post(SIGNUP_URL, signup_data(**NEW_ORGANISATION))
    named = Organisation.objects.get(name="Mairie de Guéret")
    client.force_login(staff)

    waiting = client.get(LIST_URL, {"listing": "to_check"}).text
    assert "Mairie de Guéret" in waiting and organisation.name not in waiting

    response = client.post(_edit_url(named), _form_data(named, listing="offered"))

    assert response.status_code == 302
    assert _offered(Client()) == [organisation.name, "Mairie de Guéret"]


def test_staff_appoint_a_confirmed_member_as_manager_who_then_follows_the_agents(
    client, staff, organisation, sophie
):
    nadia = make_user(
        "nadia@example.org", "Nadia Agent", role=User.Role.PUBLIC_AGENT, organisation=organisation
    )
    client.force_login(staff)

    response = client.post(
        _edit_url(organisation), _form_data(organisation, new_manager=nadia.email)
    )

    assert response.status_code == 302
    nadia.refresh_from_db()
    assert nadia.is_organisation_manager
    manager = Client()
    manager.force_login(nadia)
    assert sophie.full_name in manager.get(reverse("certification:organisation_dashboard")).text


def test_an_address_no_confirmed_member_holds_is_refused_with_the_reason(
    client, staff, organisation, other_organisation
):
    outsider = make_user("outsider@example.org", "Hors Cadre", organisation=other_organisation)
    client.force_login(staff)

    response = client.post(
        _edit_url(organisation), _form_data(organisation, new_manager=outsider.email)
    )

    assert response.status_code == 200
    assert "outsider@example.org" in html.unescape(response.text)
    assert "invitez d'abord la personne" in html.unescape(response.text)
    outsider.refresh_from_db()
    assert not outsider.is_organisation_manager


def test_staff_take_the_role_back_by_unticking_a_manager(client, staff, organisation, helene):
    client.force_login(staff)
    page = BeautifulSoup(client.get(_edit_url(organisation)).content, "html.parser")
    assert page.select_one(f"input[name=managers][value='{helene.pk}']").has_attr("checked")

    response = client.post(_edit_url(organisation), _form_data(organisation))

    assert response.status_code == 302
    helene.refresh_from_db()
    assert not helene.is_organisation_manager
    assert helene.organisation == organisation


def test_an_organisation_with_members_is_not_deleted(client, staff, organisation, sophie):
    empty = Organisation.objects.create(
        name="Nom tapé par erreur", listing=Organisation.Listing.TO_CHECK
    )
    client.force_login(staff)

    kept = client.post(
        reverse("wagtailsnippets_learners_organisation:delete", args=[organisation.pk]),
        follow=True,
    )
    client.post(reverse("wagtailsnippets_learners_organisation:delete", args=[empty.pk]))

    assert "ont encore des membres" in html.unescape(kept.content.decode())
    assert "retirez-la plutôt de l'inscription" in html.unescape(kept.content.decode())
    assert list(Organisation.objects.all()) == [organisation]


def test_only_the_team_manages_organisations_and_no_chooser_lists_them(
    client, karim, staff, organisation
):
    from django.contrib.auth.models import Group, Permission

    from courses.authoring import TRAINERS_GROUP, ensure_authoring_setup

    ensure_authoring_setup()  # trainers have admin access, as in production
    # A trainer the admin is open to, even given the model's permissions by mistake.
    karim.groups.add(Group.objects.get(name=TRAINERS_GROUP))
    karim.user_permissions.add(*Permission.objects.filter(codename__endswith="_organisation"))
    client.force_login(karim)
    response = client.get(LIST_URL)
    assert response.status_code in (302, 403)
    assert organisation.name not in response.text
    client.force_login(staff)
    assert client.get(LIST_URL).status_code == 200
    assert client.get("/cms-admin/snippets/choose/learners/organisation/").status_code == 404


def test_a_name_the_team_withdrew_is_neither_offered_nor_joined_by_typing_it(client, db):
    withdrawn = Organisation.objects.create(
        name="Mairie de Guéret", listing=Organisation.Listing.WITHDRAWN
    )

    response = client.post(SIGNUP_URL, signup_data(**NEW_ORGANISATION))

    assert response.status_code == 200
    assert "ne peut plus être choisie à l'inscription" in html.unescape(response.text)
    assert not User.objects.filter(email="nadia.agent@mairie-test.fr").exists()
    assert withdrawn.name not in _offered(Client())


def test_a_name_waiting_for_the_check_asks_what_any_new_name_asks(client, db):
    Organisation.objects.create(name="Mairie de Guéret", listing=Organisation.Listing.TO_CHECK)

    waiting = client.post(SIGNUP_URL, signup_data(new_organisation_name="Mairie de Guéret"))
    unknown = client.post(SIGNUP_URL, signup_data(new_organisation_name="Mairie de Nulle Part"))

    def errors(response):
        page = BeautifulSoup(response.content, "html.parser")
        return [error.get_text(" ", strip=True) for error in page.select(".error-summary li")]

    assert waiting.status_code == unknown.status_code == 200
    assert errors(waiting) == errors(unknown) != []


def test_names_only_a_waiting_sign_up_gave_are_held_back_at_the_upgrade(
    organisation, other_organisation, sophie
):
    User.objects.create_user(
        email="attente@example.org",
        role=User.Role.PUBLIC_AGENT,
        organisation=other_organisation,
        proposed_organisation=other_organisation,
    )
    # Sophie confirmed the first one; the same sign-up waiting there changes nothing.
    User.objects.filter(pk=sophie.pk).update(proposed_organisation=None)
    User.objects.create_user(
        email="attente2@example.org",
        role=User.Role.PUBLIC_AGENT,
        proposed_organisation=organisation,
    )
    migration = import_module("learners.migrations.0025_organisations_named_at_signup_wait")

    migration.hold_back_what_only_a_sign_up_named(apps, None)

    assert set(Organisation.objects.offered()) == {organisation}


def test_staff_search_organisations_by_name(client, staff, organisation, other_organisation):
    client.force_login(staff)
    found = client.get(LIST_URL, {"q": "Testville"}).text
    assert other_organisation.name in found and organisation.name not in found


def test_someone_of_another_organisation_is_never_made_its_manager(
    organisation, other_organisation
):
    from learners import organisations

    moved = make_user("partie@example.org", "Partie Ailleurs", organisation=other_organisation)

    organisations.appoint_managers(organisation, [moved])

    moved.refresh_from_db()
    assert not moved.is_organisation_manager
