"""The migration that makes feedback one per funder, and one per trainer, of a session."""

import importlib

from django.apps import apps
from django.db import connection
from django.utils import timezone

from learners.quality_models import Feedback
from learners.session_models import TrainingSession

migration = importlib.import_module("learners.migrations.0012_feedback_one_per_respondent")


def test_duplicates_from_before_keep_their_answers_and_leave_the_session_to_the_oldest(
    journey, karim
):
    # The rows as they stood before the constraints: dropped inside the test's own
    # transaction (both are unique indexes, on SQLite and on PostgreSQL), back after it.
    with connection.cursor() as cursor:
        for name in ("feedback_one_funder_per_session", "feedback_one_per_trainer_and_session"):
            cursor.execute(f"DROP INDEX {name}")
    today = timezone.localdate()
    session = TrainingSession.objects.create(
        track=journey.track, format="online", starts_on=today, ends_on=today, capacity=5
    )

    def answer(respondent, name, author=None):
        return Feedback.objects.create(
            track=journey.track,
            session=session,
            respondent=respondent,
            author=author,
            author_name=name,
            rating=4,
        ).pk

    funder_first, funder_again = answer("funder", "Nadia"), answer("funder", "Nadia bis")
    trainer_first = answer("trainer", "Karim", karim)
    trainer_again = answer("trainer", "Karim bis", karim)

    migration.detach_duplicates(apps, None)

    by_pk = Feedback.objects.in_bulk()
    assert len(by_pk) == 4  # nothing lost
    assert by_pk[funder_first].session_id == session.pk
    assert by_pk[trainer_first].session_id == session.pk
    for duplicate in (funder_again, trainer_again):
        assert by_pk[duplicate].session_id is None
        assert by_pk[duplicate].track_id == journey.track.pk
