"""A module's quiz names only competences the module targets, at levels of their framework."""

import pytest
from django.core.exceptions import ValidationError

from courses.assessments import stream_data
from courses.models import ModulePage
from tests.courses.factories import make_catalogue_page, make_framework, make_module, make_track


def question(competence: str, level: str, text: str = "Question ?") -> dict:
    return {
        "type": "single_choice",
        "competence": competence,
        "level": level,
        "text": text,
        "options": [{"text": "Oui", "correct": True}, {"text": "Non", "correct": False}],
    }


@pytest.fixture
def module(db) -> ModulePage:
    """A module of RS5142 targeting B1.1 only; another framework has a level « expert »."""
    framework = make_framework()
    make_framework("AUTRE", levels=(("expert", "Expert"),), blocks={"X1": ("X1.1",)})
    track = make_track(make_catalogue_page(), framework)
    return make_module(track, "Les bases", competences=("B1.1",))


def quiz_errors(module: ModulePage, questions: list[dict]) -> list[str]:
    module.quiz = stream_data(questions)
    with pytest.raises(ValidationError) as caught:
        module.full_clean()
    return caught.value.message_dict["quiz"]


def test_a_quiz_on_a_targeted_competence_at_a_framework_level_is_accepted(module):
    module.quiz = stream_data([question("B1.1", "decouvrir"), question("B1.1", "maitriser")])
    module.full_clean()
    module.save_revision().publish()
    assert len(ModulePage.objects.get(pk=module.pk).quiz) == 2


def test_a_competence_of_the_framework_the_module_does_not_target_is_refused(module):
    errors = quiz_errors(module, [question("B1.1", "decouvrir"), question("B1.2", "decouvrir")])
    assert errors == ["Question 2 : le module ne vise pas la compétence « B1.2 »."]


def test_an_unknown_competence_code_is_refused(module):
    errors = quiz_errors(module, [question("Z9.9", "decouvrir")])
    assert len(errors) == 1 and "Z9.9" in errors[0]


def test_a_level_code_of_another_framework_is_refused(module):
    errors = quiz_errors(module, [question("B1.1", "expert")])
    assert len(errors) == 1 and "expert" in errors[0] and errors[0].startswith("Question 1")


def test_every_bad_question_is_reported_at_once(module):
    errors = quiz_errors(
        module,
        [question("B1.1", "decouvrir"), question("B2.1", "decouvrir"), question("B1.1", "nul")],
    )
    assert [error.split(" ")[1] for error in errors] == ["2", "3"]


def test_saving_a_bad_quiz_through_the_page_refuses_it(module):
    module.quiz = stream_data([question("B1.2", "decouvrir")])
    with pytest.raises(ValidationError):
        module.save()
    assert not len(ModulePage.objects.get(pk=module.pk).quiz)
