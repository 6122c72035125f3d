"""The migration that makes feedback one per funder, and one per trainer, of a session."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

BEFORE = [("learners", "0011_unplan_weekends_inside_sessions")]
AFTER = [("learners", "0012_feedback_one_per_respondent")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_duplicates_from_before_keep_their_answers_and_leave_the_session_to_the_oldest(
    journey, karim
):
    apps = migrate(BEFORE)
    Feedback = apps.get_model("learners", "Feedback")
    TrainingSession = apps.get_model("learners", "TrainingSession")
    today = timezone.localdate()
    session = TrainingSession.objects.create(
        track_id=journey.track.pk, format="online", starts_on=today, ends_on=today, capacity=5
    )

    def answer(respondent, name, author_id=None):
        return Feedback.objects.create(
            track_id=journey.track.pk,
            session=session,
            respondent=respondent,
            author_id=author_id,
            author_name=name,
            rating=4,
        ).pk

    funder_first, funder_again = answer("funder", "Nadia"), answer("funder", "Nadia bis")
    trainer_first = answer("trainer", "Karim", karim.pk)
    trainer_again = answer("trainer", "Karim bis", karim.pk)

    apps = migrate(AFTER)

    Feedback = apps.get_model("learners", "Feedback")
    by_pk = {row.pk: row for row in Feedback.objects.all()}
    assert len(by_pk) == 4  # nothing lost
    assert by_pk[funder_first].session_id == session.pk
    assert by_pk[trainer_first].session_id == session.pk
    for duplicate in (funder_again, trainer_again):
        assert by_pk[duplicate].session_id is None
        assert by_pk[duplicate].track_id == journey.track.pk
