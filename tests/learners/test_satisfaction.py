"""Satisfaction « à chaud » at the end of a module (Qualiopi indicator 30)."""

import pytest
from django.urls import reverse

from learners import assessments, services
from learners.models import Satisfaction, User
from tests.conftest import make_user


def complete(learner, module) -> None:
    for lesson in module.lessons():
        services.mark_lesson_done(learner, lesson)


@pytest.fixture
def closing_done(journey, camille):
    """Camille completed Léa's closing module (one lesson, no quiz)."""
    services.enrol(camille, journey.track)
    complete(camille, journey.closing)
    assert journey.closing.completions.filter(learner=camille).exists()
    return journey.closing


def answer(client, module, rating, comment=""):
    return client.post(
        reverse("learners:satisfaction", args=[module.pk]),
        {"rating": rating, "comment": comment},
        follow=True,
    )


def messages_of(response) -> list[tuple[str, str]]:
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


def test_the_survey_is_offered_only_once_the_module_is_completed(client, journey, camille):
    services.enrol(camille, journey.track)
    client.force_login(camille)
    assert 'data-testid="satisfaction-form"' not in client.get(journey.closing.url).content.decode()
    response = answer(client, journey.closing, 5)
    assert messages_of(response)[0][0] == "error"
    assert not Satisfaction.objects.exists()

    complete(camille, journey.closing)
    html = client.get(journey.closing.url).content.decode()
    assert 'data-testid="satisfaction-form"' in html
    assert reverse("learners:satisfaction", args=[journey.closing.pk]) in html


def test_a_learner_rates_a_completed_module_with_a_comment(client, closing_done, camille):
    client.force_login(camille)
    response = answer(client, closing_done, "4", "  Très concret.  ")
    assert [level for level, _text in messages_of(response)] == ["success"]
    row = Satisfaction.objects.get(learner=camille, module=closing_done)
    assert (row.rating, row.comment) == (4, "Très concret.")
    # Answered: the page no longer offers the survey.
    assert 'data-testid="satisfaction-form"' not in client.get(closing_done.url).content.decode()


def test_a_second_answer_keeps_the_first_one(client, closing_done, camille):
    client.force_login(camille)
    answer(client, closing_done, 2, "Trop court.")
    response = answer(client, closing_done, 5, "Finalement super.")
    assert [level for level, _text in messages_of(response)] == ["info"]
    row = Satisfaction.objects.get(learner=camille, module=closing_done)
    assert (row.rating, row.comment) == (2, "Trop court.")
    assert Satisfaction.objects.count() == 1


@pytest.mark.parametrize("rating", ["0", "6", "-1", "abc", "", "4.5"])
def test_a_rating_outside_1_to_5_is_refused_with_a_clear_error(
    client, closing_done, camille, rating
):
    client.force_login(camille)
    response = answer(client, closing_done, rating)
    assert messages_of(response) == [("error", "Choisissez une note entre 1 et 5.")]
    assert not Satisfaction.objects.exists()


def test_the_service_refuses_a_rating_outside_the_scale(closing_done, camille):
    with pytest.raises(assessments.AssessmentRefused):
        assessments.record_satisfaction(camille, closing_done, 6)
    assert not Satisfaction.objects.exists()


@pytest.fixture
def five_answers(closing_done, camille, dominique):
    """Five learners answered Léa's closing module: ratings 5, 4, 4, 2, 5."""
    learners = [camille, dominique] + [
        make_user(f"apprenant{n}@example.org", f"Apprenant Numéro{n}", role=User.Role.FACILITATOR)
        for n in range(3)
    ]
    ratings = [5, 4, 4, 2, 5]
    comments = ["Très concret.", "", "Bien rythmé.", "Trop court.", ""]
    for learner, rating, comment in zip(learners, ratings, comments, strict=True):
        assessments.record_satisfaction(learner, closing_done, rating, comment)
    return learners


def test_the_trainer_sees_count_mean_and_distribution_of_her_module(
    client, five_answers, closing_done, lea
):
    client.force_login(lea)
    response = client.get(reverse("learners:module_results", args=[closing_done.pk]))
    assert response.status_code == 200
    summary = response.context["satisfaction"]
    assert (summary.count, summary.average) == (5, 4.0)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 2, 5: 2}
    html = response.content.decode()
    assert 'data-testid="satisfaction-summary" data-count="5"' in html


def test_free_texts_reach_the_trainer_without_anyone_named(client, five_answers, closing_done, lea):
    client.force_login(lea)
    response = client.get(reverse("learners:module_results", args=[closing_done.pk]))
    assert sorted(response.context["satisfaction"].comments) == [
        "Bien rythmé.",
        "Trop court.",
        "Très concret.",
    ]
    html = response.content.decode()
    assert 'data-testid="satisfaction-comments"' in html and "Bien rythmé." in html
    for learner in five_answers:
        assert learner.full_name not in html
        assert learner.email not in html
        assert learner.display_name not in html


def test_under_five_answers_the_trainer_sees_the_count_alone(
    client, closing_done, camille, dominique, lea
):
    assessments.record_satisfaction(camille, closing_done, 1, "Je n'ai rien compris.")
    assessments.record_satisfaction(dominique, closing_done, 5, "")
    client.force_login(lea)

    response = client.get(reverse("learners:module_results", args=[closing_done.pk]))

    summary = response.context["satisfaction"]
    assert (summary.count, summary.average, summary.comments) == (2, None, [])
    html = response.content.decode()
    assert "2 réponses pour l" in html and "à partir de 5 réponses" in html
    assert "rien compris" not in html and 'data-testid="satisfaction-comments"' not in html


def test_another_trainer_and_a_learner_get_a_404_on_the_results(
    client, five_answers, closing_done, karim, camille
):
    url = reverse("learners:module_results", args=[closing_done.pk])
    for person in (karim, camille):
        client.force_login(person)
        assert client.get(url).status_code == 404


def test_a_sixth_answer_waits_for_four_more_so_that_it_cannot_be_told_by_difference(
    client, five_answers, closing_done, lea
):
    sixth = make_user("sixieme@example.org", "Sixième Personne", role=User.Role.FACILITATOR)
    assessments.record_satisfaction(sixth, closing_done, 1, "Rien appris de neuf.")
    client.force_login(lea)

    response = client.get(reverse("learners:module_results", args=[closing_done.pk]))

    summary = response.context["satisfaction"]
    assert (summary.count, summary.counted, summary.average) == (6, 5, 4.0)
    assert summary.distribution == {1: 0, 2: 1, 3: 0, 4: 2, 5: 2}
    html = response.content.decode()
    assert "Rien appris" not in html
    assert "1 réponse de plus" in html and "par groupes de 5" in html
    for n in range(4):
        late = make_user(f"tard{n}@example.org", f"Tard Numéro{n}", role=User.Role.FACILITATOR)
        assessments.record_satisfaction(late, closing_done, 3)

    summary = client.get(reverse("learners:module_results", args=[closing_done.pk])).context[
        "satisfaction"
    ]
    assert (summary.count, summary.counted, summary.waiting) == (10, 10, 0)
    assert "Rien appris de neuf." in summary.comments
    assert summary.average == round((5 + 4 + 4 + 2 + 5 + 1 + 3 * 4) / 10, 1)
