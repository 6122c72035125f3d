"""What the quiz pages tell a person before and after: refusals said beforehand,
corrections that show the learner's own answers, graded work kept apart."""

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from courses.models import Level, ModulePage
from learners import assessments, services
from learners.models import Submission
from tests.learners.factories import competence
from tests.learners.quiz_helpers import every_type, set_quiz, single


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


# --- Prerequisites are said before the learner clicks -----------------------------


@pytest.fixture
def locked_quiz(journey, camille):
    """Camille follows the track; « Approfondir » has a quiz and needs « Les bases », not done."""
    services.enrol(camille, journey.track)
    return set_quiz(journey.advanced, [single("B2.1")])


def test_the_quiz_state_refuses_with_the_words_the_start_would_use(locked_quiz, camille, journey):
    state = assessments.quiz_state(camille, locked_quiz)
    assert state.missing == [journey.basics]
    assert state.refusal() == str(services.PrerequisitesMissing([journey.basics]))
    with pytest.raises(services.PrerequisitesMissing):
        assessments.start_attempt(camille, locked_quiz)


def test_the_module_page_names_the_module_to_finish_instead_of_offering_the_quiz(
    client, locked_quiz, camille, journey
):
    client.force_login(camille)
    box = soup(client.get(locked_quiz.url)).select_one('[data-testid="quiz-box"]')
    assert box.select_one('[data-testid="quiz-link"]') is None
    refusal = box.select_one('[data-testid="quiz-refusal"]')
    assert journey.basics.title in refusal.text
    assert refusal.select_one(f'a[href="{journey.basics.url}"]') is not None


def test_the_quiz_page_names_the_module_to_finish_instead_of_a_start_button(
    client, locked_quiz, camille, journey
):
    client.force_login(camille)
    page = soup(client.get(reverse("learners:quiz_start", args=[locked_quiz.pk])))
    assert page.select_one('[data-testid="quiz-start"]') is None
    refusal = page.select_one('[data-testid="quiz-refusal"]')
    assert journey.basics.title in refusal.text
    assert refusal.select_one(f'a[href="{journey.basics.url}"]') is not None


def test_the_quiz_is_offered_once_the_prerequisite_is_done(client, locked_quiz, camille, journey):
    client.force_login(camille)
    client.get(locked_quiz.url)  # kept in the cache: the completion must move it on
    for lesson in journey.basics.lessons():
        services.mark_lesson_done(camille, lesson)
    box = soup(client.get(locked_quiz.url)).select_one('[data-testid="quiz-box"]')
    assert box.select_one('[data-testid="quiz-refusal"]') is None
    assert box.select_one('[data-testid="quiz-link"]') is not None
    page = soup(client.get(reverse("learners:quiz_start", args=[locked_quiz.pk])))
    assert page.select_one('[data-testid="quiz-start"]') is not None


def test_a_quiz_with_no_attempt_left_is_not_offered_on_the_module_page(client, journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single()], max_attempts=1)
    assessments.submit_attempt(assessments.start_attempt(camille, module), {})
    client.force_login(camille)
    box = soup(client.get(module.url)).select_one('[data-testid="quiz-box"]')
    assert box.select_one('[data-testid="quiz-link"]') is None
    refusal = box.select_one('[data-testid="quiz-refusal"]')
    assert refusal.text.startswith(assessments.quiz_state(camille, module).refusal())


# --- The correction shows what the learner answered -------------------------------


def test_the_correction_shows_the_learners_answer_to_every_question_type(client, journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, every_type())
    attempt = assessments.start_attempt(camille, module)
    by_type = {q["type"]: q for q in attempt.questions}
    ordering = by_type["ordering"]
    answers = {
        by_type["short_answer"]["id"]: "Tiers-lieu nourricier",
        by_type["numeric"]["id"]: "1 750",
        ordering["id"]: sorted((i["key"] for i in ordering["items"]), key=int, reverse=True),
        # Choice questions left blank: the time ran out.
    }
    assessments.submit_attempt(attempt, answers)
    client.force_login(camille)

    page = soup(client.get(reverse("learners:quiz_result", args=[attempt.pk])))

    shown = {
        article["data-testid"]: article.select_one('[data-testid="your-answer"]')
        for article in page.select('[data-testid^="review-"]')
    }
    assert all(answer is not None for answer in shown.values()), shown
    numbers = {q["type"]: n for n, q in enumerate(attempt.questions, start=1)}
    assert "Tiers-lieu nourricier" in shown[f"review-{numbers['short_answer']}"].text
    assert "1 750" in shown[f"review-{numbers['numeric']}"].text
    assert [li.text for li in shown[f"review-{numbers['ordering']}"].select("li")] == [
        "Troisième",
        "Deuxième",
        "Premier",
    ]
    for kind in ("single_choice", "multiple_choice", "true_false"):
        assert shown[f"review-{numbers[kind]}"].select_one('[data-testid="no-answer"]')


