"""The positioning test at track entry (Qualiopi indicator 8): a hint, never a lock."""

import pytest
from django.urls import reverse

from courses.assessments import stream_data
from courses.models import TrackPage
from learners import assessments, services
from learners.models import Attempt, LedgerEntry, User
from tests.conftest import make_user
from tests.learners.quiz_helpers import right_form, set_quiz, single


def positioning_questions() -> list[dict]:
    # Authored at the top level on purpose: positioning evidence stays at the lowest.
    return [
        single("B1.1", "maitriser", text="Positionnement B1.1 a"),
        single("B1.1", "maitriser", text="Positionnement B1.1 b"),
        single("B1.2", "maitriser", text="Positionnement B1.2"),
        single("B2.1", "maitriser", text="Positionnement B2.1"),
    ]


@pytest.fixture
def track(journey) -> TrackPage:
    track = journey.track
    track.positioning = stream_data(positioning_questions())
    track.positioning_pass_mark = 50
    track.save()
    return TrackPage.objects.get(pk=track.pk)


@pytest.fixture
def camille_enrolled(camille, track):
    services.enrol(camille, track)
    return camille


def answered_form(attempt, wrong_competences=("B2.1",), **self_assessment) -> dict:
    """Right answers except on `wrong_competences`, and the self-assessment per block."""
    form = right_form(attempt)
    for question in attempt.questions:
        if question["competence"] in wrong_competences:
            wrong = next(o["key"] for o in question["options"] if not o["correct"])
            form[f"q-{question['id']}"] = wrong
    form.update({f"self-{code}": str(value) for code, value in self_assessment.items()})
    return form


@pytest.fixture
def positioned(client, camille_enrolled, track, eager_tasks, django_capture_on_commit_callbacks):
    """Camille took the test: B1.1 and B1.2 right, B2.1 wrong; she rates B1 at 3, B2 at 1."""
    client.force_login(camille_enrolled)
    url = reverse("learners:positioning", args=[track.pk])
    assert client.get(url).status_code == 200
    attempt = Attempt.objects.positionings().get(learner=camille_enrolled, track=track)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, answered_form(attempt, B1=3, B2=1))
    assert response.url == reverse("learners:quiz_result", args=[attempt.pk])
    attempt.refresh_from_db()
    return attempt


