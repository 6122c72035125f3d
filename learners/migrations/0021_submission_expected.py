from django.db import migrations, models


def freeze_what_was_expected(apps, schema_editor):
    """Copy each open answer's « what the trainer expects » from its frozen attempt."""
    Submission = apps.get_model("learners", "Submission")
    Attempt = apps.get_model("learners", "Attempt")
    attempt_ids = (
        Submission.objects.filter(attempt__isnull=False).values_list("attempt_id", flat=True).distinct()
    )
    for attempt in Attempt.objects.filter(pk__in=attempt_ids).only("pk", "questions").iterator():
        explanations = {q.get("id"): q.get("explanation") or "" for q in attempt.questions or []}
        for submission in Submission.objects.filter(attempt_id=attempt.pk).only("pk", "question_id"):
            if explanations.get(submission.question_id):
                Submission.objects.filter(pk=submission.pk).update(
                    expected=explanations[submission.question_id]
                )


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0020_correction_learner_was_told"),
    ]

    operations = [
        migrations.AddField(
            model_name="submission",
            name="expected",
            field=models.TextField(blank=True, verbose_name="what the trainer expects"),
        ),
        migrations.RunPython(freeze_what_was_expected, migrations.RunPython.noop),
    ]
