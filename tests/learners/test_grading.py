"""Evidence uploads (type from the bytes) and the trainer's grading of open answers."""

import io
import zipfile
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.contrib.auth.models import Permission
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import querydict_from_html

from courses.models import Level, ModulePage
from learners import assessments, queries, services
from learners.models import LedgerEntry, Submission
from learners.tasks import notify_answers_to_review
from learners.uploads import check_upload
from tests.conftest import make_user
from tests.learners.quiz_helpers import right_answers, set_quiz, single

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.parametrize(
    ("name", "content", "mime"),
    [
        ("piece.pdf", PDF, "application/pdf"),
        ("photo.png", PNG, "image/png"),
        (
            "rapport.docx",
            docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_accepted_files_are_recognised_from_their_content(name, content, mime):
    assert check_upload(upload(name, content)).mime == mime


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("dessin.svg", b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'),
        ("page.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("programme.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 64),
        ("programme2.pdf", b"MZ\x90\x00" + b"\x00" * 64),
        ("archive.docx", b"PK\x03\x04not really a zip"),
    ],
)
def test_svg_html_and_executables_are_refused_whatever_their_name(name, content):
    with pytest.raises(ValueError):
        check_upload(upload(name, content))


def test_a_file_over_10_mb_is_refused():
    with pytest.raises(ValueError):
        check_upload(upload("gros.pdf", PDF + b"0" * (11 * 1024 * 1024)))


OPEN = {
    "type": "open",
    "competence": "B1.1",
    "level": "appliquer",
    "text": "Décrivez votre lieu.",
    "explanation": "Attendus.",
}


@pytest.fixture
def answered(journey, camille, submit):
    """Camille answered the open question of Karim's module, with a PDF attached."""
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN])
    attempt = assessments.start_attempt(camille, module)
    qid = attempt.questions[0]["id"]
    submit(attempt, right_answers(attempt), {qid: upload("piece.pdf", PDF)})
    mail.outbox.clear()  # the graders' notice, tested on its own below
    return Submission.objects.get(learner=camille)


def test_an_open_answer_waits_in_the_module_owners_queue_only(client, answered, karim, lea):
    assert answered.file_type == "application/pdf" and answered.file.name.endswith(".pdf")
    assert list(assessments.grading_queue(karim)) == [answered]
    assert list(assessments.grading_queue(lea)) == []
    client.force_login(lea)
    assert client.get(reverse("learners:grade", args=[answered.pk])).status_code == 404
    assert client.get(reverse("learners:submission_file", args=[answered.pk])).status_code == 404
    client.force_login(karim)
    assert client.get(reverse("learners:grading_queue")).status_code == 200
    download = client.get(reverse("learners:submission_file", args=[answered.pk]))
    assert download.status_code == 200 and "attachment" in download["Content-Disposition"]
    # A learner's work, downloaded on a shared computer: no browser cache keeps it.
    assert download["Cache-Control"] == "private, no-store"


def test_the_grader_sees_the_level_the_question_was_written_for(client, answered, karim, journey):
    aimed = Level.objects.get(framework=journey.framework, code="appliquer")  # OPEN's level
    client.force_login(karim)

    page = BeautifulSoup(
        client.get(reverse("learners:grade", args=[answered.pk])).text, "html.parser"
    )

    assert page.select_one('[data-testid="aimed-level"]').text == (
        f"Niveau visé par la question : {aimed.label}."
    )
    marked = [
        label.text for label in page.select("#grade-form label") if "(le niveau visé)" in label.text
    ]
    assert len(marked) == 1 and aimed.label in marked[0]
    # Nothing is ticked for the grader: the level reached is theirs to judge.
    assert not page.select('#grade-form input[name="level"][checked]')


def test_validating_writes_the_rubric_level_and_tells_the_learner_once(
    client, answered, karim, camille, journey, django_capture_on_commit_callbacks, eager_tasks
):
    level = Level.objects.get(framework=journey.framework, rank=3)
    client.force_login(karim)
    url = reverse("learners:grade", args=[answered.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"decision": "validated", "level": level.pk, "comment": "Très clair."}
        )
    assert response.status_code == 302
    answered.refresh_from_db()
    assert (answered.status, answered.level, answered.graded_by) == ("validated", level, karim)
    entry = LedgerEntry.objects.get(learner=camille, source=LedgerEntry.Source.SUBMISSION)
    assert (entry.level, entry.validated_by) == (level, karim)
    assert [m.to for m in mail.outbox] == [[camille.email]]
    assert client.post(url, {"decision": "rework"}).status_code == 400  # already graded
    client.force_login(camille)
    page = client.get(reverse("learners:dashboard")).content.decode()
    assert f'data-testid="submission-{answered.pk}" data-status="validated"' in page


