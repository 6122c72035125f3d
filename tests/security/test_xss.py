"""Hostile text typed by anyone comes back as text: in every page that shows it, and in PDFs.

Each payload is put in every field a user controls (names, job titles,
organisation names, page titles and summaries, answers, comments, an uploaded
file's name, CSV invitation names); then the pages that show them are read with
an HTML parser. No attribute starting with « on », no script mentioning alert,
no javascript: link, no <img src=x> may appear, and the payload must be shown
escaped, literally.
"""

import csv
import io
import json
from html.parser import HTMLParser
from io import BytesIO

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape
from pypdf import PdfReader
from wagtail.rich_text import RichText
from wagtail.test.utils.form_data import nested_form_data, streamfield

from certification import services as certification
from courses.frameworks_io import FrameworkFileError, parse_json
from courses.models import LessonPage
from learners import assessments
from learners import services as learners
from learners.models import Invitation, Submission
from tests.learners.quiz_helpers import right_answers, set_quiz
from tests.security.conftest import OPEN_QUESTION, PDF

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "javascript:alert(1)",
    "</textarea><svg onload=alert(1)>",
    "{{7*7}}{% now 'Y' %}",
    "'><iframe src=javascript:alert(1)></iframe>",
]


class _Scanner(HTMLParser):
    """Collects what would run in a browser: event handlers, scripts, javascript: URLs."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…>")
            if (
                name in {"href", "src", "action", "formaction", "data"}
                and value
                and value.strip().lower().startswith("javascript:")
            ):
                self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "img" and dict(attrs).get("src") == "x":
            self.problems.append("<img src=x>")
        if tag == "iframe":
            self.problems.append("<iframe>")
        self._script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = False

    def handle_data(self, data):
        if self._script and "alert(" in data:
            self.problems.append(f"<script>{data[:40]}")


def executable_parts(html: str) -> list[str]:
    scanner = _Scanner()
    scanner.feed(html)
    scanner.close()
    return scanner.problems


def assert_shown_as_text(html: str, payload: str, where: str) -> None:
    assert executable_parts(html) == [], where
    assert escape(payload) in html, f"{where}: the payload is not shown escaped"


@pytest.fixture
def hostile(
    request, world, camille, karim, helene, sophie, staff, django_capture_on_commit_callbacks
):
    """The world, with `payload` typed into every user-controlled field."""
    payload = request.param
    organisation = helene.organisation
    organisation.name = f"Mairie {payload}"
    organisation.save()
    for person in (camille, sophie):
        person.full_name = payload
        person.job_title = payload
        person.organisation = organisation
        person.save()
    for page in (world.track, world.module, world.lesson):
        page.title = f"{page.title} {payload}"
        if hasattr(page, "summary"):
            page.summary = payload
        page.save()
    # Rich text as stored (not through the editor, which whitelists on input).
    lesson = LessonPage.objects.get(pk=world.lesson.pk)
    lesson.body = [("paragraph", RichText(f"<p>Texte {escape(payload)}</p>"))]
    lesson.save()
    world.lesson = lesson
    # A second attempt at a second module, with a hostile answer and file name.
    module = set_quiz(world.other_module, [{**OPEN_QUESTION, "competence": "B1.2"}])
    attempt = assessments.start_attempt(camille, module)
    answers = right_answers(attempt)
    qid = attempt.questions[0]["id"]
    answers[qid] = payload
    upload = SimpleUploadedFile(f"{payload}.pdf", PDF, content_type="application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        assessments.submit_attempt(attempt, answers, {qid: upload})
    submission = Submission.objects.get(learner=camille, module=module)
    Submission.objects.filter(pk=world.submission.pk).update(text=payload, file_name=payload)
    assessments.record_satisfaction(camille, world.module, 4, payload)
    competence = world.module.targets.first().competence
    learners.record_observation(
        karim, camille, competence, world.framework.levels.get(rank=2), payload
    )
    assessments.grade_submission(
        module.owner, submission, validated=False, level=None, comment=payload
    )
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certification.reissue(world.certificate, by=staff)
    certificate.refresh_from_db()
    world.certificate = certificate
    return payload


@pytest.mark.parametrize("hostile", PAYLOADS, indirect=True)
def test_hostile_text_is_escaped_in_every_page_that_shows_it(
    client, world, hostile, camille, karim, lea, helene, staff
):
    payload = hostile
    pages = {
        None: [
            ("catalogue", reverse("courses:catalogue"), True),
            ("track page", world.track.url, True),
            ("module page", world.module.url, True),
            ("lesson page", world.lesson.url, True),
            (
                "verification page",
                reverse("certification:verify", args=[world.certificate.code]),
                True,
            ),
            ("agents' sign-up", reverse("organisations:agent_signup"), True),
        ],
        camille: [
            ("dashboard", reverse("learners:dashboard"), True),
            ("profile", reverse("learners:profile"), True),
            ("quiz result", reverse("learners:quiz_result", args=[world.attempt.pk]), False),
        ],
        karim: [
            ("trainer's learners", reverse("learners:trainer_learners"), True),
            ("learner file", reverse("learners:learner_file", args=[camille.pk]), True),
            ("grading page", reverse("learners:grade", args=[world.submission.pk]), True),
            ("grading queue", reverse("learners:grading_queue"), True),
            ("module results", reverse("learners:module_results", args=[world.module.pk]), True),
        ],
        helene: [
            ("manager's agents", reverse("certification:organisation_dashboard"), True),
        ],
        staff: [
            ("territory dashboard", reverse("certification:territory_dashboard"), False),
        ],
    }
    for person, visits in pages.items():
        client.logout()
        if person is not None:
            client.force_login(person)
        for where, url, shows_payload in visits:
            response = client.get(url)
            assert response.status_code == 200, where
            html = response.content.decode()
            assert executable_parts(html) == [], where
            if shows_payload:
                assert escape(payload) in html, f"{where}: the payload is not shown escaped"


def test_rich_text_typed_by_a_trainer_in_the_admin_cannot_carry_a_script(client, world, karim):
    # What Draftail posts: text and a link entity. The converter to the stored
    # HTML escapes the text and drops a javascript: link.
    text = "<script>alert(1)</script> <img src=x onerror=alert(1)> lien"
    contentstate = {
        "blocks": [
            {
                "key": "a1b2c",
                "type": "unstyled",
                "depth": 0,
                "text": text,
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": len(text) - 4, "length": 4, "key": 0}],
            }
        ],
        "entityMap": {
            "0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": "javascript:alert(1)"}}
        },
    }
    data = nested_form_data(
        {
            "title": "Leçon piégée",
            "slug": "lecon-piegee",
            "estimated_minutes": 10,
            "body": streamfield([("paragraph", json.dumps(contentstate))]),
        }
    )
    client.force_login(karim)
    add = reverse("wagtailadmin_pages:add", args=["courses", "lessonpage", world.module.pk])
    response = client.post(add, data)
    assert response.status_code == 302
    draft = LessonPage.objects.get(slug="lecon-piegee").get_latest_revision_as_object()
    html = str(draft.body)
    assert executable_parts(html) == []
    assert escape("<script>alert(1)</script>") in html


def test_rich_text_stored_raw_loses_its_script_on_output(client, world):
    # Wagtail whitelists rich text on input (the editor) only: HTML written by code
    # (imports, data migrations) is cleaned when rendered (courses/rich_text.py).
    lesson = LessonPage.objects.get(pk=world.lesson.pk)
    lesson.body = [
        (
            "paragraph",
            RichText(
                "<p>Texte<script>alert(1)</script><img src=x onerror=alert(1)>"
                '<a href="javascript:alert(1)">lien</a></p>'
            ),
        )
    ]
    lesson.save()
    html = client.get(lesson.url).content.decode()
    assert executable_parts(html) == []
    assert "Texte" in html and ">lien</a>" in html  # the harmless rest is kept


@pytest.mark.parametrize("hostile", [PAYLOADS[0], PAYLOADS[3]], indirect=True)
def test_a_hostile_name_is_printed_literally_on_the_certificate(world, hostile, settings):
    with world.certificate.pdf.open("rb") as handle:
        reader = PdfReader(BytesIO(handle.read()))
    text = "".join(page.extract_text() for page in reader.pages)
    assert hostile in text.replace("\n", "")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_invitation_names_from_a_csv_come_back_escaped(
    client, helene, payload, eager_tasks, isolated, django_capture_on_commit_callbacks
):
    client.force_login(helene)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerows([["email", "full_name", "job_title"], ["bea@example.org", payload, payload]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("organisations:invite"),
            {
                "file": SimpleUploadedFile(
                    "liste.csv", buffer.getvalue().encode(), content_type="text/csv"
                )
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    invitation = Invitation.objects.get(email="bea@example.org")
    assert invitation.full_name == payload
    assert all(
        "<script" not in (m.alternatives[0][0] if m.alternatives else "") for m in mail.outbox
    )
    client.logout()
    link = reverse("organisations:accept_invitation", args=[invitation.token])
    assert executable_parts(client.get(link).content.decode()) == []
    client.post(link)
    client.force_login(helene)
    html = client.get(reverse("certification:organisation_dashboard")).content.decode()
    assert_shown_as_text(html, payload, "manager's agents after the invitation")


def test_a_javascript_url_is_refused_in_a_framework_file(world):
    document = {
        "code": "XSS",
        "version": "1",
        "title": "<script>alert(1)</script>",
        "levels": [{"rank": 1, "code": "n1", "label": "Niveau"}],
        "blocks": [
            {
                "code": "B1",
                "title": "Bloc",
                "competences": [
                    {"code": "C1", "title": "Compétence", "external_uri": "javascript:alert(1)"}
                ],
            }
        ],
    }
    with pytest.raises(FrameworkFileError) as refused:
        parse_json(json.dumps(document))
    assert any("external_uri" in str(problem) for problem in refused.value.problems)
