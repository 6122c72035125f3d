"""An agent's sign-up proposes an organisation until the person says it is hers.

Sign-ups waiting for their code when this runs (never signed in, no password, no
confirmed address) keep their organisation and have it proposed too: whoever types
their code where the sign-up was made confirms it, anyone else is asked
(learners/organisation_receivers.py). The rule is written here as it stands, so
that the migration never changes with the code.
"""

import django.db.models.deletion
from django.db import migrations, models

AGENT = "public_agent"
UNUSABLE_PASSWORD_PREFIX = "!"


def propose_pending_signups(apps, schema_editor):
    User = apps.get_model("learners", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    confirmed = EmailAddress.objects.filter(verified=True).values("user_id")
    User.objects.filter(
        role=AGENT,
        organisation__isnull=False,
        last_login__isnull=True,
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
        erased_at__isnull=True,
    ).exclude(pk__in=confirmed).update(proposed_organisation=models.F("organisation"))


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0022_session_hours"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="proposed_organisation",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="learners.organisation",
                verbose_name="organisation named at sign-up, not confirmed yet",
            ),
        ),
        migrations.RunPython(propose_pending_signups, migrations.RunPython.noop),
    ]