def test_a_review_without_a_decision_comes_back_as_the_trainer_left_it(
    client, answered, karim, journey
):
    level = Level.objects.get(framework=journey.framework, rank=3)
    client.force_login(karim)
    comment = "Une analyse précise du lieu, à compléter par son modèle économique."

    response = client.post(
        reverse("learners:grade", args=[answered.pk]), {"level": level.pk, "comment": comment}
    )

    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    assert page.select_one("#comment").text == comment
    assert page.select_one(f"#level-{level.pk}").has_attr("checked")
    decision = page.select_one("#decision-validated")
    assert decision["aria-invalid"] == "true"
    assert decision.find_parent("fieldset")["aria-describedby"] == "grade-error"
    assert page.select_one("#error-summary a")["href"] == "#decision-validated"
    answered.refresh_from_db()
    assert answered.status == "pending"


def test_asking_for_rework_writes_no_evidence(answered, karim, camille):
    assessments.grade_submission(karim, answered, validated=False, level=None, comment="Précisez.")
    answered.refresh_from_db()
    assert answered.status == "rework"
    assert not LedgerEntry.objects.filter(source=LedgerEntry.Source.SUBMISSION).exists()


def test_a_rework_request_shows_at_once_on_a_dashboard_kept_in_the_cache(
    client, answered, karim, camille
):
    client.force_login(camille)
    client.get(reverse("learners:dashboard"))
    kept = client.get(reverse("learners:dashboard")).content.decode()
    assert f'data-testid="submission-{answered.pk}" data-status="pending"' in kept

    assessments.grade_submission(karim, answered, validated=False, level=None, comment="Précisez.")

    page = client.get(reverse("learners:dashboard")).content.decode()
    assert f'data-testid="submission-{answered.pk}" data-status="rework"' in page


def test_a_trainer_cannot_grade_another_trainers_module(answered, lea, journey):
    with pytest.raises(PermissionError):
        assessments.grade_submission(
            lea, answered, validated=True, level=journey.framework.levels.first(), comment=""
        )


def test_validating_without_a_level_points_the_error_at_the_levels(client, answered, karim):
    client.force_login(karim)
    response = client.post(reverse("learners:grade", args=[answered.pk]), {"decision": "validated"})
    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    first_level = page.select('input[name="level"]')[0]
    assert page.select_one("#error-summary a")["href"] == f"#{first_level['id']}"
    assert first_level["aria-invalid"] == "true"
    assert first_level.find_parent("fieldset")["aria-describedby"] == "grade-error"


def test_the_learner_reads_which_question_a_comment_is_about_and_its_paragraphs(
    client, answered, karim, camille
):
    assessments.grade_submission(
        karim, answered, validated=False, level=None, comment="Premier point.\n\nSecond point."
    )
    client.force_login(camille)
    page = BeautifulSoup(client.get(reverse("learners:dashboard")).content, "html.parser")
    item = page.select_one(f'[data-testid="submission-{answered.pk}"]')
    assert "Décrivez votre lieu." in item.text
    assert [p.text for p in item.select('[data-testid="submission-comment"] p')] == [
        "Premier point.",
        "Second point.",
    ]


def test_answers_on_a_module_whose_trainer_left_are_graded_by_the_team(
    client, answered, karim, staff, camille, journey
):
    from learners.services import erase_account

    erase_account(karim)
    client.force_login(staff)
    queue = client.get(reverse("learners:grading_queue")).text
    assert f'data-testid="submission-{answered.pk}"' in queue
    assert client.get(reverse("learners:submission_file", args=[answered.pk])).status_code == 200
    level = Level.objects.get(framework=journey.framework, rank=3)

    response = client.post(
        reverse("learners:grade", args=[answered.pk]),
        {"decision": "validated", "level": level.pk, "comment": "Relu par l'équipe."},
    )

    assert response.status_code == 302
    entry = LedgerEntry.objects.get(learner=camille, source=LedgerEntry.Source.SUBMISSION)
    assert entry.validated_by == staff


