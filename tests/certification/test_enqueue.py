"""A dead broker never holds a request: the certificate waits for the periodic task."""

import datetime
import socket
import time

import pytest
from celery import Celery
from django.utils import timezone

from certification import services
from certification.models import Certificate
from config.celery import app as campus_app


def _refusing_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: connections are refused


@pytest.fixture
def silent_broker():
    """Accepts TCP connections and never answers, like a hung Redis."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def dead_broker_app(monkeypatch):
    """The project's Celery configuration, publishing to a broker that is not there."""
    # Celery prefers this variable to any broker_url below: unset, or the task
    # would reach the suite's Redis.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)

    def make(port: int) -> Celery:
        app = Celery("campus-dead-broker", set_as_current=False)
        app.config_from_object("django.conf:settings", namespace="CELERY")
        app.conf.update(
            broker_url=f"redis://127.0.0.1:{port}/0",
            result_backend=None,
            task_always_eager=False,
        )
        app.set_current()
        return app

    yield make
    campus_app.set_current()


@pytest.mark.parametrize("broker", ["refusing", "silent"])
def test_issuing_with_a_dead_broker_returns_within_two_seconds_and_leaves_the_pdf_pending(
    broker, silent_broker, dead_broker_app, setting, camille, django_capture_on_commit_callbacks
):
    dead_broker_app(_refusing_port() if broker == "refusing" else silent_broker)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        certificate, created = services.issue(camille, setting.module_award)
    elapsed = time.monotonic() - started

    assert created
    assert elapsed < 2, f"issuing took {elapsed:.2f}s with a {broker} broker"
    certificate.refresh_from_db()
    assert certificate.pdf == "" and certificate.render_enqueued_at is not None


def test_a_request_issuing_several_awards_pays_a_hung_broker_once(
    silent_broker, dead_broker_app, setting, camille, django_capture_on_commit_callbacks
):
    from tests.certification.conftest import reach

    dead_broker_app(silent_broker)
    reach(camille, setting.framework, "B1.1", 2)
    reach(camille, setting.framework, "B1.2", 2)

    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        first, _ = services.issue(camille, setting.module_award)
        second, _ = services.issue(camille, setting.block_award)
        third, _ = services.issue(camille, setting.certification_award)
    elapsed = time.monotonic() - started

    # Each publish waits up to a second on a hung Redis; after the first, the process
    # leaves it alone (config/broker.py) and the others are left pending at once.
    assert elapsed < 2, f"three awards took {elapsed:.2f}s with a hung broker"
    for certificate in (first, second, third):
        certificate.refresh_from_db()
        assert certificate.pdf == "" and certificate.render_enqueued_at is not None


def test_the_broker_is_tried_again_once_rested(
    dead_broker_app, setting, camille, monkeypatch, django_capture_on_commit_callbacks
):
    from types import SimpleNamespace

    from config import broker

    dead_broker_app(_refusing_port())
    with django_capture_on_commit_callbacks(execute=True):
        services.issue(camille, setting.module_award)  # its publish fails: the broker rests
    queued = SimpleNamespace(app=SimpleNamespace(conf=SimpleNamespace(task_always_eager=False)))
    with pytest.raises(broker.BrokerResting):
        broker.publish(queued, lambda: "sent", ())
    later = time.monotonic() + broker.RESTING_SECONDS + 1
    monkeypatch.setattr(broker.time, "monotonic", lambda: later)
    assert broker.publish(queued, lambda: "sent", ()) == "sent"


def test_the_periodic_task_renders_certificates_left_pending_for_ten_minutes(setting, camille):
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    fresh, _ = services.issue(camille, setting.block_award, render=False)

    assert services.rerender_stale() == 0  # nothing is ten minutes old yet

    later = timezone.now() + datetime.timedelta(minutes=11)
    Certificate.objects.filter(pk=fresh.pk).update(render_enqueued_at=later)
    assert services.rerender_stale(now=later) == 1

    certificate.refresh_from_db()
    fresh.refresh_from_db()
    assert certificate.pdf and not fresh.pdf
