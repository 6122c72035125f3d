"""Taking a module's quiz: frozen attempts, server-side scoring, refusals, evidence, pages."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from learners import assessments, page_versions, services
from learners.models import Attempt, AttemptAnswer, LedgerEntry, ModuleCompletion, Submission
from tests.learners.quiz_helpers import every_type, right_answers, right_form, set_quiz, single


@pytest.fixture
def quiz(journey, camille):
    """Camille follows the track; the basics module has one question of every type."""
    services.enrol(camille, journey.track)
    return set_quiz(journey.basics, every_type())


def start(learner, module, **kwargs):
    return assessments.start_attempt(learner, module, **kwargs)


def test_an_attempt_keeps_the_questions_it_drew_when_the_trainer_edits_them(quiz, camille):
    attempt = start(camille, quiz)
    frozen = attempt.questions
    set_quiz(quiz, [single(text="Une toute autre question")])
    attempt.refresh_from_db()
    assert attempt.questions == frozen
    graded = assessments.submit_attempt(attempt, right_answers(attempt))
    assert graded.score == 100
    assert [q["text"] for q in Attempt.objects.get(pk=attempt.pk).questions][0] == "Choix simple"


def test_it_draws_the_configured_number_of_questions_per_competence(journey, camille):
    services.enrol(camille, journey.track)
    questions = [single("B1.1", text=f"B1.1-{n}") for n in range(4)]
    questions += [single("B1.2", text=f"B1.2-{n}") for n in range(3)]
    module = set_quiz(journey.basics, questions, questions_per_competence=2)
    attempt = start(camille, module)
    drawn = [q["competence"] for q in attempt.questions]
    assert sorted(drawn) == ["B1.1", "B1.1", "B1.2", "B1.2"]


def test_passing_records_the_highest_question_level_per_competence_and_completes(
    quiz, camille, journey, submit
):
    for lesson in journey.basics.lessons():
        services.mark_lesson_done(camille, lesson)
    assert not ModuleCompletion.objects.filter(learner=camille, module=quiz).exists()
    attempt = start(camille, quiz)
    submit(attempt, right_answers(attempt))
    entries = LedgerEntry.objects.filter(learner=camille, source=LedgerEntry.Source.ASSESSMENT)
    assert [(e.competence.code, e.level.code) for e in entries] == [("B1.1", "appliquer")]
    assert entries[0].source_reference == f"attempt:{attempt.pk}"
    assert ModuleCompletion.objects.filter(learner=camille, module=quiz).exists()


def test_failing_records_nothing_and_leaves_the_module_incomplete(quiz, camille, journey, submit):
    for lesson in journey.basics.lessons():
        services.mark_lesson_done(camille, lesson)
    attempt = start(camille, quiz)
    graded = submit(attempt, {})
    assert (graded.score, graded.passed) == (0, False)
    assert not LedgerEntry.objects.filter(learner=camille).exists()
    assert services.assessment_passed(camille, quiz) is False
    assert not ModuleCompletion.objects.filter(learner=camille, module=quiz).exists()


def test_a_competence_below_the_pass_mark_earns_no_evidence_even_when_the_quiz_passes(
    journey, camille, submit
):
    services.enrol(camille, journey.track)
    questions = [single("B1.1", text=f"a{n}") for n in range(3)] + [single("B1.2", text="b")]
    module = set_quiz(journey.basics, questions, pass_mark=70)
    attempt = start(camille, module)
    answers = right_answers(attempt)
    wrong = next(q for q in attempt.questions if q["competence"] == "B1.2")
    answers[wrong["id"]] = next(o["key"] for o in wrong["options"] if not o["correct"])
    graded = submit(attempt, answers)
    assert graded.passed and graded.competence_scores == {"B1.1": 100, "B1.2": 0}
    assert list(LedgerEntry.objects.values_list("competence__code", flat=True)) == ["B1.1"]


# --- Refusals --------------------------------------------------------------------


def test_a_second_submission_is_refused_and_the_first_result_stays(quiz, camille):
    attempt = start(camille, quiz)
    assessments.submit_attempt(attempt, right_answers(attempt))
    with pytest.raises(assessments.AssessmentRefused):
        assessments.submit_attempt(attempt, {})
    attempt.refresh_from_db()
    assert attempt.score == 100
    assert AttemptAnswer.objects.filter(attempt=attempt).count() == len(attempt.questions)


def test_submitting_moves_the_learners_cached_pages_on_even_when_nothing_else_changes(
    quiz, camille
):
    attempt = start(camille, quiz)
    before = page_versions.versions(camille.pk)
    assessments.submit_attempt(attempt, {})  # failed: no completion, no evidence
    assert page_versions.versions(camille.pk) != before


def test_a_replayed_post_is_refused_with_a_message_and_one_result(client, quiz, camille):
    attempt = start(camille, quiz)
    client.force_login(camille)
    url = reverse("learners:quiz_take", args=[attempt.pk])
    first = client.post(url, right_form(attempt))
    assert first.status_code == 302
    replay = client.post(url, dict.fromkeys(right_form(attempt), "x"), follow=True)
    assert replay.redirect_chain[-1][0] == reverse("learners:quiz_result", args=[attempt.pk])
    assert [m.level_tag for m in replay.context["messages"]] == ["error"]
    attempt.refresh_from_db()
    assert attempt.score == 100
    assert AttemptAnswer.objects.filter(attempt=attempt).count() == len(attempt.questions)


def test_a_late_submission_is_refused_and_the_attempt_closes_with_zero(quiz, camille):
    quiz.quiz_time_limit_minutes = 10
    quiz.save()
    began = timezone.now() - timedelta(minutes=11)
    attempt = start(camille, quiz, now=began)
    with pytest.raises(assessments.AssessmentRefused):
        assessments.submit_attempt(attempt, right_answers(attempt))
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == ("expired", 0, False)
    assert not AttemptAnswer.objects.filter(attempt=attempt).exists()
    with pytest.raises(assessments.AssessmentRefused):
        assessments.submit_attempt(attempt, right_answers(attempt))
    assert Attempt.objects.filter(learner=camille).count() == 1


def test_an_attempt_abandoned_past_its_time_closes_at_its_deadline_not_when_seen_again(
    quiz, camille
):
    quiz.quiz_time_limit_minutes = 10
    quiz.quiz_cooldown_minutes = 60
    quiz.save()
    began = timezone.now() - timedelta(hours=3)
    attempt = start(camille, quiz, now=began)

    closed = start(camille, quiz)  # she comes back three hours later

    assert closed.pk == attempt.pk and closed.status == "expired"
    assert closed.submitted_at == attempt.deadline + assessments.LATE_GRACE
    # The hour's wait ran from the deadline: a new attempt starts at once.
    assert start(camille, quiz).pk != attempt.pk


def test_opening_a_quiz_page_whose_time_ran_out_closes_it_and_says_so(client, quiz, camille):
    quiz.quiz_time_limit_minutes = 10
    quiz.save()
    attempt = start(camille, quiz, now=timezone.now() - timedelta(minutes=11))
    client.force_login(camille)

    response = client.get(reverse("learners:quiz_take", args=[attempt.pk]), follow=True)

    assert response.redirect_chain[0][0] == reverse("learners:quiz_result", args=[attempt.pk])
    assert [str(m) for m in response.context["messages"]] == [
        "Le temps était écoulé avant l'envoi de vos réponses : cette tentative est close."
    ]
    attempt.refresh_from_db()
    assert attempt.status == "expired"


def test_coming_back_to_a_timed_quiz_sent_in_time_says_nothing_of_time_running_out(
    client, quiz, camille
):
    quiz.quiz_time_limit_minutes = 10
    quiz.save()
    attempt = start(camille, quiz, now=timezone.now() - timedelta(minutes=11))
    Attempt.objects.filter(pk=attempt.pk).update(status="submitted", submitted_at=timezone.now())
    client.force_login(camille)

    response = client.get(reverse("learners:quiz_take", args=[attempt.pk]), follow=True)

    assert response.redirect_chain[0][0] == reverse("learners:quiz_result", args=[attempt.pk])
    assert list(response.context["messages"]) == []
    attempt.refresh_from_db()
    assert attempt.status == "submitted"


def test_a_submission_within_the_grace_period_counts(quiz, camille):
    quiz.quiz_time_limit_minutes = 10
    quiz.save()
    attempt = start(camille, quiz, now=timezone.now() - timedelta(minutes=10, seconds=10))
    assert assessments.submit_attempt(attempt, right_answers(attempt)).score == 100


def test_an_answer_to_a_question_not_in_the_attempt_is_refused(client, quiz, camille):
    attempt = start(camille, quiz)
    with pytest.raises(assessments.AssessmentRefused):
        assessments.submit_attempt(attempt, {**right_answers(attempt), "forged": "x"})
    client.force_login(camille)
    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {**right_form(attempt), "q-00000000-0000-0000-0000-000000000000": "x"},
        follow=True,
    )
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    attempt.refresh_from_db()
    assert attempt.is_open and not attempt.answers.exists()


def test_attempts_stop_at_the_maximum_and_wait_for_the_cooldown(quiz, camille):
    quiz.quiz_max_attempts = 2
    quiz.quiz_cooldown_minutes = 30
    quiz.save()
    now = timezone.now()
    first = start(camille, quiz, now=now)
    assert start(camille, quiz, now=now).pk == first.pk  # an open attempt resumes
    assessments.submit_attempt(first, {}, now=now)
    with pytest.raises(assessments.AssessmentRefused):
        start(camille, quiz, now=now + timedelta(minutes=10))
    second = start(camille, quiz, now=now + timedelta(minutes=31))
    assessments.submit_attempt(second, {}, now=now + timedelta(minutes=32))
    with pytest.raises(assessments.AssessmentRefused):
        start(camille, quiz, now=now + timedelta(days=1))
    assert Attempt.objects.filter(learner=camille, module=quiz).count() == 2


def test_a_learner_who_is_not_enrolled_cannot_start(journey, dominique):
    module = set_quiz(journey.basics, every_type())
    with pytest.raises(services.NotEnrolled):
        start(dominique, module)


def test_another_learners_attempt_is_a_404(client, quiz, camille, dominique):
    attempt = start(camille, quiz)
    client.force_login(dominique)
    assert client.get(reverse("learners:quiz_take", args=[attempt.pk])).status_code == 404
    assert client.get(reverse("learners:quiz_result", args=[attempt.pk])).status_code == 404


# --- Pages -----------------------------------------------------------------------


def test_the_quiz_page_never_reveals_answers_or_feedback(client, quiz, camille):
    attempt = start(camille, quiz)
    client.force_login(camille)
    html = client.get(reverse("learners:quiz_take", args=[attempt.pk])).content.decode()
    assert "RETOUR-" not in html and "EXPLICATION-" not in html
    assert "correct" not in html.lower()
    assert "Fab lab" not in html and "1800" not in html
    for question in attempt.questions:
        assert f'id="question-{question["id"]}"' in html
    assert html.count("<fieldset") == len(attempt.questions)
    assert html.count("<legend>") == len(attempt.questions)


def test_an_incomplete_form_comes_back_with_an_error_summary_linking_to_the_fields(
    client, quiz, camille
):
    attempt = start(camille, quiz)
    client.force_login(camille)
    form = right_form(attempt)
    short = next(q for q in attempt.questions if q["type"] == "short_answer")
    del form[f"q-{short['id']}"]
    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert f'href="#q-{short["id"]}"' in html and f'id="q-{short["id"]}"' in html
    attempt.refresh_from_db()
    assert attempt.is_open


def test_an_ordering_of_ten_items_or_more_is_accepted_when_every_position_is_used_once(
    client, journey, camille
):
    services.enrol(camille, journey.track)
    items = [f"Étape {n}" for n in range(1, 13)]
    ordering = {**every_type()[-1], "items": items}
    attempt = start(camille, set_quiz(journey.basics, [ordering]))
    client.force_login(camille)

    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), right_form(attempt))

    assert response.status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == 100


def test_an_ordering_s_fields_do_not_tell_the_right_order(client, journey, camille):
    services.enrol(camille, journey.track)
    ordering = {**every_type()[-1], "items": [f"Étape {n}" for n in range(1, 6)]}
    attempt = start(camille, set_quiz(journey.basics, [ordering]))
    client.force_login(camille)

    page = client.get(reverse("learners:quiz_take", args=[attempt.pk])).content.decode()

    (question,) = attempt.questions
    for item in question["items"]:
        # Its key is its right position: named by it, each select would give it away.
        assert f'name="q-{question["id"]}-{item["key"]}"' not in page
        assert f'name="q-{question["id"]}-{item["slot"]}"' in page


def test_an_ordering_using_a_position_twice_comes_back_with_an_error(client, journey, camille):
    services.enrol(camille, journey.track)
    ordering = {**every_type()[-1], "items": [f"Étape {n}" for n in range(1, 11)]}
    attempt = start(camille, set_quiz(journey.basics, [ordering]))
    client.force_login(camille)
    form = right_form(attempt)
    first, second = list(form)[:2]
    form[second] = form[first]

    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), form)

    assert response.status_code == 400
    assert "Donnez une position différente à chaque élément." in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.is_open


def timed_attempt(journey, camille, deadline_in: timedelta):
    services.enrol(camille, journey.track)
    module = set_quiz(
        journey.basics,
        [single(text="Première"), single(text="Deuxième")],
        time_limit_minutes=20,
    )
    attempt = start(camille, module)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() + deadline_in)
    attempt.refresh_from_db()
    return attempt


def test_answers_sent_by_the_timer_are_scored_with_blank_questions_counted_wrong(
    client, journey, camille
):
    attempt = timed_attempt(journey, camille, deadline_in=timedelta(seconds=-5))
    first = attempt.questions[0]
    right = next(o["key"] for o in first["options"] if o["correct"])
    client.force_login(camille)

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {f"q-{first['id']}": right, "time_up": "1"},
    )

    assert response.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score) == (Attempt.Status.SUBMITTED, 50)
    result = client.get(response["Location"]).content.decode()
    assert "Temps écoulé : vos réponses ont été envoyées automatiquement." in result


def test_answers_sent_by_the_learner_before_the_time_is_up_get_no_time_up_notice(
    client, journey, camille
):
    attempt = timed_attempt(journey, camille, deadline_in=timedelta(minutes=10))
    client.force_login(camille)
    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), right_form(attempt))
    assert response.status_code == 302
    assert "Temps écoulé" not in client.get(response["Location"]).content.decode()


def two_open_questions_out_of_time(journey, camille) -> Attempt:
    """A timed quiz of two open questions whose deadline passed 5 s ago."""
    services.enrol(camille, journey.track)
    open_question = {"type": "open", "competence": "B1.1", "level": "appliquer"}
    module = set_quiz(
        journey.basics,
        [{**open_question, "text": "Décrivez"}, {**open_question, "text": "Complétez"}],
        time_limit_minutes=20,
    )
    attempt = start(camille, module)
    Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(seconds=5))
    return attempt


def test_at_time_up_open_answers_keep_their_text_and_blank_ones_reach_no_trainer(
    client, journey, camille
):
    attempt = two_open_questions_out_of_time(journey, camille)
    written, blank = attempt.questions
    client.force_login(camille)

    response = client.post(
        reverse("learners:quiz_take", args=[attempt.pk]),
        {
            f"q-{written['id']}": "Mon lieu accueille 40 résidents.",
            f"q-{written['id']}-file": SimpleUploadedFile("page.pdf", b"<html></html>"),
            "time_up": "1",
        },
    )

    assert response.status_code == 302
    (submission,) = Submission.objects.filter(attempt=attempt)
    assert submission.question_id == written["id"]
    assert (submission.text, bool(submission.file)) == ("Mon lieu accueille 40 résidents.", False)


def test_a_quiz_of_open_questions_sent_empty_by_its_timer_fails_and_completes_nothing(
    client, journey, camille
):
    from learners.models import ModuleCompletion

    attempt = two_open_questions_out_of_time(journey, camille)
    client.force_login(camille)

    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), {"time_up": "1"})

    assert response.status_code == 302
    attempt.refresh_from_db()
    assert (attempt.status, attempt.score, attempt.passed) == (Attempt.Status.SUBMITTED, 0, False)
    assert not Submission.objects.filter(attempt=attempt).exists()
    assert not ModuleCompletion.objects.filter(learner=camille, module=attempt.module).exists()
    # Nobody will review what was not written: the result does not promise it.
    result = client.get(response["Location"]).content.decode()
    assert 'data-testid="quiz-feedback"' in result
    assert "corrige cette réponse" not in result


def test_a_time_up_flag_sent_long_before_the_deadline_is_checked_as_any_form(
    client, journey, camille
):
    attempt = timed_attempt(journey, camille, deadline_in=timedelta(minutes=10))
    client.force_login(camille)

    response = client.post(reverse("learners:quiz_take", args=[attempt.pk]), {"time_up": "1"})

    assert response.status_code == 400
    assert 'id="error-summary"' in response.content.decode()
    attempt.refresh_from_db()
    assert attempt.is_open


def test_a_timed_quiz_page_carries_the_servers_count_and_the_timer(client, journey, camille):
    attempt = timed_attempt(journey, camille, deadline_in=timedelta(minutes=10))
    client.force_login(camille)

    html = client.get(reverse("learners:quiz_take", args=[attempt.pk])).content.decode()

    left = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert 590 <= left <= 600
    assert "js/quiz-timer" in html and 'name="time_up"' in html
    assert 'role="status"' in html


def test_an_untimed_quiz_page_has_no_timer(client, quiz, camille):
    attempt = start(camille, quiz)
    client.force_login(camille)

    html = client.get(reverse("learners:quiz_take", args=[attempt.pk])).content.decode()

    assert "quiz-timer" not in html and "time_up" not in html


def test_the_result_page_follows_the_feedback_policy(client, quiz, camille):
    client.force_login(camille)
    quiz.quiz_feedback = "after_passing"
    quiz.save()
    attempt = start(camille, quiz)
    client.post(reverse("learners:quiz_take", args=[attempt.pk]), {})  # incomplete: 400
    assessments.submit_attempt(attempt, {})
    failed = client.get(reverse("learners:quiz_result", args=[attempt.pk]))
    assert not failed.context["show_feedback"] and b"RETOUR-" not in failed.content
    attempt = start(camille, quiz, now=timezone.now())
    assessments.submit_attempt(attempt, right_answers(attempt))
    passed = client.get(reverse("learners:quiz_result", args=[attempt.pk]))
    assert passed.context["show_feedback"] and b"EXPLICATION-" in passed.content


def test_the_module_page_links_to_the_quiz(client, quiz, camille):
    client.force_login(camille)
    html = client.get(quiz.url).content.decode()
    assert reverse("learners:quiz_start", args=[quiz.pk]) in html
    assert 'data-testid="quiz-box"' in html


def test_starting_from_the_start_page_leads_to_the_quiz(client, quiz, camille):
    client.force_login(camille)
    url = reverse("learners:quiz_start", args=[quiz.pk])
    assert client.get(url).status_code == 200
    response = client.post(url)
    attempt = Attempt.objects.get(learner=camille)
    assert response.url == reverse("learners:quiz_take", args=[attempt.pk])


# --- Query budgets ---------------------------------------------------------------


@pytest.mark.parametrize("size", [5, 20])
def test_quiz_page_and_submission_queries_do_not_grow_with_the_quiz(
    client,
    journey,
    camille,
    size,
    eager_tasks,
    django_assert_max_num_queries,
    django_capture_on_commit_callbacks,
):
    services.enrol(camille, journey.track)
    questions = (every_type("B1.1") * 4)[: size // 2] + (every_type("B1.2") * 4)[: size - size // 2]
    module = set_quiz(journey.basics, questions, max_attempts=None)
    attempt = start(camille, module)
    assert len(attempt.questions) == size
    client.force_login(camille)
    url = reverse("learners:quiz_take", args=[attempt.pk])
    with django_assert_max_num_queries(10):
        assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks() as after_commit, django_assert_max_num_queries(9):
        assert client.post(url, right_form(attempt)).status_code == 302
    attempt.refresh_from_db()
    assert attempt.score == 100
    # The evidence task (one batch per competence) does not grow with the questions either.
    with django_assert_max_num_queries(40):
        for callback in after_commit:
            callback()
    assert set(LedgerEntry.objects.values_list("competence__code", flat=True)) == {"B1.1", "B1.2"}
