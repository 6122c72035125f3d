"""« Mes données »: download everything as a ZIP, and erase the account."""

import csv
import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress

from learners import services
from learners.models import Enrolment, LedgerEntry, LessonProgress, User
from tests.learners.factories import competence, level


@pytest.fixture
def camille_with_history(camille, karim, journey):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    services.record_observation(
        karim, camille, competence(journey.framework, "B1.1"), level(journey.framework, 2), "Vu."
    )
    return camille


def download(client, user) -> zipfile.ZipFile:
    client.force_login(user)
    response = client.get("/moi/donnees/export.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(response.content))


def read_csv(archive, name):
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_the_export_holds_profile_enrolments_progress_and_ledger(
    client, camille_with_history, journey
):
    archive = download(client, camille_with_history)

    assert {
        "README.txt",
        "data.json",
        "profile.json",
        "enrolments.csv",
        "progress.csv",
        "completions.csv",
        "ledger.csv",
        "validations_given.csv",
    } <= set(archive.namelist())
    profile = json.loads(archive.read("profile.json"))
    assert profile["email"] == "camille@example.org"
    assert profile["full_name"] == "Camille Martin"
    assert profile["email_addresses"] == [
        {"email": "camille@example.org", "verified": True, "primary": True}
    ]
    (enrolment,) = read_csv(archive, "enrolments.csv")
    assert enrolment["kind"] == "track" and enrolment["title"] == journey.track.title
    (progress,) = read_csv(archive, "progress.csv")
    assert progress["lesson"] == journey.basics.lessons().first().title
    (entry,) = read_csv(archive, "ledger.csv")
    assert entry["competence"] == "B1.1"
    assert entry["level"] == "Appliquer"
    assert entry["validated_by"] == "Karim Benali"
    assert entry["comment"] == "Vu."
    data = json.loads(archive.read("data.json"))
    assert data["ledger"][0]["competence"] == "B1.1"
    assert data["progress"][0]["lesson"] == progress["lesson"]


def test_the_export_holds_nothing_of_another_learner(client, camille_with_history, dominique):
    archive = download(client, dominique)
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["email"] == "dominique@example.org"
    assert data["enrolments"] == data["progress"] == data["ledger"] == []
    assert b"camille" not in b"".join(archive.read(name) for name in archive.namelist()).lower()


def test_a_trainers_export_lists_the_validations_they_gave(client, camille_with_history, karim):
    archive = download(client, karim)
    (given,) = read_csv(archive, "validations_given.csv")
    assert given["competence"] == "B1.1"


def test_the_confirmation_screen_says_what_is_kept(client, camille):
    client.force_login(camille)
    response = client.get("/moi/donnees/supprimer/")
    html = response.content.decode()
    assert 'data-testid="certificates-retention"' in html
    assert "password" in response.context["form"].fields


def test_a_wrong_password_erases_nothing(client, camille):
    client.force_login(camille)
    response = client.post("/moi/donnees/supprimer/", {"password": "not-my-password"})
    assert response.status_code == 200
    assert response.context["form"].errors["password"]
    camille.refresh_from_db()
    assert camille.is_active and camille.email == "camille@example.org"


def test_an_empty_confirmation_is_answered_with_a_message(client, camille):
    client.force_login(camille)
    response = client.post("/moi/donnees/supprimer/", {})
    assert response.context["form"].errors["password"]


def test_erasing_the_account_anonymises_it_and_keeps_progress_and_ledger(
    client, camille_with_history, journey
):
    camille = camille_with_history
    client.force_login(camille)

    response = client.post("/moi/donnees/supprimer/", {"password": "campus-test-password"})

    assert response.status_code == 302
    camille = User.objects.get(pk=camille.pk)
    assert camille.email.endswith(".invalid") and "camille" not in camille.email
    assert camille.full_name == camille.first_name == camille.last_name == ""
    assert not camille.is_active
    assert not camille.has_usable_password()
    assert camille.erased_at is not None
    assert not EmailAddress.objects.filter(user=camille).exists()
    assert not EmailAddress.objects.filter(email__iexact="camille@example.org").exists()
    # Anonymised, not deleted.
    assert LessonProgress.objects.filter(learner=camille).count() == 1
    assert LedgerEntry.objects.filter(learner=camille).count() == 1
    assert Enrolment.objects.get(learner=camille).left_at is not None
    # Logged out, and cannot log back in.
    assert client.get("/moi/parcours/").status_code == 302
    client.post(
        "/comptes/login/", {"login": "camille@example.org", "password": "campus-test-password"}
    )
    assert client.get("/moi/parcours/").status_code == 302


def test_the_erased_learner_leaves_the_trainers_list(client, camille_with_history, karim):
    services.erase_account(camille_with_history)
    client.force_login(karim)
    assert list(client.get("/moi/apprenants/").context["learners"]) == []


def test_the_address_is_free_again_after_erasure(client, camille, db):
    services.erase_account(camille)
    User.objects.create_user(email="camille@example.org", password="x")


def test_an_account_without_password_confirms_by_typing_its_address(client, camille):
    camille.set_unusable_password()
    camille.save()
    client.force_login(camille)
    response = client.post("/moi/donnees/supprimer/", {"confirmation": "autre@example.org"})
    assert response.context["form"].errors["confirmation"]
    response = client.post("/moi/donnees/supprimer/", {"confirmation": " Camille@Example.org "})
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.erased_at is not None
