"""A form sent back with errors, as a screen reader meets it: one summary the script
focuses, and every description, label and summary link pointing at something real."""

# Fixtures come from the modules that define them: imported, then named as arguments.
# ruff: noqa: F401, F811
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from learners import assessments, services
from learners.models import Attempt
from tests.html_checks import error_summary, missing_references, soup_of
from tests.learners.quiz_helpers import right_form, set_quiz
from tests.learners.test_attendance import session
from tests.learners.test_invitation import INVITE_URL, csv_file
from tests.learners.test_positioning import (
    answered_form,
    camille_enrolled,
    track,
)
from tests.learners.test_quiz import quiz, start

AGENT_SIGNUP_URL = "/agents/inscription/"
SIGNUP_URL = "/comptes/signup/"


@pytest.fixture
def in_english(client, settings):
    """The interface in English: the words checked are the templates' own."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_page_loads_the_script_that_focuses_the_error_summary(in_english, db):
    soup = soup_of(in_english.get(AGENT_SIGNUP_URL))
    script = soup.find("script", src=re.compile(r"js/error-summary\.js$"))
    assert script is not None and script.has_attr("defer")
    # The title's prefix is translated by the template: the script only reads it.
    assert soup.body["data-error-title"] == "Error:"


def test_the_agent_sign_up_describes_each_field_by_its_help_and_its_errors(client, db):
    blank = soup_of(client.get(AGENT_SIGNUP_URL))
    assert missing_references(blank) == []
    assert blank.find(id="id_full_name")["aria-describedby"] == "id_full_name_helptext"

    soup = soup_of(client.post(AGENT_SIGNUP_URL, {"full_name": "", "email": ""}))
    assert missing_references(soup) == []
    full_name = soup.find(id="id_full_name")
    assert full_name["aria-invalid"] == "true"
    assert full_name["aria-describedby"].split() == ["id_full_name_helptext", "id_full_name_error"]
    assert soup.find(id="id_full_name_error").get_text(strip=True)
    assert error_summary(soup).find("a", href="#id_full_name")


def test_the_sign_up_shows_its_errors_in_the_summary_and_the_role_as_a_fieldset(client, db):
    response = client.post(SIGNUP_URL, {"email": "nouvelle@example.org", "password1": "court"})
    soup = soup_of(response)
    assert missing_references(soup) == []
    assert error_summary(soup).find("a", href="#id_role_0")
    # The password rules are a list: inside a <div>, not a <span> inside a <p>.
    rules = soup.find(id="id_password1_helptext")
    assert rules.name == "div" and rules.find("ul") and rules.find_parent("p") is None
    role = soup.find("input", attrs={"name": "role"}).find_parent("fieldset")
    assert role is not None and role.legend.get_text(strip=True)
    assert "id_role_error" in role["aria-describedby"].split()


def test_a_wrong_password_is_said_in_the_summary(client, camille):
    response = client.post(
        reverse("account_login"), {"login": camille.email, "password": "pas le bon"}
    )
    soup = soup_of(response)
    summary = error_summary(soup)
    assert [item.get_text(strip=True) for item in summary.find_all("li")] != []
    assert summary.find("a") is None  # the error is about no field in particular
    assert missing_references(soup) == []
    # Not twice: the non-field error stays out of the fields.
    assert not soup.select("form ul.errorlist.nonfield")


def test_the_password_change_form_refers_only_to_existing_ids(client, camille):
    client.force_login(camille)
    soup = soup_of(
        client.post(
            reverse("account_change_password"),
            {"oldpassword": "faux", "password1": "a", "password2": "b"},
        )
    )
    assert missing_references(soup) == []
    assert error_summary(soup).find("a", href="#id_oldpassword")


def test_the_positioning_scale_says_what_each_level_means_and_errors_are_described(
    client,
    in_english,
    camille_enrolled,
    track,
):
    client.force_login(camille_enrolled)
    url = reverse("learners:positioning", args=[track.pk])
    client.get(url)
    attempt = Attempt.objects.positionings().get(learner=camille_enrolled)
    response = client.post(url, answered_form(attempt, B1=5))
    soup = soup_of(response)
    assert missing_references(soup) == []
    assert error_summary(soup)
    labels = [label.get_text(strip=True) for label in soup.select("#self-B1 label")]
    assert labels == [
        "1 — I am discovering it",
        "2 — I apply it with help",
        "3 — I master it",
        "4 — I could pass it on",
    ]
    fieldset = soup.find(id="self-B1")
    assert fieldset["aria-describedby"] == "self-B1-error"
    assert soup.find(id="self-B1-error").get_text(strip=True)
    assert {radio.get("aria-invalid") for radio in fieldset.find_all("input")} == {"true"}


def test_a_quiz_question_in_error_marks_its_inputs_invalid_and_describes_them_once(
    client, quiz, camille
):
    attempt = start(camille, quiz)
    client.force_login(camille)
    form = right_form(attempt)
    for question in attempt.questions:
        form = {k: v for k, v in form.items() if not k.startswith(f"q-{question['id']}")}
    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), form)
    assert response.status_code == 400
    soup = soup_of(response)
    assert missing_references(soup) == []
    assert error_summary(soup)
    for question in attempt.questions:
        field = f"q-{question['id']}"
        controls = soup.select(
            f"#question-{question['id']} input:not([type=file]),"
            f" #question-{question['id']} select, #question-{question['id']} textarea"
        )
        assert controls, field
        fieldset = soup.find(id=f"question-{question['id']}")
        for control in controls:
            assert control["aria-invalid"] == "true"
        # Said once: by the group for choices and positions, by the field otherwise
        # (both would read the error twice, entering the group then the option).
        if question["type"] in ("short_answer", "numeric", "open"):
            assert not fieldset.has_attr("aria-describedby")
            assert [c["aria-describedby"] for c in controls] == [f"{field}-error"]
        else:
            # Ticks and positions keep their instruction alongside the error.
            hint = [f"{field}-hint"] if question["type"] in ("multiple_choice", "ordering") else []
            assert fieldset["aria-describedby"].split() == [*hint, f"{field}-error"]
            assert not any(c.has_attr("aria-describedby") for c in controls)


def test_a_refused_attachment_is_the_error_of_the_file_field_not_of_the_text(
    client, journey, camille
):
    services.enrol(camille, journey.track)
    module = set_quiz(
        journey.basics,
        [{"type": "open", "competence": "B1.1", "level": "appliquer", "text": "Votre budget ?"}],
    )
    attempt = assessments.start_attempt(camille, module)
    field = f"q-{attempt.questions[0]['id']}"
    client.force_login(camille)

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {field: "Voici.", f"{field}-file": SimpleUploadedFile("budget.exe", b"MZ\x90\x00")},
    )

    assert response.status_code == 400
    soup = soup_of(response)
    assert missing_references(soup) == []
    assert error_summary(soup).find("a")["href"] == f"#{field}-file"
    upload, text = soup.find(id=f"{field}-file"), soup.find(id=field)
    assert upload["aria-invalid"] == "true"
    assert f"{field}-error" in upload["aria-describedby"].split()
    assert not text.has_attr("aria-invalid") and not text.has_attr("aria-describedby")


def test_a_refused_invitation_list_points_the_addresses_at_the_summary(client, in_english, helene):
    client.force_login(helene)
    empty = soup_of(client.post(INVITE_URL, {"emails": "  \n"}))
    assert missing_references(empty) == []
    emails = empty.find(id="id_emails")
    assert emails["aria-invalid"] == "true"
    assert "error-summary" in emails["aria-describedby"].split()
    assert error_summary(empty)

    refused = client.post(INVITE_URL, {"file": csv_file("email\npas-une-adresse\n")})
    assert refused.status_code == 400
    soup = soup_of(refused)
    assert missing_references(soup) == []
    summary = error_summary(soup)
    assert summary.find("table").caption.get_text(strip=True) == "Refused lines"
    # The file was refused, not the addresses (none were typed): the file says so.
    upload = soup.find(id="id_file")
    assert upload["aria-invalid"] == "true"
    # The summary, and the field's own help (the columns expected), both read.
    assert upload["aria-describedby"].split() == ["error-summary", "id_file_helptext"]
    assert soup.find(id="id_file_helptext").get_text(strip=True)
    emails = soup.find(id="id_emails")
    assert not emails.has_attr("aria-invalid")
    assert emails["aria-describedby"] == "id_emails_helptext"
    assert "1 line to correct" in summary.h2.get_text()

    not_text = soup_of(client.post(INVITE_URL, {"file": csv_file("email\n\x00\n")}))
    assert error_summary(not_text).h2.get_text(strip=True).startswith("The file is refused")

    fine = soup_of(client.get(INVITE_URL)).find(id="id_emails")
    assert not fine.has_attr("aria-invalid")
    assert fine["aria-describedby"] == "id_emails_helptext"  # how to separate addresses


def test_errors_of_the_attendance_grid_link_to_no_missing_field(client, karim, session):
    client.force_login(karim)
    response = client.post(
        reverse("learners:session_attendance", args=[session.pk]), {"action": "record"}
    )
    assert response.status_code == 400
    soup = soup_of(response)
    summary = error_summary(soup)
    assert len(summary.find_all("li")) >= 2
    assert missing_references(soup) == []


@pytest.mark.parametrize("url", [AGENT_SIGNUP_URL, SIGNUP_URL, "/comptes/login/"])
def test_a_blank_form_has_no_error_summary(client, db, url):
    assert not soup_of(client.get(url)).select("[data-error-summary]")
