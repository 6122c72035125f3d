"""Migration 0013: certificates issued before keep their printed last day whole."""

import datetime
from importlib import import_module

from django.apps import apps
from django.utils import timezone

from tests.certification.verification_data import make_certificate

migration = import_module("certification.migrations.0013_expiry_at_the_end_of_the_last_day")


def test_an_expiry_at_the_hour_of_issue_moves_to_the_end_of_that_day(camille):
    tz = timezone.get_current_timezone()
    at_issue_hour = datetime.datetime(2026, 3, 1, 15, 0, tzinfo=tz)
    dated = make_certificate(camille, expires_at=at_issue_hour)
    undated = make_certificate(camille)

    migration.end_of_the_printed_day(apps, None)

    dated.refresh_from_db()
    undated.refresh_from_db()
    assert timezone.localtime(dated.expires_at).replace(tzinfo=None) == datetime.datetime(
        2026, 3, 1, 23, 59, 59
    )
    assert undated.expires_at is None
