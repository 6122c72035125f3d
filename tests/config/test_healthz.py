import time

from django.db import OperationalError


def test_healthz_says_the_database_is_ok_and_no_broker_is_configured(client, db, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "not configured"}


def test_healthz_reports_a_dead_broker_within_two_seconds(client, db, settings):
    # Nothing listens on port 1: the connection is refused or times out.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    started = time.monotonic()
    response = client.get("/healthz")
    elapsed = time.monotonic() - started
    assert response.status_code == 200
    assert response.json()["broker"] == "down"
    assert elapsed < 2.0


def test_healthz_answers_503_when_the_database_is_down(client, db, settings, monkeypatch):
    settings.CELERY_BROKER_URL = ""

    class DeadConnection:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr("config.views.connection", DeadConnection())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"database": "down", "broker": "not configured"}


def test_healthz_answers_a_plain_http_probe_when_https_is_enforced(client, db, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/healthz").status_code == 200
    assert client.get("/catalogue/").status_code == 301  # every other page still redirects
