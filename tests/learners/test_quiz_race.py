"""Two concurrent starts never exceed the maximum number of attempts (PostgreSQL row locks)."""

import threading

import pytest
from django.db import connection

from learners import assessments, services
from learners.models import Attempt
from tests.learners.quiz_helpers import every_type, set_quiz
from tests.postgres import ONLY_ON_POSTGRES

pytestmark = ONLY_ON_POSTGRES


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_starts_cannot_exceed_the_last_attempt(journey, camille, monkeypatch):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, every_type(), max_attempts=1)
    both_ready = threading.Barrier(2, timeout=10)
    real_covering = assessments.covering_enrolment

    def covering_then_wait(*args, **kwargs):
        # Both requests have found the enrolment before either takes the lock.
        enrolment = real_covering(*args, **kwargs)
        both_ready.wait()
        return enrolment

    monkeypatch.setattr(assessments, "covering_enrolment", covering_then_wait)
    started, refused, errors = [], [], []

    def worker():
        try:
            attempt = assessments.start_attempt(camille, module)
            assessments.submit_attempt(attempt, {})
            started.append(attempt.pk)
        except assessments.AssessmentRefused as refusal:
            refused.append(refusal)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert Attempt.objects.filter(learner=camille, module=module).count() == 1
    # The second either resumed the first (then found it submitted) or was refused.
    assert len(set(started)) <= 1 and len(started) + len(refused) == 2


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_submissions_leave_one_result(journey, camille):
    services.enrol(camille, journey.track)
    module = set_quiz(journey.basics, every_type())
    attempt = assessments.start_attempt(camille, module)
    outcomes, errors = [], []
    go = threading.Barrier(2, timeout=10)

    def worker():
        try:
            go.wait()
            assessments.submit_attempt(Attempt.objects.get(pk=attempt.pk), {})
            outcomes.append("scored")
        except assessments.AssessmentRefused:
            outcomes.append("refused")
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    assert sorted(outcomes) == ["refused", "scored"]
    assert attempt.answers.count() == len(attempt.questions)
