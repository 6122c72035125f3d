import pytest
from django.db import OperationalError
from django.test import Client


@pytest.fixture
def failing_client(settings, monkeypatch):
    """A client that gets the error page a visitor would, with debug off."""
    settings.DEBUG = False
    return Client(raise_request_exception=False)


def test_a_lost_database_gives_a_clean_french_503_page(failing_client, db, monkeypatch):
    def lose_the_database(request, *args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("config.views.render", lose_the_database)
    response = failing_client.get("/accessibilite/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    html = response.content.decode()
    assert "Service momentanément indisponible" in html
    assert "server closed" not in html


def test_a_bug_gives_the_french_500_page_without_a_stack_trace(failing_client, db, monkeypatch):
    def crash(request, *args, **kwargs):
        raise ZeroDivisionError("secret internals")

    monkeypatch.setattr("config.views.render", crash)
    response = failing_client.get("/accessibilite/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Une erreur est survenue" in html
    assert "secret internals" not in html
    assert "Traceback" not in html
