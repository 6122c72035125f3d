"""A quiz says before the first send what the server will refuse: every answer is
required, and each instruction is read with the question it belongs to."""

# Fixtures come from the modules that define them: imported, then named as arguments.
# ruff: noqa: F401, F811
import pytest
from django.urls import reverse

from learners import assessments, services
from tests.html_checks import missing_references, soup_of
from tests.learners.quiz_helpers import every_type, set_quiz, single
from tests.learners.test_positioning import camille_enrolled, track

OPEN = {"type": "open", "competence": "B1.1", "level": "appliquer"}


@pytest.fixture
def quiz(journey, camille):
    """Camille follows the track; the basics module asks one question of every type."""
    services.enrol(camille, journey.track)
    questions = [
        *every_type(),
        {**OPEN, "text": "Écrivez", "allow_file": False},
        {**OPEN, "text": "Écrivez ou joignez", "allow_file": True},
    ]
    return set_quiz(journey.basics, questions)


def quiz_page(client, learner, module):
    attempt = assessments.start_attempt(learner, module)
    client.force_login(learner)
    return attempt, soup_of(client.get(reverse("learners:quiz_take", args=[attempt.pk])))


def group(soup, question):
    return soup.find(id=f"question-{question['id']}")


def test_every_answer_the_server_requires_is_marked_required_before_the_first_send(
    client, quiz, camille
):
    attempt, soup = quiz_page(client, camille, quiz)
    by_text = {q["text"]: q for q in attempt.questions}
    single_choice = group(soup, by_text["Choix simple"]).find_all("input", type="radio")
    true_false = group(soup, by_text["Vrai ou faux"]).find_all("input", type="radio")
    assert single_choice and all(radio.has_attr("required") for radio in single_choice)
    assert true_false and all(radio.has_attr("required") for radio in true_false)
    assert group(soup, by_text["Réponse courte"]).find("input", type="text").has_attr("required")
    assert group(soup, by_text["Nombre"]).find("input", type="text").has_attr("required")
    positions = group(soup, by_text["Ordre"]).find_all("select")
    assert len(positions) == 3 and all(select.has_attr("required") for select in positions)
    assert group(soup, by_text["Écrivez"]).find("textarea").has_attr("required")


def test_what_is_not_required_on_its_own_is_not_marked_required(client, quiz, camille):
    attempt, soup = quiz_page(client, camille, quiz)
    by_text = {q["text"]: q for q in attempt.questions}
    # One box of a group need not be ticked; a text may give way to an attached file.
    boxes = group(soup, by_text["Choix multiple"]).find_all("input", type="checkbox")
    assert boxes and not any(box.has_attr("required") for box in boxes)
    with_file = group(soup, by_text["Écrivez ou joignez"])
    assert not with_file.find("textarea").has_attr("required")
    assert not with_file.find("input", type="file").has_attr("required")


def test_the_quiz_says_every_question_needs_an_answer_before_the_first_question(
    client, quiz, camille
):
    _attempt, soup = quiz_page(client, camille, quiz)
    form = soup.find(id="quiz-form")
    note = form.find(attrs={"data-testid": "quiz-required-note"})
    assert note is not None and note.get_text(strip=True)
    assert note.find_next("fieldset") is form.find("fieldset")
    # The server's messages stay the errors a learner meets: the browser's own are kept off.
    assert form.has_attr("novalidate")


def test_the_instructions_of_ticks_and_positions_describe_their_group(client, quiz, camille):
    attempt, soup = quiz_page(client, camille, quiz)
    assert missing_references(soup) == []
    for question in attempt.questions:
        fieldset = group(soup, question)
        if question["type"] in ("multiple_choice", "ordering"):
            hint = soup.find(id=f"q-{question['id']}-hint")
            assert hint is not None and hint.find_parent("fieldset") is fieldset
            assert fieldset["aria-describedby"].split() == [hint["id"]]
        else:
            assert not fieldset.has_attr("aria-describedby"), question["type"]


def test_the_positioning_test_marks_its_answers_and_its_self_assessment_required(
    client, camille_enrolled, track
):
    client.force_login(camille_enrolled)
    soup = soup_of(client.get(reverse("learners:positioning", args=[track.pk])))
    form = soup.find(id="positioning-form")
    note = form.find(attrs={"data-testid": "positioning-required-note"})
    assert note is not None and note.find_next("fieldset") is form.find("fieldset")
    radios = form.find_all("input", type="radio")
    self_assessment = form.select("[data-testid^=self-] input[type=radio]")
    assert self_assessment and len(radios) > len(self_assessment)
    assert all(radio.has_attr("required") for radio in radios)


# --- Time limits -----------------------------------------------------------------


@pytest.fixture
def timed_quiz(journey, camille):
    services.enrol(camille, journey.track)
    return set_quiz(journey.basics, [single()], time_limit_minutes=30)


def test_a_timed_quiz_points_to_the_extra_time_request_where_it_states_its_limit(
    client, journey, camille, timed_quiz
):
    client.force_login(camille)
    soup = soup_of(client.get(reverse("learners:quiz_start", args=[timed_quiz.pk])))
    link = soup.select_one("[data-testid=time-limit] a[data-testid=extra-time-link]")
    assert link["href"] == reverse("learners:accommodation", args=[journey.track.pk])
    assert client.get(link["href"]).status_code == 200


def test_an_untimed_quiz_has_no_extra_time_to_ask_for(client, journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [single()])
    client.force_login(camille)
    soup = soup_of(client.get(reverse("learners:quiz_start", args=[module.pk])))
    assert soup.select_one("[data-testid=extra-time-link]") is None
