"""Staff no longer choose a time zone (config/settings.py WAGTAIL_USER_TIME_ZONES):
one chosen before would still apply, since Wagtail reads the stored choice."""

from django.db import migrations


def forget_time_zones(apps, schema_editor):
    UserProfile = apps.get_model("wagtailusers", "UserProfile")
    UserProfile.objects.exclude(current_time_zone="").update(current_time_zone="")


class Migration(migrations.Migration):
    dependencies = [
        ("learners", "0023_proposed_organisation"),
        ("wagtailusers", "0015_userprofile_keyboard_shortcuts"),
    ]

    operations = [migrations.RunPython(forget_time_zones, migrations.RunPython.noop)]
