"""« Mes données »: download everything as a ZIP, and erase the account."""

import csv
import datetime
import io
import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from courses.models import Level
from courses.models.pages import Format
from learners import assessments, exports, services, sessions
from learners.models import (
    ColdSurvey,
    Enrolment,
    Feedback,
    Invitation,
    InvitationBatch,
    LedgerEntry,
    LessonProgress,
    Satisfaction,
    Submission,
    TrainingSession,
    User,
)
from tests.conftest import signed_in_just_now
from tests.learners.factories import competence, level
from tests.learners.quiz_helpers import right_answers, set_quiz, single


@pytest.fixture
def camille_with_history(camille, karim, journey):
    services.enrol(camille, journey.track)
    services.mark_lesson_done(camille, journey.basics.lessons().first())
    services.record_observation(
        karim, camille, competence(journey.framework, "B1.1"), level(journey.framework, 2), "Vu."
    )
    return camille


def download(client, user) -> zipfile.ZipFile:
    signed_in_just_now(client, user)
    response = client.get("/moi/donnees/export.zip")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def read_csv(archive, name):
    """A CSV of the archive as a French spreadsheet reads it: BOM, semicolons."""
    return list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig")), delimiter=";"))


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


def test_a_trainers_export_never_holds_the_address_of_a_learner_with_no_name(
    client, camille_with_history, karim
):
    User.objects.filter(pk=camille_with_history.pk).update(full_name="")

    archive = download(client, karim)

    (given,) = read_csv(archive, "validations_given.csv")
    assert given["learner"] == f"compte n° {camille_with_history.pk}"
    assert b"camille@" not in b"".join(archive.read(name) for name in archive.namelist())


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


def test_wrong_passwords_on_the_erasure_form_lock_it_as_the_login_form(client, camille, settings):
    client.force_login(camille)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/moi/donnees/supprimer/", {"password": "not-my-password"})

    response = client.post("/moi/donnees/supprimer/", {"password": "campus-test-password"})

    assert response.status_code == 429
    assert "account/lockout.html" in [t.name for t in response.templates]
    camille.refresh_from_db()
    assert camille.is_active and camille.email == "camille@example.org"
    # The same address is locked at the login form: guessing here spends its attempts.
    client.logout()
    login = client.post(
        reverse("account_login"), {"login": camille.email, "password": "campus-test-password"}
    )
    assert login.status_code == 429


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
    signed_in_just_now(client, camille)
    response = client.post("/moi/donnees/supprimer/", {"confirmation": "autre@example.org"})
    assert response.context["form"].errors["confirmation"]
    response = client.post("/moi/donnees/supprimer/", {"confirmation": " Camille@Example.org "})
    assert response.status_code == 302
    camille.refresh_from_db()
    assert camille.erased_at is not None


# --- Everything else the platform holds -----------------------------------------------


OPEN = {
    "type": "open",
    "competence": "B1.1",
    "level": "appliquer",
    "text": "Décrivez votre lieu.",
    "explanation": "Attendus.",
}
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def future_session(track, *, days=10, capacity=5):
    starts_on = timezone.localdate() + datetime.timedelta(days=days)
    return TrainingSession.objects.create(
        track=track, format=Format.ONLINE, starts_on=starts_on, ends_on=starts_on, capacity=capacity
    )


def give_a_history(learner, karim, journey, submit, *, size=1):
    """Quiz answers, an open answer with a file graded by Karim, seats, surveys, evidence:
    `size` of most."""
    services.enrol(learner, journey.track)
    questions = [single(text="Quel lieu ?")] + [single(text=f"Q{n}") for n in range(1, size)]
    module = set_quiz(journey.basics, [*questions, OPEN])
    attempt = assessments.start_attempt(learner, module)
    open_id = attempt.questions[[q["type"] for q in attempt.questions].index("open")]["id"]
    answers = right_answers(attempt) | {open_id: "Une friche à Die."}
    upload = SimpleUploadedFile("piece.pdf", PDF, content_type="application/pdf")
    submit(attempt, answers, {open_id: upload})
    submission = Submission.objects.get(learner=learner)
    assessments.grade_submission(
        karim,
        submission,
        validated=True,
        level=Level.objects.get(framework=journey.framework, rank=3),
        comment="Analyse précise.",
    )
    for n in range(1, size):
        Submission.objects.create(
            learner=learner,
            module=journey.basics,
            competence=competence(journey.framework, "B1.2"),
            text=f"Portfolio {n}",
            graded_by=karim,
            level=level(journey.framework, 2),
        )
        services.record_observation(
            karim,
            learner,
            competence(journey.framework, "B1.2"),
            level(journey.framework, 2),
            f"Vu {n}.",
        )
    for days in range(size):
        sessions.take_seat(learner, future_session(journey.track, days=10 + days))
    Satisfaction.objects.create(learner=learner, module=journey.basics, rating=4, comment="Utile.")
    ColdSurvey.objects.create(
        learner=learner,
        track=journey.track,
        due_at=timezone.now(),
        answered_at=timezone.now(),
        rating=5,
        usefulness=4,
        applied=True,
        comment="Mis en pratique.",
    )


