"""A NUL character anywhere in a URL or a form's text is a clean 400, never a 500.

PostgreSQL refuses NUL in text columns: before the middleware, a code read from
the URL (a framework's, an invitation's, a sign-in link's), a query parameter or
a comment reached the database and failed there. SQLite stores NUL, so these
tests assert the 400 itself, on either database. Files may hold any byte.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learners import assessments
from learners.models import Submission
from tests.learners.quiz_helpers import set_quiz
from tests.security.conftest import OPEN_QUESTION, PDF


def assert_refused_in_french(response) -> None:
    assert response.status_code == 400
    html = response.content.decode()
    assert "Requête invalide" in html
    assert "Traceback" not in html


@pytest.mark.parametrize(
    "url",
    [
        "/referentiels/A%00B/",
        "/referentiels/RS5142/A%00B/",
        "/agents/invitation/A%00B/",
        "/moi/emargement/A%00B/",
        "/moi/satisfaction-a-froid/A%00B/",
        "/verify/A%00B/",
    ],
)
def test_a_nul_character_in_the_path_is_refused(client, camille, url):
    client.force_login(camille)

    assert_refused_in_french(client.get(url))


@pytest.mark.parametrize(
    "url", ["/catalogue/?q=tiers%00lieu", "/moi/parcours/?page=%00", "/?a%00=1"]
)
def test_a_nul_character_in_a_query_parameter_is_refused(client, db, url):
    assert_refused_in_french(client.get(url))


def test_a_nul_character_in_a_grading_comment_is_refused_and_nothing_is_graded(
    client, world, karim
):
    client.force_login(karim)

    response = client.post(
        reverse("learners:grade", args=[world.submission.pk]),
        {"decision": "rework", "comment": "À revoir\x00"},
    )

    assert_refused_in_french(response)
    world.submission.refresh_from_db()
    assert world.submission.graded_at is None


@pytest.fixture
def open_attempt(client, world, camille):
    """Camille's attempt at a quiz with one open question, and its field."""
    module = set_quiz(world.other_module, [{**OPEN_QUESTION, "competence": "B1.2"}])
    attempt = assessments.start_attempt(camille, module)
    client.force_login(camille)
    return attempt, f"q-{attempt.questions[0]['id']}"


def test_a_nul_character_in_a_multipart_answer_is_refused_and_nothing_is_stored(
    client, open_attempt
):
    attempt, field = open_attempt

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {field: "Fab\x00lab", f"{field}-file": SimpleUploadedFile("preuve.pdf", PDF)},
    )

    assert_refused_in_french(response)
    attempt.refresh_from_db()
    assert attempt.is_open
    assert not Submission.objects.filter(attempt=attempt).exists()


def test_a_file_holding_nul_bytes_is_still_accepted(client, open_attempt):
    attempt, field = open_attempt

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {field: "Ma réponse.", f"{field}-file": SimpleUploadedFile("preuve.pdf", PDF + b"\x00")},
    )

    assert response.status_code == 302
    assert Submission.objects.get(attempt=attempt).file_type == "application/pdf"


@pytest.mark.parametrize("code", ["---", "-.json"])
def test_a_verification_code_made_only_of_separators_is_not_found(client, db, code):
    response = client.get(f"/verify/{code}/" if not code.endswith(".json") else f"/verify/{code}")

    assert response.status_code == 404


def test_the_api_refuses_a_nul_character_in_json_as_its_schema_documents(client, db):
    response = client.get("/api/frameworks/RS5142?version=A%00B")

    assert response.status_code == 400
    assert response.json() == {"detail": "Malformed request."}
    schema = client.get("/api/openapi.json").json()
    assert "400" in schema["paths"]["/api/frameworks/{code}"]["get"]["responses"]


def test_a_nul_written_in_another_charset_is_refused_too(client, db):
    # In UTF-7 « +AAA- » is NUL: the raw query string holds no %00.
    response = client.get("/catalogue/?q=+AAA-", CONTENT_TYPE="text/plain; charset=utf-7")

    assert response.status_code == 400


def test_a_request_refused_for_its_size_is_not_blamed_on_characters(client, camille, settings):
    client.force_login(camille)
    fields = {f"f{n}": "x" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = client.post("/moi/profil/", fields)

    assert response.status_code == 400
    html = response.content.decode()
    assert "Requête invalide" in html and "caractères" not in html
