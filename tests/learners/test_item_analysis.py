"""Item analysis for the module's trainer: success rate per question, pick rate per option."""

import pytest
from django.urls import reverse

from learners import assessments, services
from learners.models import User
from tests.conftest import make_user
from tests.learners.quiz_helpers import set_quiz, single

# Option 1 is right; learners pick by option text so that shuffling changes nothing.
QUESTIONS = [
    single("B1.1", text="Question un", right=1, options=3),
    {
        "type": "multiple_choice",
        "competence": "B1.2",
        "level": "decouvrir",
        "text": "Question deux",
        "options": [
            {"text": "A", "correct": True},
            {"text": "B", "correct": True},
            {"text": "C", "correct": False},
        ],
    },
]


@pytest.fixture
def module(journey):
    return set_quiz(journey.basics, QUESTIONS, max_attempts=None)


def take(learner, module, first: str, second: list[str]) -> None:
    """One submitted attempt picking options by their text."""
    attempt = assessments.start_attempt(learner, module)
    one, two = attempt.questions

    def key(question, text):
        return next(o["key"] for o in question["options"] if o["text"] == text)

    answers = {one["id"]: key(one, first), two["id"]: [key(two, text) for text in second]}
    assessments.submit_attempt(attempt, answers)


def learners(count: int, journey) -> list[User]:
    people = [
        make_user(f"item{n}@example.org", f"Apprenant {n}", role=User.Role.FACILITATOR)
        for n in range(count)
    ]
    for person in people:
        services.enrol(person, journey.track)
    return people


# Five known attempts: (pick on question one, picks on question two).
KNOWN = [
    ("Option 1", ["A", "B"]),
    ("Option 1", ["A"]),
    ("Option 1", ["A", "B", "C"]),
    ("Option 0", ["A", "B"]),
    ("Option 2", ["C"]),
]


def results(client, trainer, module):
    client.force_login(trainer)
    response = client.get(reverse("learners:module_results", args=[module.pk]))
    assert response.status_code == 200
    return response


def test_four_answers_are_not_enough_to_show_rates(client, journey, module, karim):
    for person, (first, second) in zip(learners(4, journey), KNOWN, strict=False):
        take(person, module, first, second)
    response = results(client, karim, module)
    items = response.context["items"]
    assert [(item.answers, item.shown) for item in items] == [(4, False), (4, False)]
    html = response.content.decode()
    assert 'data-testid="success-rate"' not in html
    assert "Option 1" not in html  # no pick table either


def test_five_answers_show_success_and_pick_rates_from_the_attempts(client, journey, module, karim):
    for person, (first, second) in zip(learners(5, journey), KNOWN, strict=True):
        take(person, module, first, second)
    items = results(client, karim, module).context["items"]
    one, two = items
    assert [item.text for item in items] == ["Question un", "Question deux"]
    assert (one.answers, one.shown) == (5, True)
    assert one.success_rate == pytest.approx(3 / 5)
    assert one.option_picks == [("Option 0", 0.2), ("Option 1", 0.6), ("Option 2", 0.2)]
    # All or nothing: only the two exact {A, B} answers score.
    assert two.success_rate == pytest.approx(2 / 5)
    assert two.option_picks == [("A", 0.8), ("B", 0.6), ("C", 0.4)]


def test_the_page_prints_the_percentages(client, journey, module, karim):
    for person, (first, second) in zip(learners(5, journey), KNOWN, strict=True):
        take(person, module, first, second)
    html = results(client, karim, module).content.decode()
    one_id, two_id = (child.id for child in module.quiz)
    one = html[
        html.index(f'data-testid="item-{one_id}"') : html.index(f'data-testid="item-{two_id}"')
    ]
    assert 'data-answers="5"' in one
    assert "60 %" in one  # success rate and the pick rate of the right option
    assert '<th scope="row">Option 0</th><td>20 %</td>' in one
    two = html[html.index(f'data-testid="item-{two_id}"') :]
    assert "40 %" in two and '<th scope="row">A</th><td>80 %</td>' in two


def test_another_trainer_or_a_learner_gets_a_404(client, journey, module, lea, camille):
    url = reverse("learners:module_results", args=[module.pk])
    for person in (lea, camille):
        client.force_login(person)
        assert client.get(url).status_code == 404


@pytest.mark.parametrize("attempts", [5, 50])
def test_item_analysis_queries_do_not_grow_with_the_attempts(
    client, journey, module, karim, camille, attempts, django_assert_max_num_queries
):
    services.enrol(camille, journey.track)
    for number in range(attempts):
        first, second = KNOWN[number % len(KNOWN)]
        take(camille, module, first, second)
    client.force_login(karim)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("learners:module_results", args=[module.pk]))
    assert [item.answers for item in response.context["items"]] == [attempts, attempts]


def test_an_option_added_later_is_rated_over_the_answers_that_could_pick_it(
    client, journey, module, karim
):
    from learners.models import Attempt

    for person, (first, second) in zip(learners(5, journey), KNOWN, strict=True):
        take(person, module, first, second)
    # The first two attempts were drawn before « C » was added to question two
    # (neither picked it): their frozen question lacks it.
    for attempt in Attempt.objects.filter(module=module).order_by("pk")[:2]:
        questions = attempt.questions
        questions[1]["options"] = [o for o in questions[1]["options"] if o["text"] != "C"]
        Attempt.objects.filter(pk=attempt.pk).update(questions=questions)

    one, two = results(client, karim, module).context["items"]

    assert two.option_picks == [("A", 0.8), ("B", 0.6), ("C", pytest.approx(2 / 3))]
    assert one.option_picks == [("Option 0", 0.2), ("Option 1", 0.6), ("Option 2", 0.2)]