def test_the_positioning_page_asks_the_questions_and_a_self_assessment_per_block(
    client, camille_enrolled, track
):
    client.force_login(camille_enrolled)
    response = client.get(reverse("learners:positioning", args=[track.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="question-') == 4
    for block in ("B1", "B2"):
        assert f'data-testid="self-{block}"' in html
        for value in "1234":
            assert f'id="self-{block}-{value}" value="{value}"' in html
        assert f'id="self-{block}-5"' not in html


def test_the_result_and_self_assessment_are_stored_in_the_learners_file(positioned, track):
    assert positioned.status == Attempt.Status.SUBMITTED
    assert positioned.self_assessment == {"B1": 3, "B2": 1}
    assert positioned.competence_scores == {"B1.1": 100, "B1.2": 100, "B2.1": 0}
    assert positioned.score == 75


def test_positioning_writes_only_the_lowest_level_for_competences_met(positioned, camille):
    entries = LedgerEntry.objects.filter(learner=camille).order_by("competence__code")
    assert [(e.competence.code, e.level.rank, e.source) for e in entries] == [
        ("B1.1", 1, LedgerEntry.Source.POSITIONING),
        ("B1.2", 1, LedgerEntry.Source.POSITIONING),
    ]
    assert {e.source_reference for e in entries} == {f"positioning:{positioned.pk}"}


def test_the_track_page_marks_modules_probably_acquired_or_recommended(
    client, positioned, track, journey
):
    html = client.get(track.url).content.decode()
    assert f'data-module="{journey.basics.pk}" data-advice="acquired"' in html
    assert f'data-module="{journey.advanced.pk}" data-advice="recommended"' in html
    assert f'data-module="{journey.closing.pk}" data-advice="recommended"' in html
    assert "probablement acquis" in html and "recommandé" in html


def test_a_module_without_a_tested_competence_is_recommended(positioned, camille, track, journey):
    # Basics targets B1.1 and B1.2, both met; drop B1.2 from the scores: no longer acquired.
    positioned.competence_scores = {"B1.1": 100}
    positioned.save(update_fields=["competence_scores"])
    advice = assessments.positioning_advice(camille, track, track.modules())
    assert advice[journey.basics.pk] == "recommended"


def test_modules_probably_acquired_or_recommended_can_all_be_taken(
    client, positioned, camille, journey
):
    acquired = set_quiz(journey.basics, [single("B1.1")])
    recommended = set_quiz(journey.closing, [single("B2.1")])
    for module in (acquired, recommended):
        response = client.post(reverse("learners:quiz_start", args=[module.pk]))
        attempt = Attempt.objects.quizzes().get(learner=camille, module=module)
        assert response.url == reverse("learners:quiz_take", args=[attempt.pk])
        lesson = module.lessons().first()
        assert client.post(reverse("learners:lesson_done", args=[lesson.pk])).status_code == 302
    # Probably acquired is advice, not a completion: nothing was unlocked for her either.
    assert not camille.module_completions.exists()


def test_the_test_is_taken_once_per_track(client, positioned, track):
    response = client.get(reverse("learners:positioning", args=[track.pk]))
    assert response.url == reverse("learners:quiz_result", args=[positioned.pk])
    assert Attempt.objects.positionings().count() == 1


def test_a_missing_or_out_of_scale_self_assessment_is_a_clear_error(
    client, camille_enrolled, track
):
    client.force_login(camille_enrolled)
    url = reverse("learners:positioning", args=[track.pk])
    client.get(url)
    attempt = Attempt.objects.positionings().get(learner=camille_enrolled)
    response = client.post(url, answered_form(attempt, B1=5))
    assert response.status_code == 400
    assert set(response.context["self_errors"]) == {"B1", "B2"}
    html = response.content.decode()
    assert 'id="error-summary"' in html and 'href="#self-B1-1"' in html
    attempt.refresh_from_db()
    assert attempt.is_open and attempt.self_assessment == {}


def test_a_learner_not_enrolled_in_the_track_cannot_take_it(client, dominique, track):
    client.force_login(dominique)
    response = client.get(reverse("learners:positioning", args=[track.pk]), follow=True)
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Attempt.objects.filter(learner=dominique).exists()


def test_another_learner_never_sees_someone_elses_positioning(client, positioned, dominique, track):
    services.enrol(dominique, track)
    client.force_login(dominique)
    assert client.get(reverse("learners:quiz_result", args=[positioned.pk])).status_code == 404
    assert client.get(reverse("learners:quiz_take", args=[positioned.pk])).status_code == 404
    # Her own positioning page starts her own test, not Camille's.
    page = client.get(reverse("learners:positioning", args=[track.pk]))
    assert page.context["attempt"].learner_id == dominique.pk
    assert page.context["attempt"].pk != positioned.pk


def test_the_trainers_of_the_track_see_it_on_the_learner_file(
    client, positioned, camille, karim, lea
):
    for trainer in (karim, lea):  # Léa owns one module of the track, Karim two
        client.force_login(trainer)
        response = client.get(reverse("learners:learner_file", args=[camille.pk]))
        assert response.context["positionings"] == [positioned]
        html = response.content.decode()
        assert f'data-testid="positioning-{positioned.pk}"' in html
        assert '<dd data-block="B1">3 / 4</dd>' in html
        assert '<dd data-block="B2">1 / 4</dd>' in html


def test_a_trainer_outside_the_track_does_not_see_the_learner_file(
    client, positioned, camille, journey
):
    stranger = make_user("nora@example.org", "Nora Stranger", role=User.Role.TRAINER)
    client.force_login(stranger)
    assert client.get(reverse("learners:learner_file", args=[camille.pk])).status_code == 404


def test_an_open_question_stored_in_a_positioning_test_before_they_were_left_out_is_not_asked(
    camille_enrolled, track
):
    open_question = {"type": "open", "competence": "B1.1", "level": "maitriser", "text": "Libre"}
    # As a test published when the positioning test still offered open questions.
    TrackPage.objects.filter(pk=track.pk).update(
        positioning=stream_data([*positioning_questions(), open_question])
    )

    attempt = assessments.start_positioning(camille_enrolled, TrackPage.objects.get(pk=track.pk))

    assert "Libre" not in [question["text"] for question in attempt.questions]
    assert len(attempt.questions) == 4
