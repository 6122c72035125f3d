"""A broker that refuses connections leaves learners' work pending, never a 500."""

import socket

import pytest
from celery import Celery

from config.celery import app as campus_app
from learners import tasks


@pytest.fixture
def refusing_broker(monkeypatch):
    # Celery prefers this variable to any broker_url below: unset, or the task
    # would reach the suite's Redis and the test would pass nothing.
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: connections are refused
    app = Celery("campus-refused-broker", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(broker_url=f"redis://127.0.0.1:{port}/0", task_always_eager=False)
    app.set_current()
    yield
    campus_app.set_current()


def test_enqueueing_with_a_refused_broker_says_it_failed_instead_of_raising(refusing_broker, db):
    # kombu raises its own OperationalError here, which is not an OSError.
    assert tasks.enqueue(tasks.record_attempt_outcome, 1) is False


def test_an_invitation_batch_refused_by_the_broker_stays_pending_and_the_broker_rests(
    refusing_broker, caplog, db
):
    from config import broker
    from learners import invitations

    assert invitations.enqueue_sending(1) is False
    assert broker.resting()
    caplog.clear()

    # Within the rest, the next publish is not even tried.
    assert invitations.enqueue_sending(2) is False
    assert "BrokerResting" in caplog.text
