"""Sign-in records are kept only as long as the privacy page says."""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.test import Client
from django.utils import timezone

from learners import sign_in_records
from learners.account_sessions import AccountSession
from learners.tasks import forget_old_sign_in_records


def logged(model, days_ago: int, username: str):
    extra = {"failures_since_start": 1} if model is AccessAttempt else {}
    row = model.objects.create(
        username=username, ip_address="192.0.2.7", user_agent="Firefox", **extra
    )
    model.objects.filter(pk=row.pk).update(attempt_time=timezone.now() - timedelta(days=days_ago))
    return row


def test_logs_older_than_six_months_go_and_recent_ones_stay(db):
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        logged(model, 200, "ancien@example.org")
        logged(model, 30, "recent@example.org")

    counts = forget_old_sign_in_records()

    assert counts == {"sessions": 0, "logs": 1, "failures": 1, "attempts": 1}
    for model in (AccessLog, AccessFailureLog, AccessAttempt):
        assert list(model.objects.values_list("username", flat=True)) == ["recent@example.org"]


def test_expired_sessions_go_and_open_ones_stay(camille, dominique):
    expired, still_open = Client(), Client()
    expired.force_login(camille)
    still_open.force_login(dominique)
    AccountSession.objects.filter(account=camille).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )

    assert sign_in_records.forget_old()["sessions"] == 1

    assert list(AccountSession.objects.values_list("account", flat=True)) == [dominique.pk]
    assert still_open.get("/moi/parcours/").status_code == 200


def test_the_privacy_page_says_how_long_sign_ins_are_kept(client, db):
    assert "6 mois" in client.get("/confidentialite/").text


def test_the_privacy_page_names_the_rights_whom_to_write_to_and_the_processors(
    client, db, settings
):
    import html

    settings.CAMPUS_PRIVACY_EMAIL = "dpo@exemple.fr"
    page = html.unescape(client.get("/confidentialite/").text)
    assert "vous opposer à un traitement" in page and "limiter" in page
    assert 'href="mailto:dpo@exemple.fr"' in page
    assert "leur liste est envoyée sur demande" in page.lower()

    settings.CAMPUS_PROCESSORS = ["Hébergeur Exemple (hébergement, France)"]
    page = client.get("/confidentialite/").text
    assert "<li>Hébergeur Exemple (hébergement, France)</li>" in page