def test_the_teams_queue_leaves_modules_with_an_active_trainer_to_that_trainer(
    client, answered, staff
):
    client.force_login(staff)
    queue = client.get(reverse("learners:grading_queue")).text
    assert f'data-testid="submission-{answered.pk}"' not in queue


def test_a_file_sent_with_a_form_refused_for_another_answer_is_asked_for_again(
    client, journey, camille
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [{**OPEN, "allow_file": True}, single("B1.1", "appliquer")])
    attempt = assessments.start_attempt(camille, module)
    open_question, choice = attempt.questions
    client.force_login(camille)

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{open_question['id']}": "Mon lieu.",
            f"q-{open_question['id']}-file": upload("piece.pdf", PDF),
            # the other question left blank
        },
    )

    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    note = page.select_one('[data-testid="file-not-kept"]')
    assert "choisissez-le à nouveau" in note.text
    file_input = page.select_one(f"#q-{open_question['id']}-file")
    assert file_input["aria-describedby"] == note["id"]
    assert not Submission.objects.exists()


def ten_minutes_quiz_begun_eleven_ago(client, journey, camille, questions):
    """A 10-minute quiz begun 11 minutes ago: a form sent by a click 10 s before its end
    arrives now, 30 s after the grace ran out, unless its files took that time."""
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, questions, time_limit_minutes=10)
    began = timezone.now() - timedelta(minutes=11)
    attempt = assessments.start_attempt(camille, module, now=began)
    client.force_login(camille)
    return attempt


@pytest.mark.parametrize(
    ("file_size", "accepted"),
    [(5_000_000, True), (1_000, False)],
    ids=["a 5 MB photo's upload", "a small file"],
)
def test_the_upload_of_a_large_file_does_not_count_against_a_timed_quiz(
    client, journey, camille, file_size, accepted
):
    attempt = ten_minutes_quiz_begun_eleven_ago(
        client, journey, camille, [{**OPEN, "allow_file": True}]
    )
    [question] = attempt.questions

    client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{question['id']}": "Mon lieu.",
            f"q-{question['id']}-file": upload("photo.pdf", PDF + b"\n" * file_size),
        },
    )

    attempt.refresh_from_db()
    # 5 MB take 40 s at 1 Mbit/s: that time is the line's, not the learner's.
    assert attempt.status == ("submitted" if accepted else "expired")
    assert Submission.objects.filter(attempt=attempt).exists() == accepted


def test_a_refused_file_sent_by_the_timer_still_counts_the_time_it_took_to_arrive(
    client, journey, camille
):
    attempt = ten_minutes_quiz_begun_eleven_ago(
        client, journey, camille, [{**OPEN, "allow_file": True}]
    )
    [question] = attempt.questions

    # A 5 MB file of a refused kind, sent by the timer: 40 s on the line.
    client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{question['id']}": "Mon lieu.",
            f"q-{question['id']}-file": upload("photo.exe", b"MZ" + b"\0" * 5_000_000),
            "time_up": "1",
        },
    )

    attempt.refresh_from_db()
    assert attempt.status == "submitted"
    (answer,) = Submission.objects.filter(attempt=attempt)
    assert (answer.text, bool(answer.file)) == ("Mon lieu.", False)


def test_files_a_forged_form_adds_buy_no_time(client, journey, camille):
    attempt = ten_minutes_quiz_begun_eleven_ago(client, journey, camille, [single()])
    [question] = attempt.questions

    client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{question['id']}": question["options"][0]["key"],
            # Under a name no question of this quiz answers with a file.
            "padding": upload("rien.pdf", PDF + b"\n" * 5_000_000),
        },
    )

    attempt.refresh_from_db()
    assert attempt.status == "expired"


def test_a_click_arriving_past_the_deadline_with_a_blank_is_scored_not_sent_back(
    client, journey, camille
):
    # Clicked 10 s before the end with a 5 MB file and a question left blank.
    attempt = ten_minutes_quiz_begun_eleven_ago(
        client, journey, camille, [{**OPEN, "allow_file": True}, single("B1.1", "appliquer")]
    )
    open_question, _choice = attempt.questions

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{open_question['id']}": "Mon lieu.",
            f"q-{open_question['id']}-file": upload("photo.pdf", PDF + b"\n" * 5_000_000),
        },
    )

    assert response.status_code == 302
    attempt.refresh_from_db()
    # Scored with the blank counted wrong, its file kept: not sent back to be lost.
    assert attempt.status == "submitted"
    assert Submission.objects.get(attempt=attempt).file


