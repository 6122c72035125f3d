"""An administrator brings someone into the operating team from Wagtail's user admin."""

from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from certification import services
from learners.models import User
from tests.conftest import make_user


def certificate_managers() -> Group:
    group = Group.objects.create(name="Gestion des certificats")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_certificate"),
    )
    return group


def test_a_team_member_created_in_the_user_admin_can_revoke_certificates(
    client, staff, setting, camille
):
    group = certificate_managers()
    client.force_login(staff)
    form = client.get(reverse("wagtailusers_users:add"))
    assert 'name="is_staff"' in form.text
    response = client.post(
        reverse("wagtailusers_users:add"),
        {
            "email": "ines@example.org",
            "first_name": "Inès",
            "last_name": "Roux",
            "password1": "Un-mot-de-passe-solide-42",
            "password2": "Un-mot-de-passe-solide-42",
            "is_staff": "on",
            "groups": [group.pk],
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    ines = User.objects.get(email="ines@example.org")
    assert ines.is_staff and not ines.is_superuser

    certificate, _ = services.issue(camille, setting.module_award, render=False)
    client.force_login(ines)
    url = f"/cms-admin/certificates/{certificate.pk}/revoke/"
    assert client.post(url, {"reason": "Délivré par erreur."}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == certificate.Status.REVOKED


def test_an_administrator_can_take_someone_out_of_the_team_but_not_themselves(client, staff):
    member = make_user("ines@example.org", "Inès Roux", is_staff=True)
    client.force_login(staff)

    def edit_page(user) -> str:
        return client.get(reverse("wagtailusers_users:edit", args=[user.pk])).text

    assert 'name="is_staff"' in edit_page(member)
    assert 'name="is_staff"' not in edit_page(staff)
    response = client.post(
        reverse("wagtailusers_users:edit", args=[member.pk]),
        {"email": member.email, "first_name": "Inès", "last_name": "Roux", "is_active": "on"},
    )
    assert response.status_code == 302, response.context["form"].errors
    member.refresh_from_db()
    assert not member.is_staff


def test_a_user_manager_who_is_no_administrator_grants_neither_team_nor_admin_powers(client, staff):
    manager = make_user("rh@example.org", "Ressources Humaines", is_staff=True)
    group = Group.objects.create(name="Gestion des comptes")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_user", content_type__app_label="learners"),
        Permission.objects.get(codename="add_user", content_type__app_label="learners"),
    )
    manager.groups.add(group)
    other = make_user("autre@example.org", "Autre Compte")
    client.force_login(manager)
    page = client.get(reverse("wagtailusers_users:edit", args=[other.pk])).text
    assert 'name="is_staff"' not in page and 'name="is_superuser"' not in page

    response = client.post(
        reverse("wagtailusers_users:edit", args=[other.pk]),
        {
            "email": other.email,
            "first_name": "Autre",
            "last_name": "Compte",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
        },
    )

    assert response.status_code == 302, response.context["form"].errors
    other.refresh_from_db()
    assert (other.is_staff, other.is_superuser) == (False, False)


def test_a_user_manager_touches_neither_an_administrators_account_nor_their_own_groups(
    client, staff
):
    manager = make_user("rh@example.org", "Ressources Humaines", is_staff=True)
    group = Group.objects.create(name="Gestion des comptes")
    group.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="change_user", content_type__app_label="learners"),
    )
    manager.groups.add(group)
    client.force_login(manager)

    taken_over = client.post(
        reverse("wagtailusers_users:edit", args=[staff.pk]),
        {"email": "pirate@example.org", "first_name": "P", "last_name": "P", "is_active": "on"},
    )
    assert taken_over.status_code in (302, 403)
    staff.refresh_from_db()
    assert staff.email == "staff@example.org"

    own = client.get(reverse("wagtailusers_users:edit", args=[manager.pk])).text
    assert 'name="groups"' not in own
    other = make_user("x@example.org", "X")
    assert 'name="groups"' in client.get(reverse("wagtailusers_users:edit", args=[other.pk])).text