@pytest.fixture
def camille_with_everything(camille, karim, journey, submit, settings, tmp_path, organisation):
    settings.MEDIA_ROOT = tmp_path
    give_a_history(camille, karim, journey, submit)
    batch = InvitationBatch.objects.create(organisation=organisation, total=1)
    Invitation.objects.create(
        batch=batch,
        organisation=organisation,
        email="Camille@example.org",
        full_name="Camille Martin",
        job_title="Médiatrice",
        sent_at=timezone.now(),
    )
    return camille


def test_the_export_holds_quizzes_submissions_seats_surveys_and_invitations(
    client, camille_with_everything, journey
):
    archive = download(client, camille_with_everything)

    (attempt,) = read_csv(archive, "quiz_attempts.csv")
    assert (attempt["kind"], attempt["title"], attempt["status"]) == (
        "quiz",
        journey.basics.title,
        "submitted",
    )
    answers = {row["question"]: row for row in read_csv(archive, "quiz_answers.csv")}
    assert answers["Quel lieu ?"]["answer"] == "Option 1"
    assert answers["Quel lieu ?"]["score"] == "1.0"
    assert answers["Décrivez votre lieu."]["answer"] == "Une friche à Die."
    (submission,) = read_csv(archive, "submissions.csv")
    assert submission["answer"] == "Une friche à Die."
    assert submission["file_name"] == "piece.pdf"
    # The file itself, not only its name: the person's own work.
    assert archive.read(submission["file"]) == PDF
    assert submission["status"] == "validated"
    assert submission["graded_by"] == "Karim Benali"
    assert submission["level"] == "Maîtriser"
    assert submission["trainer_comment"] == "Analyse précise."
    (seat,) = read_csv(archive, "seats.csv")
    assert seat["status"] == "confirmed" and seat["track"] == journey.track.title
    assert "token" not in json.dumps(json.loads(archive.read("data.json"))["seats"])
    (satisfaction,) = read_csv(archive, "satisfaction.csv")
    assert (satisfaction["rating"], satisfaction["comment"]) == ("4", "Utile.")
    (survey,) = read_csv(archive, "cold_surveys.csv")
    assert (survey["rating"], survey["comment"]) == ("5", "Mis en pratique.")
    (invitation,) = read_csv(archive, "invitations.csv")
    assert invitation["job_title"] == "Médiatrice"
    assert invitation["organisation"] == "Communauté de communes du Val Test"
    readme = archive.read("README.txt").decode()
    assert "quiz_answers.csv" in readme and "seats.csv" in readme
    # Read by the person: in their language (French here); the file names stay.
    assert "export de vos données personnelles" in readme
    assert "vos places en session de formation" in readme


def test_a_trainers_export_holds_the_session_feedback_they_wrote(client, karim, journey):
    Feedback.objects.create(
        track=journey.track,
        respondent=Feedback.Respondent.TRAINER,
        author=karim,
        author_name="Karim Benali",
        rating=4,
        strengths="Groupe investi.",
        improvements="Plus de pauses.",
    )

    archive = download(client, karim)

    (feedback,) = read_csv(archive, "feedback_given.csv")
    assert (feedback["strengths"], feedback["improvements"]) == (
        "Groupe investi.",
        "Plus de pauses.",
    )


def test_the_new_tables_hold_nothing_of_another_learner(client, camille_with_everything, dominique):
    archive = download(client, dominique)
    data = json.loads(archive.read("data.json"))
    for name in ("quiz_attempts", "quiz_answers", "submissions", "seats", "satisfaction"):
        assert data[name] == [], name
    assert data["cold_surveys"] == data["invitations"] == data["feedback_given"] == []