def test_a_rework_request_gives_back_the_attempt_it_takes_to_send_the_rework(
    journey, camille, karim, submit
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN], max_attempts=1)
    submit((first := assessments.start_attempt(camille, module)), right_answers(first))
    assert assessments.quiz_state(camille, module).refusal() is not None  # the one attempt used

    answer = Submission.objects.get(attempt=first)
    assessments.grade_submission(karim, answer, validated=False, level=None, comment="Précisez.")

    state = assessments.quiz_state(camille, module)
    assert (state.attempts_left, state.refusal()) == (1, None)
    second = assessments.start_attempt(camille, module)
    assert second.number == 2


def test_grading_an_answer_whose_author_erased_their_account_meanwhile_says_so(
    client, answered, karim, journey, monkeypatch
):
    level = Level.objects.get(framework=journey.framework, rank=3)
    client.force_login(karim)
    real_grade = assessments.grade_submission

    def erased_just_before(trainer, submission, **kwargs):
        Submission.objects.filter(pk=submission.pk).delete()  # the erasure, in between
        return real_grade(trainer, submission, **kwargs)

    monkeypatch.setattr(assessments, "grade_submission", erased_just_before)
    response = client.post(
        reverse("learners:grade", args=[answered.pk]),
        {"decision": "validated", "level": level.pk},
        follow=True,
    )
    assert response.status_code == 200
    assert "existe plus" in response.text


def test_answers_on_a_module_whose_owner_is_no_longer_a_trainer_go_to_the_team(
    client, answered, karim, staff
):
    karim.role = karim.Role.FACILITATOR  # still active, no longer a trainer
    karim.save()
    client.force_login(staff)
    queue = client.get(reverse("learners:grading_queue")).text
    assert f'data-testid="submission-{answered.pk}"' in queue


def test_the_queue_gives_each_answers_attempt_so_a_retakes_answer_stands_apart(
    client, answered, karim, camille, journey, submit
):
    module = journey.basics
    Submission.objects.filter(pk=answered.pk).update(status="rework")
    retake = assessments.start_attempt(camille, module)
    submit(retake, right_answers(retake))
    client.force_login(karim)
    page = BeautifulSoup(client.get(reverse("learners:grading_queue")).content, "html.parser")
    newest = Submission.objects.get(attempt=retake)
    cells = [td.text for td in page.select(f'[data-testid="submission-{newest.pk}"] td')]
    assert str(retake.number) in cells and retake.number == 2


# --- Correcting a grading -----------------------------------------------------------


def _graded(answered, karim, journey, rank=3):
    level = Level.objects.get(framework=journey.framework, rank=rank)
    assessments.grade_submission(karim, answered, validated=True, level=level, comment="Clair.")
    answered.refresh_from_db()
    return answered


def _rectify(trainer, submission, **choices):
    """The service, on the grading as the trainer opened it."""
    return assessments.correct_grading(
        trainer, submission, **{"graded_at": submission.graded_at, **choices}
    )


def told_of_the_first(submission):
    """The mail of the grading to be corrected went, as it does within seconds."""
    Submission.objects.filter(pk=submission.pk).update(learner_notified_at=timezone.now())
    mail.outbox.clear()


def test_a_grading_corrected_before_its_mail_went_is_announced_once_and_not_as_rectified(
    answered, karim, camille, journey, django_capture_on_commit_callbacks, eager_tasks
):
    graded = _graded(answered, karim, journey, rank=3)  # its mail still waits
    lower = Level.objects.get(framework=journey.framework, rank=2)

    with django_capture_on_commit_callbacks(execute=True):
        _rectify(karim, graded, validated=True, level=lower, comment="Clair.", reason="Relu.")

    [notice] = mail.outbox
    assert notice.to == [camille.email] and "rectifiée" not in notice.subject
    assert lower.label in notice.body
    assert graded.corrections.get().learner_was_told is False


def _correct(client, submission, **data):
    """The correction form as the page renders it (the recorded grading checked), then `data`."""
    url = reverse("learners:grade", args=[submission.pk])
    fields = querydict_from_html(client.get(url).content.decode(), form_id="correct-form").dict()
    return client.post(url, {**fields, **data})


