"""Two last lessons marked at the same moment still complete their module (PostgreSQL)."""

import threading

import pytest
from django.db import connection

from learners import services
from learners.models import LessonProgress, ModuleCompletion
from tests.postgres import ONLY_ON_POSTGRES

pytestmark = ONLY_ON_POSTGRES


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_two_last_lessons_marked_at_once_complete_the_module(journey, camille, monkeypatch):
    services.enrol(camille, journey.track)
    first, second = journey.basics.lessons()
    both_stored = threading.Barrier(2, timeout=10)
    real_record = services.activity.record

    def record_then_wait(*args, **kwargs):
        # Each has stored its lesson, uncommitted, before either checks the module.
        real_record(*args, **kwargs)
        both_stored.wait()

    monkeypatch.setattr(services.activity, "record", record_then_wait)
    errors = []

    def mark(lesson):
        try:
            services.mark_lesson_done(camille, lesson)
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=mark, args=(lesson,)) for lesson in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors
    assert LessonProgress.objects.filter(learner=camille).count() == 2
    assert ModuleCompletion.objects.filter(learner=camille, module=journey.basics).exists()
