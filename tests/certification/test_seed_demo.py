from io import StringIO

from django.core.management import call_command

from courses.models import CatalogPage, Framework, HomePage
from learners.models import User


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_seed_demo_loads_both_frameworks_the_site_tree_and_the_accounts(db):
    output = seed()
    assert "Demo loaded" in output
    assert set(Framework.objects.values_list("code", flat=True)) == {"RS5142", "SENS-AP"}
    assert HomePage.objects.count() == 1
    assert CatalogPage.objects.child_of(HomePage.objects.get()).count() == 1
    for email in [
        "facilitatrice@example.org",
        "formateur@example.org",
        "agent@example.org",
        "referente@example.org",
        "admin@example.org",
    ]:
        assert User.objects.get(email=email).check_password("campus-demo")
        assert email in output
    agent = User.objects.get(email="agent@example.org")
    assert agent.organisation.name == "Communauté de communes du Pays de Démo"
    assert User.objects.get(email="referente@example.org").is_organisation_manager
    assert User.objects.get(email="admin@example.org").is_superuser


def test_a_second_seed_demo_changes_nothing_and_says_so(db):
    seed()
    counts = {model: model.objects.count() for model in (Framework, User, HomePage, CatalogPage)}
    output = seed()
    assert "nothing changed" in output
    assert {model: model.objects.count() for model in counts} == counts


def test_every_demo_account_logs_in(client, db):
    seed()
    for email in ["facilitatrice@example.org", "formateur@example.org", "agent@example.org",
                  "referente@example.org", "admin@example.org"]:
        response = client.post("/comptes/login/", {"login": email, "password": "campus-demo"})
        assert response.status_code == 302, email
        assert response.url == "/moi/parcours/"
        client.post("/comptes/logout/")