def test_correcting_a_level_withdraws_the_first_and_records_the_right_one_both_kept(
    client, answered, karim, camille, journey, django_capture_on_commit_callbacks, eager_tasks
):
    graded = _graded(answered, karim, journey, rank=3)
    lower = Level.objects.get(framework=journey.framework, rank=2)
    assert queries.level_of(camille, graded.competence).rank == 3
    told_of_the_first(graded)
    client.force_login(karim)

    with django_capture_on_commit_callbacks(execute=True):
        response = _correct(
            client,
            graded,
            decision="validated",
            level=lower.pk,
            comment="Clair, mais le modèle économique manque.",
            reason="Niveau surévalué : la grille demande le modèle économique.",
        )

    assert response.status_code == 302
    graded.refresh_from_db()
    assert (graded.status, graded.level) == ("validated", lower)
    assert graded.comment == "Clair, mais le modèle économique manque."
    first, retraction, second = LedgerEntry.objects.filter(learner=camille).order_by("pk")
    assert (first.level.rank, second.level.rank) == (3, 2)
    assert retraction.retracts == first and retraction.source == LedgerEntry.Source.RETRACTION
    assert retraction.comment == "Niveau surévalué : la grille demande le modèle économique."
    assert retraction.validated_by == karim
    assert queries.level_of(camille, graded.competence).rank == 2
    correction = graded.corrections.get()
    assert (correction.previous_status, correction.previous_level.rank) == ("validated", 3)
    assert (correction.previous_comment, correction.previous_graded_by) == ("Clair.", karim)
    [notice] = mail.outbox
    assert notice.to == [camille.email] and "rectifiée" in notice.subject
    assert "remplace" in notice.body and lower.label in notice.body
    page = BeautifulSoup(client.get(response["Location"]).content, "html.parser")
    history = page.select_one('[data-testid="grading-corrections"]').get_text(" ", strip=True)
    assert "Niveau surévalué" in history and first.level.label in history


def test_a_validation_corrected_to_rework_on_the_page_leaves_no_level_on_the_competence(
    client, answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)
    client.force_login(karim)

    response = _correct(client, graded, decision="rework", reason="Copie mal lue.")

    assert response.status_code == 302
    graded.refresh_from_db()
    assert (graded.status, graded.level) == ("rework", None)
    assert queries.level_of(camille, graded.competence) is None
    assert not LedgerEntry.objects.standing().filter(learner=camille).exists()


def test_a_validation_corrected_to_rework_leaves_no_level_on_the_competence(
    answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)

    _rectify(
        karim,
        graded,
        validated=False,
        level=None,
        comment="Reprenez l'analyse.",
        reason="Mauvaise copie ouverte.",
    )

    graded.refresh_from_db()
    assert (graded.status, graded.level) == ("rework", None)
    assert queries.level_of(camille, graded.competence) is None
    assert LedgerEntry.objects.standing().filter(learner=camille).count() == 0
    assert LedgerEntry.objects.filter(learner=camille).count() == 2


def test_a_rework_request_corrected_to_a_validation_records_the_level(
    answered, karim, camille, journey
):
    assessments.grade_submission(karim, answered, validated=False, level=None, comment="?")
    answered.refresh_from_db()
    level = Level.objects.get(framework=journey.framework, rank=2)

    _rectify(
        karim,
        answered,
        validated=True,
        level=level,
        comment="Relu : c'est acquis.",
        reason="Réponse mal lue.",
    )

    entry = LedgerEntry.objects.get(learner=camille)
    assert (entry.source, entry.level) == (LedgerEntry.Source.SUBMISSION, level)
    assert answered.corrections.get().previous_status == "rework"


def test_a_comment_alone_may_be_corrected_and_the_evidence_stays_as_it_was(
    answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)

    _rectify(
        karim,
        graded,
        validated=True,
        level=graded.level,
        comment="Clair et bien argumenté.",
        reason="Commentaire incomplet.",
    )

    graded.refresh_from_db()
    assert graded.comment == "Clair et bien argumenté."
    assert list(LedgerEntry.objects.filter(learner=camille).values_list("source", flat=True)) == [
        LedgerEntry.Source.SUBMISSION
    ]


def test_the_learner_reads_on_her_dashboard_that_a_review_was_rectified_and_why(
    client, answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)
    client.force_login(camille)
    assert (
        'data-testid="submission-corrected"' not in client.get(reverse("learners:dashboard")).text
    )
    told_of_the_first(graded)

    _rectify(karim, graded, validated=False, level=None, comment="À étayer.", reason="Erreur.")

    page = client.get(reverse("learners:dashboard")).text
    assert 'data-testid="submission-corrected"' in page
    assert "Correction rectifiée le" in page
    assert "Motif : Erreur." in page
    assert "À étayer." in page