def test_expected_numbers_read_as_a_person_writes_them(client, journey, camille):
    services.enrol(camille, journey.track)
    numeric = {"type": "numeric", "competence": "B1.1", "level": "decouvrir", "text": "Budget"}
    module = set_quiz(
        journey.basics,
        [
            {**numeric, "answer": 120000, "tolerance": 0},
            {**numeric, "text": "Taux", "answer": 1800.5, "tolerance": 0.25},
        ],
    )
    attempt = assessments.start_attempt(camille, module)
    assessments.submit_attempt(attempt, {q["id"]: "120000" for q in attempt.questions})
    client.force_login(camille)

    page = soup(client.get(reverse("learners:quiz_result", args=[attempt.pk])))

    expected = [p.text for p in page.select('[data-testid="expected-number"]')]
    assert len(expected) == 2
    assert "120\xa0000" in expected[0] and "±" not in expected[0] and ",0" not in expected[0]
    assert "1\xa0800,5 ± 0,25" in expected[1]


# --- Grading twice tells who graded first and keeps what was typed ----------------


@pytest.fixture
def graded(journey, camille, karim):
    """Camille's open answer on Karim's module, which Karim has already validated."""
    submission = Submission.objects.create(
        learner=camille,
        module=journey.basics,
        competence=competence(journey.framework, "B1.1"),
        text="Notre lieu accueille une ressourcerie.",
    )
    level = Level.objects.get(framework=journey.framework, rank=3)
    assessments.grade_submission(
        karim, submission, validated=True, level=level, comment="Très clair."
    )
    submission.refresh_from_db()
    return submission


def test_an_already_graded_submission_says_by_whom_and_when(client, graded, karim):
    client.force_login(karim)
    page = soup(client.get(reverse("learners:grade", args=[graded.pk])))
    summary = page.select_one('[data-testid="already-graded"]').text
    assert "Karim Benali" in summary and "Très clair." in summary
    assert timezone.localtime(graded.graded_at).strftime("%d/%m/%Y") in summary
    assert page.select_one('[data-testid="grade-form"]') is None


def test_grading_again_is_refused_with_a_message_and_keeps_what_the_trainer_typed(
    client, graded, karim
):
    client.force_login(karim)
    comment = "Un second avis, long et précieux, à ne pas perdre."

    response = client.post(
        reverse("learners:grade", args=[graded.pk]), {"decision": "rework", "comment": comment}
    )

    assert response.status_code == 400
    page = soup(response)
    alert = page.select_one("#error-summary")
    assert alert["role"] == "alert" and "Karim Benali" in alert.text
    assert comment in page.select_one('[data-testid="unsaved-review"]').text
    graded.refresh_from_db()
    assert (graded.status, graded.comment) == ("validated", "Très clair.")


def test_a_grading_that_loses_a_race_says_who_won_and_keeps_the_comment(
    client, answered_pending, karim, journey, monkeypatch
):
    level = Level.objects.get(framework=journey.framework, rank=2)
    grade = assessments.grade_submission

    def other_tab_first(trainer, submission, **kwargs):
        # The other tab commits between this request's read and its write.
        grade(trainer, Submission.objects.get(pk=submission.pk), **kwargs)
        return grade(trainer, submission, **kwargs)

    monkeypatch.setattr(assessments, "grade_submission", other_tab_first)
    client.force_login(karim)

    response = client.post(
        reverse("learners:grade", args=[answered_pending.pk]),
        {"decision": "validated", "level": level.pk, "comment": "Mon commentaire."},
    )

    assert response.status_code == 400
    page = soup(response)
    assert "Karim Benali" in page.select_one("#error-summary").text
    assert "Mon commentaire." in page.select_one('[data-testid="unsaved-review"]').text
    assert page.select_one('[data-testid="grade-form"]') is None


@pytest.fixture
def answered_pending(journey, camille):
    return Submission.objects.create(
        learner=camille,
        module=journey.basics,
        competence=competence(journey.framework, "B1.1"),
        text="Réponse en attente.",
    )


# --- The learner's dashboard keeps pending and graded work apart ------------------


