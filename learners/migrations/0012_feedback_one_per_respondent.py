"""One funder feedback per session, and one per trainer and session.

Before the funder link edited its session's feedback, each visit added one, and a
double click could add two of anything. The oldest row stays the session's (the
one the forms have shown for editing since); any later duplicate keeps its track
but leaves the session, so no answer is lost and the constraint can hold.
"""

from django.db import migrations, models


def detach_duplicates(apps, schema_editor):
    Feedback = apps.get_model("learners", "Feedback")
    kept: set[tuple] = set()
    rows = Feedback.objects.filter(session__isnull=False).order_by("pk")
    for pk, session_id, respondent, author_id in rows.values_list(
        "pk", "session_id", "respondent", "author_id"
    ):
        if respondent == "funder":
            key = (session_id, respondent)
        elif respondent == "trainer" and author_id is not None:
            key = (session_id, respondent, author_id)
        else:
            continue
        if key in kept:
            Feedback.objects.filter(pk=pk).update(session=None)
        else:
            kept.add(key)


class Migration(migrations.Migration):
    dependencies = [
        ("courses", "0004_page_url_path_index"),
        ("learners", "0011_unplan_weekends_inside_sessions"),
    ]

    operations = [
        migrations.RunPython(detach_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="feedback",
            constraint=models.UniqueConstraint(
                condition=models.Q(("respondent", "funder")),
                fields=("session",),
                name="feedback_one_funder_per_session",
            ),
        ),
        migrations.AddConstraint(
            model_name="feedback",
            constraint=models.UniqueConstraint(
                condition=models.Q(("respondent", "trainer")),
                fields=("session", "author"),
                name="feedback_one_per_trainer_and_session",
            ),
        ),
    ]