def test_a_review_rectified_before_the_learner_was_told_reads_as_her_review(
    client, answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)
    # The mail telling her of the first review had not gone yet (a queue running late).
    Submission.objects.filter(pk=graded.pk).update(learner_notified_at=None)

    _rectify(karim, graded, validated=False, level=None, comment="À étayer.", reason="Erreur.")

    client.force_login(camille)
    page = client.get(reverse("learners:dashboard")).text
    assert 'data-testid="submission-corrected"' not in page
    assert "À étayer." in page


def test_a_correction_without_a_reason_comes_back_with_what_was_typed(
    client, answered, karim, journey
):
    graded = _graded(answered, karim, journey)
    lower = Level.objects.get(framework=journey.framework, rank=2)
    client.force_login(karim)

    response = _correct(
        client, graded, decision="validated", level=lower.pk, comment="Nouveau commentaire."
    )

    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    assert "Indiquez pourquoi" in page.select_one("#error-summary").text
    assert page.select_one("#error-summary a")["href"] == "#reason"
    assert page.select_one("#reason")["aria-invalid"] == "true"
    assert not page.select_one(f"#correct-level-{lower.pk}").has_attr("aria-invalid")
    assert page.select_one("#correct-comment").text == "Nouveau commentaire."
    assert page.select_one(f"#correct-level-{lower.pk}").has_attr("checked")
    graded.refresh_from_db()
    assert graded.level.rank == 3 and not graded.corrections.exists()


def test_a_correction_of_a_grading_changed_meanwhile_is_refused(answered, karim, lea, journey):
    graded = _graded(answered, karim, journey)
    seen, validated_level = graded.graded_at, graded.level
    _rectify(karim, graded, validated=False, level=None, comment="", reason="Erreur.")

    with pytest.raises(assessments.AssessmentRefused, match="changé"):
        _rectify(
            karim,
            graded,
            validated=True,
            level=validated_level,
            comment="",
            reason="Autre onglet.",
            graded_at=seen,
        )
    assert graded.corrections.count() == 1


def test_the_same_grading_sent_again_as_a_correction_is_refused(answered, karim, journey):
    graded = _graded(answered, karim, journey)
    with pytest.raises(assessments.AssessmentRefused, match="déjà enregistrée"):
        _rectify(
            karim,
            graded,
            validated=True,
            level=graded.level,
            comment=graded.comment,
            reason="Double clic.",
        )


def test_another_trainer_cannot_correct_a_grading(client, answered, karim, lea, journey):
    graded = _graded(answered, karim, journey)
    client.force_login(lea)
    response = client.post(
        reverse("learners:grade", args=[graded.pk]),
        {
            "action": "correct",
            "graded_at": graded.graded_at.isoformat(),
            "decision": "rework",
            "reason": "Pas mon module.",
        },
    )
    assert response.status_code == 404
    with pytest.raises(PermissionError):
        _rectify(
            lea,
            graded,
            validated=False,
            level=None,
            comment="",
            reason="Pas mon module.",
        )
    assert not graded.corrections.exists()


def test_a_trainer_finds_what_they_reviewed_lately_to_correct_it(
    client, answered, karim, lea, journey
):
    client.force_login(karim)
    page = BeautifulSoup(client.get(reverse("learners:grading_queue")).content, "html.parser")
    assert page.select_one('[data-testid="recent-gradings"]') is None
    graded = _graded(answered, karim, journey)

    page = BeautifulSoup(client.get(reverse("learners:grading_queue")).content, "html.parser")
    row = page.select_one(f'[data-testid="graded-{graded.pk}"]')
    assert row.a["href"] == reverse("learners:grade", args=[graded.pk])
    assert graded.level.label in row.get_text()
    client.force_login(lea)
    page = BeautifulSoup(client.get(reverse("learners:grading_queue")).content, "html.parser")
    assert page.select_one('[data-testid="recent-gradings"]') is None


