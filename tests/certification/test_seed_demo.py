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
    for email in [
        "facilitatrice@example.org",
        "formateur@example.org",
        "agent@example.org",
        "referente@example.org",
        "admin@example.org",
    ]:
        response = client.post("/comptes/login/", {"login": email, "password": "campus-demo"})
        assert response.status_code == 302, email
        assert response.url == "/moi/parcours/"
        client.post("/comptes/logout/")


def seed_with_commits(django_capture_on_commit_callbacks) -> str:
    # Issuing follows learners' signals, sent on commit as after a real request.
    with django_capture_on_commit_callbacks(execute=True):
        return seed()


def test_seed_demo_creates_the_awards_of_both_tracks(db, django_capture_on_commit_callbacks):
    from certification.models import Award

    seed_with_commits(django_capture_on_commit_callbacks)
    kinds = {}
    for award in Award.objects.all():
        kinds[award.kind] = kinds.get(award.kind, 0) + 1
    assert kinds == {
        "module": 10,  # one per module of the facilitators' track
        "block": 4,  # RS5142's four blocks
        "certification": 1,
        "awareness": 1,  # agents' track
        "end_of_training": 2,  # both tracks
        "completion": 2,
    }


def test_the_demo_accounts_hold_certificates_earned_through_their_journey(
    db, django_capture_on_commit_callbacks
):
    from certification.models import Certificate
    from tests.certification.conftest import pdf_text

    seed_with_commits(django_capture_on_commit_callbacks)
    facilitator = User.objects.get(email="facilitatrice@example.org")
    held = {c.award.kind: c for c in Certificate.objects.for_holder(facilitator)}
    assert set(held) == {"module", "block"}
    assert held["block"].context["target"]["code"] == "B1"
    assert all(c.pdf and c.pdf_sha256 for c in held.values())
    assert "Camille Martin" in pdf_text(held["module"])

    agent = User.objects.get(email="agent@example.org")
    awareness = Certificate.objects.for_holder(agent).get(award__kind="awareness")
    assert awareness.pdf
    assert "Attestation de sensibilisation" in pdf_text(awareness)


def test_seeding_the_demo_twice_issues_nothing_more(db, django_capture_on_commit_callbacks):
    from certification.models import Award, Certificate
    from learners.models import LedgerEntry

    seed_with_commits(django_capture_on_commit_callbacks)
    counts = [model.objects.count() for model in (Award, Certificate, LedgerEntry)]
    output = seed_with_commits(django_capture_on_commit_callbacks)
    assert "nothing changed" in output
    assert [model.objects.count() for model in (Award, Certificate, LedgerEntry)] == counts


def test_seed_demo_prints_where_to_verify_each_demo_certificate(
    client, db, django_capture_on_commit_callbacks
):
    from certification.models import Certificate

    seed_with_commits(django_capture_on_commit_callbacks)
    # Certificates are issued on commit; a test only commits when the seeding ends.
    output = seed_with_commits(django_capture_on_commit_callbacks)
    certificates = Certificate.objects.valid().filter(learner__email__endswith="@example.org")
    assert certificates.count() >= 3
    for certificate in certificates:
        path = f"/verify/{certificate.code}/"
        assert path in output
        assert client.get(path).status_code == 200