def test_the_dashboard_lists_pending_work_apart_from_recently_graded_work(
    client, graded, answered_pending, camille
):
    client.force_login(camille)
    page = soup(client.get(reverse("learners:dashboard")))
    pending = page.select_one('[data-testid="pending-submissions"]')
    reviewed = page.select_one('[data-testid="graded-submissions"]')
    assert [li["data-testid"] for li in pending.select("li")] == [
        f"submission-{answered_pending.pk}"
    ]
    assert [li["data-testid"] for li in reviewed.select("li")] == [f"submission-{graded.pk}"]
    assert "Très clair." in reviewed.text


# --- Anonymous visitors are told how to take the quiz ------------------------------


def test_an_anonymous_visitor_is_invited_to_log_in_to_take_the_quiz(client, journey):
    module = set_quiz(journey.basics, [single()])
    box = soup(client.get(module.url)).select_one('[data-testid="quiz-box"]')
    link = box.select_one('[data-testid="login-to-quiz"]')
    assert link["href"] == f"{reverse('account_login')}?next={module.url}"


# --- Query budgets ---------------------------------------------------------------


@pytest.mark.parametrize("prerequisites", [1, 10])
def test_saying_what_is_missing_costs_the_same_for_one_prerequisite_or_ten(
    client, journey, camille, prerequisites, django_assert_max_num_queries
):
    from tests.learners.factories import make_module

    services.enrol(camille, journey.track)
    extra = [make_module(journey.other_track, f"Préalable {n}") for n in range(prerequisites - 1)]
    module = set_quiz(journey.advanced, [single("B2.1")])
    module.prerequisite_modules.add(*extra)
    module.save()
    client.force_login(camille)
    client.get(reverse("learners:dashboard"))  # warm the site-root cache as any running server has
    # The module page's budget (tests/courses/test_page_queries.py): the quiz box reads
    # what the enrol button found missing.
    with django_assert_max_num_queries(12):
        page = client.get(module.url)
    assert len(soup(page).select('[data-testid="quiz-refusal"] li')) == prerequisites
    with django_assert_max_num_queries(6):
        page = client.get(reverse("learners:quiz_start", args=[module.pk]))
    assert len(soup(page).select('[data-testid="quiz-refusal"] li')) == prerequisites


def test_a_malformed_question_published_before_the_checks_is_left_out_not_a_500(journey, camille):
    services.enrol(camille, journey.track)
    numeric = next(q for q in every_type("B1.1") if q["type"] == "numeric")
    module = set_quiz(journey.basics, [single("B1.1", text="Bonne"), numeric])
    # As a draft published before publishing checked questions: its answer left empty.
    broken = list(module.quiz.raw_data)
    broken[1]["value"]["answer"] = None
    ModulePage.objects.filter(pk=module.pk).update(quiz=broken)

    attempt = assessments.start_attempt(camille, ModulePage.objects.get(pk=module.pk))

    assert [q["text"] for q in attempt.questions] == ["Bonne"]


def test_a_choice_question_published_without_options_is_left_out_not_a_500(journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single("B1.1", text="Bonne"), single(text="Vide")])
    broken = list(module.quiz.raw_data)
    broken[1]["value"]["options"] = []
    ModulePage.objects.filter(pk=module.pk).update(quiz=broken)

    attempt = assessments.start_attempt(camille, ModulePage.objects.get(pk=module.pk))

    assert [q["text"] for q in attempt.questions] == ["Bonne"]


def test_an_attempt_frozen_with_an_options_less_question_still_shows_its_page(
    client, journey, camille
):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single("B1.1", text="Bonne"), single(text="Vide")])
    attempt = assessments.start_attempt(camille, module)
    # Frozen before snapshots left such questions out.
    attempt.questions[1]["options"] = []
    attempt.save(update_fields=["questions"])
    client.force_login(camille)

    url = reverse("learners:quiz_take", args=[attempt.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "Vide" in page.content.decode()

    # Nothing to answer on it: it holds nothing back, and scores as a wrong answer.
    right = next(o["key"] for o in attempt.questions[0]["options"] if o["correct"])
    sent = client.post(url, {f"q-{attempt.questions[0]['id']}": right})

    assert sent.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == ("submitted", 50)


def test_a_learner_who_passed_is_told_what_a_retake_changes_before_starting_one(
    client, camille, journey, submit
):
    from tests.learners.quiz_helpers import right_answers

    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single("B1.1", "appliquer")], max_attempts=3)
    attempt = assessments.start_attempt(camille, module)
    submit(attempt, right_answers(attempt))
    client.force_login(camille)

    page = BeautifulSoup(
        client.get(reverse("learners:quiz_start", args=[module.pk])).content, "html.parser"
    )

    note = page.select_one('[data-testid="retake-note"]').text
    assert "n'efface pas votre réussite" in note and "compte parmi vos tentatives" in note
    assert page.select_one('[data-testid="quiz-start"]').text == "Repasser le quiz"