def test_the_teams_graders_find_each_others_recent_gradings_of_modules_nobody_owns(
    client, answered, karim, staff, journey
):
    from learners.services import erase_account

    erase_account(karim)  # his module's answers are the team's now
    colleague = make_user("equipe@example.org", "Collègue de l'équipe", is_staff=True)
    colleague.user_permissions.add(Permission.objects.get(codename="change_submission"))
    graded = _graded(answered, staff, journey)

    client.force_login(colleague)
    page = BeautifulSoup(client.get(reverse("learners:grading_queue")).content, "html.parser")
    assert page.select_one(f'[data-testid="graded-{graded.pk}"]') is not None


def test_a_graded_submission_of_an_erased_account_cannot_be_corrected(
    client, answered, karim, camille, journey
):
    graded = _graded(answered, karim, journey)
    services.erase_account(camille)
    client.force_login(karim)
    page = client.get(reverse("learners:grade", args=[graded.pk])).content.decode()
    assert 'data-testid="correct-form"' not in page
    graded.refresh_from_db()
    with pytest.raises(assessments.AssessmentRefused, match="effacé son compte"):
        _rectify(
            karim,
            graded,
            validated=False,
            level=None,
            comment="",
            reason="Erreur.",
        )


def test_a_validation_corrected_without_a_level_points_at_the_levels_not_the_reason(
    client, answered, karim, journey
):
    graded = _graded(answered, karim, journey)
    client.force_login(karim)
    url = reverse("learners:grade", args=[graded.pk])
    fields = querydict_from_html(client.get(url).content.decode(), form_id="correct-form").dict()
    fields.pop("level")

    response = client.post(url, {**fields, "comment": "Autre.", "reason": "Niveau à revoir."})

    assert response.status_code == 400
    page = BeautifulSoup(response.content, "html.parser")
    first_level = page.select('#correct-form input[name="level"]')[0]
    assert page.select_one("#error-summary a")["href"] == f"#{first_level['id']}"
    assert first_level["aria-invalid"] == "true"
    assert not page.select_one("#reason").has_attr("aria-invalid")
    assert page.select_one("#reason").text == "Niveau à revoir."
    # The browser leaves the checks to the page, whose errors are French and linked.
    assert page.select_one("#correct-form").has_attr("novalidate")


def test_the_learners_data_export_holds_the_rectified_grading_and_pairs_the_withdrawal(
    answered, karim, camille, journey
):
    from learners import exports

    graded = _graded(answered, karim, journey)
    _rectify(
        karim,
        graded,
        validated=False,
        level=None,
        comment="À reprendre.",
        reason="Mauvaise copie.",
    )

    data = exports.collect(camille)
    evidence, withdrawal = data["ledger"]
    assert (evidence["retracts"], withdrawal["retracts"]) == ("", evidence["id"])
    assert withdrawal["source"] == "retraction" and withdrawal["comment"] == "Mauvaise copie."
    [correction] = data["grading_corrections"]
    assert correction["previous_status"] == "validated"
    assert correction["previous_comment"] == "Clair."
    assert correction["reason"] == "Mauvaise copie."


def test_nobody_grades_their_own_answers_not_even_the_team(client, journey, karim, staff, submit):
    services.enrol(karim, journey.track)
    services.enrol(staff, journey.track)
    module = set_quiz(journey.basics, [OPEN])
    for author in (karim, staff):
        attempt = assessments.start_attempt(author, module)
        submit(attempt, right_answers(attempt))
    own = Submission.objects.get(learner=karim)
    staffs = Submission.objects.get(learner=staff)

    assert own not in assessments.grading_queue(karim)
    assert staffs not in assessments.grading_queue(staff)
    client.force_login(karim)
    assert client.get(reverse("learners:grade", args=[own.pk])).status_code == 404
    for grader, answer in ((karim, own), (staff, staffs)):
        with pytest.raises(PermissionError):
            assessments.grade_submission(
                grader, answer, validated=True, level=journey.framework.levels.last(), comment=""
            )
    assert not LedgerEntry.objects.filter(source=LedgerEntry.Source.SUBMISSION).exists()
    # Each may still grade the other's.
    assert own in assessments.grading_queue(staff)


# --- What is expected, and how to rework --------------------------------------------


