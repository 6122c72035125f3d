"""The migration that freezes « what the trainer expects » into answers sent before it."""

import importlib

from django.apps import apps

from learners import assessments, services
from learners.models import Submission
from tests.learners.quiz_helpers import right_answers, set_quiz

migration = importlib.import_module("learners.migrations.0021_submission_expected")
OPEN = {
    "type": "open",
    "competence": "B1.1",
    "level": "appliquer",
    "text": "Décrivez votre lieu.",
    "explanation": "Un lieu, ses habitant·es, ce qui s'y fait.",
}


def test_answers_sent_before_get_the_expectation_their_attempt_froze(journey, camille, submit):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, [OPEN, {**OPEN, "explanation": ""}])
    attempt = assessments.start_attempt(camille, module)
    submit(attempt, right_answers(attempt))
    # As sent before the column existed.
    Submission.objects.update(expected="")

    migration.freeze_what_was_expected(apps, None)

    assert sorted(Submission.objects.values_list("expected", flat=True)) == [
        "",
        "Un lieu, ses habitant·es, ce qui s'y fait.",
    ]