@pytest.mark.parametrize("size", [1, 8])
def test_the_export_costs_the_same_queries_whatever_the_history(
    client, camille, karim, journey, submit, settings, tmp_path, size, django_assert_max_num_queries
):
    settings.MEDIA_ROOT = tmp_path
    give_a_history(camille, karim, journey, submit, size=size)
    signed_in_just_now(client, camille)

    # 25 today: each table one or two queries, plus the request's session and account.
    with django_assert_max_num_queries(28):
        response = client.get("/moi/donnees/export.zip")

    assert response.status_code == 200
    data = json.loads(
        zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("data.json")
    )
    assert len(data["quiz_answers"]) == len(data["seats"]) + 1 == size + 1


@pytest.mark.parametrize("policy", ["never", "after_passing"])
def test_the_export_hides_which_answers_were_right_where_the_quiz_does(
    client, camille, journey, policy
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single(text="Quel lieu ?")], feedback=policy)
    attempt = assessments.start_attempt(camille, module)
    wrong = next(o["key"] for o in attempt.questions[0]["options"] if not o["correct"])
    assessments.submit_attempt(attempt, {attempt.questions[0]["id"]: wrong})

    (answer,) = read_csv(download(client, camille), "quiz_answers.csv")
    # Failed with attempts left: the key stays hidden, the answer given stays theirs.
    assert answer["score"] == ""
    assert answer["answer"] != ""


def test_a_file_gone_from_the_storage_leaves_the_rest_of_the_export_whole(
    client, camille_with_everything
):
    submission = Submission.objects.get(learner=camille_with_everything)
    submission.file.storage.delete(submission.file.name)

    archive = download(client, camille_with_everything)

    (row,) = read_csv(archive, "submissions.csv")
    assert row["file"] not in archive.namelist()
    assert row["answer"] == "Une friche à Die."


def test_a_file_whose_name_leaves_nothing_usable_is_exported_under_a_plain_one(
    client, camille_with_everything
):
    Submission.objects.filter(learner=camille_with_everything).update(file_name="()")

    archive = download(client, camille_with_everything)

    (row,) = read_csv(archive, "submissions.csv")
    assert row["file"].endswith("-fichier")
    assert archive.read(row["file"]) == PDF


def test_the_archives_tables_open_in_a_french_spreadsheet(client, camille, journey):
    services.enrol(camille, journey.track)
    archive = zipfile.ZipFile(exports.personal_data_archive(camille))

    raw = archive.read("enrolments.csv")

    # A byte order mark (accents read right) and semicolons (columns read right).
    assert raw.startswith("\ufeff".encode())
    assert raw.decode("utf-8-sig").splitlines()[0] == "kind;title;enrolled_at;left_at"


def test_the_export_holds_the_sign_in_records_the_privacy_page_lists(client, camille, dominique):
    from axes.models import AccessFailureLog, AccessLog

    AccessLog.objects.create(
        username="Camille@Example.org", ip_address="192.0.2.7", user_agent="Firefox"
    )
    AccessFailureLog.objects.create(
        username="camille@example.org",
        ip_address="198.51.100.4",
        user_agent="Curl",
        locked_out=False,
    )
    AccessLog.objects.create(username="dominique@example.org", ip_address="192.0.2.9")

    archive = download(client, camille)

    rows = read_csv(archive, "sign_in_records.csv")
    typed_here = {"192.0.2.7", "198.51.100.4"}  # the test client's own sign-in aside
    assert [
        (r["kind"], r["ip_address"], r["browser"]) for r in rows if r["ip_address"] in typed_here
    ] == [
        ("sign_in", "192.0.2.7", "Firefox"),
        ("failed_sign_in", "198.51.100.4", "Curl"),
    ]
    assert "192.0.2.9" not in archive.read("sign_in_records.csv").decode()
    assert "sign_in_records.csv" in archive.read("README.txt").decode()


def test_the_export_names_the_organisation_a_sign_up_proposed_and_the_pages_visited(
    client, camille, organisation, journey
):
    from learners.session_models import ActivityEvent

    User.objects.filter(pk=camille.pk).update(proposed_organisation=organisation)
    lesson = journey.basics.lessons().first()
    ActivityEvent.objects.create(
        learner=camille, kind=ActivityEvent.Kind.LESSON_VIEWED, page=lesson
    )

    archive = download(client, camille)

    profile = json.loads(archive.read("profile.json"))
    assert profile["organisation_named_at_sign_up"] == organisation.name
    (event,) = [r for r in read_csv(archive, "activity.csv") if r["kind"] == "lesson_viewed"]
    assert event["page"] == lesson.title