def test_the_grader_reads_what_the_question_expects_and_the_learner_once_reviewed(
    client, answered, karim, camille, django_capture_on_commit_callbacks, eager_tasks
):
    assert answered.expected == "Attendus."
    client.force_login(karim)
    grading = client.get(reverse("learners:grade", args=[answered.pk])).text
    assert "Ce qui est attendu" in grading and "Attendus." in grading
    client.force_login(camille)
    dashboard = BeautifulSoup(client.get(reverse("learners:dashboard")).text, "html.parser")
    assert dashboard.select_one('[data-testid="submission-expected"]') is None  # not yet

    with django_capture_on_commit_callbacks(execute=True):
        assessments.grade_submission(karim, answered, validated=False, level=None, comment="")

    dashboard = BeautifulSoup(client.get(reverse("learners:dashboard")).text, "html.parser")
    assert "Attendus." in dashboard.select_one('[data-testid="submission-expected"]').text
    assert "Ce qui était attendu :\nAttendus." in mail.outbox[-1].body


def test_a_learner_asked_to_rework_is_shown_the_way_until_a_new_pass_settles_it(
    client,
    settings,
    journey,
    camille,
    karim,
    submit,
    django_capture_on_commit_callbacks,
    eager_tasks,
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN])
    submit((first := assessments.start_attempt(camille, module)), right_answers(first))
    with django_capture_on_commit_callbacks(execute=True):
        assessments.grade_submission(
            karim, Submission.objects.get(attempt=first), validated=False, level=None, comment=""
        )
    quiz_url = reverse("learners:quiz_start", args=[module.pk])
    assert f"refaites le quiz du module : {settings.SITE_URL}{quiz_url}" in mail.outbox[-1].body

    client.force_login(camille)
    dashboard = BeautifulSoup(client.get(reverse("learners:dashboard")).text, "html.parser")
    how = dashboard.select_one('[data-testid="submission-rework-how"]')
    assert how.a["href"] == quiz_url
    start = BeautifulSoup(client.get(quiz_url).text, "html.parser")
    assert start.select_one('[data-testid="quiz-rework"]') is not None
    assert start.select_one('[data-testid="quiz-passed"]') is None

    submit((second := assessments.start_attempt(camille, module)), right_answers(second))

    dashboard = BeautifulSoup(client.get(reverse("learners:dashboard")).text, "html.parser")
    assert dashboard.select_one('[data-testid="submission-rework-how"]') is None
    start = BeautifulSoup(client.get(quiz_url).text, "html.parser")
    assert start.select_one('[data-testid="quiz-rework"]') is None
    assert start.select_one('[data-testid="quiz-passed"]') is not None


# --- Graders are told ------------------------------------------------------------------


def test_open_answers_sent_are_announced_to_the_module_owner_once_per_attempt(
    journey, camille, karim, submit, settings
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN, {**OPEN, "text": "Et ses habitants ?"}])
    attempt = assessments.start_attempt(camille, module)
    mail.outbox.clear()

    submit(attempt, right_answers(attempt))

    [notice] = mail.outbox
    assert notice.to == [karim.email]
    assert "Réponses à corriger : Les bases" in notice.subject
    assert "Bonjour Karim Benali," in notice.body
    assert "Camille Martin a envoyé 2 réponses ouvertes au quiz de « Les bases »" in notice.body
    assert f"{settings.SITE_URL}{reverse('learners:grading_queue')}" in notice.body


def test_a_trainer_s_own_answers_are_announced_to_the_team_s_address(
    journey, karim, submit, settings
):
    services.enrol(karim, journey.track)
    module = set_quiz(journey.basics, [OPEN])
    attempt = assessments.start_attempt(karim, module)
    mail.outbox.clear()

    submit(attempt, right_answers(attempt))

    [notice] = mail.outbox
    assert notice.to == [settings.CAMPUS_CONTACT_EMAIL]
    assert notice.body.startswith("Bonjour,\n")


def test_answers_on_a_module_nobody_owns_are_announced_to_the_team_s_address(
    journey, camille, submit, settings
):
    ModulePage.objects.filter(pk=journey.basics.pk).update(owner=None)
    services.enrol(camille, journey.track)
    module = set_quiz(ModulePage.objects.get(pk=journey.basics.pk), [OPEN])
    attempt = assessments.start_attempt(camille, module)
    mail.outbox.clear()

    submit(attempt, right_answers(attempt))

    [notice] = mail.outbox
    assert notice.to == [settings.CAMPUS_CONTACT_EMAIL]
    assert "Camille Martin a envoyé 1 réponse ouverte" in notice.body


def test_no_notice_is_sent_once_the_answers_were_graded(answered, karim, journey):
    assessments.grade_submission(karim, answered, validated=False, level=None, comment="")

    assert notify_answers_to_review(answered.attempt_id) is False
    assert mail.outbox == []
