import smtplib
from dataclasses import dataclass

import pytest
from django.core.mail.backends.base import BaseEmailBackend

from courses.models import Framework, ModulePage, TrackPage
from tests.learners.factories import make_framework, make_module, make_track


@dataclass
class Journey:
    framework: Framework
    track: TrackPage
    basics: ModulePage  # two lessons, owned by Karim, targets B1.1 and B1.2
    advanced: ModulePage  # two lessons, needs `basics`, owned by Karim, targets B2.1
    closing: ModulePage  # one lesson, owned by Léa, targets B2.1
    other_track: TrackPage  # one module that needs `basics` from the first track
    outside: ModulePage


@pytest.fixture
def journey(db, karim, lea) -> Journey:
    framework = make_framework()
    track = make_track(framework, "Piloter un tiers-lieu (test)")
    basics = make_module(
        track, "Les bases", lessons=2, targets=[("B1.1", 2), ("B1.2", 2)], owner=karim
    )
    advanced = make_module(
        track, "Approfondir", lessons=2, targets=[("B2.1", 2)], prerequisites=[basics], owner=karim
    )
    closing = make_module(track, "Conclure", lessons=1, targets=[("B2.1", 3)], owner=lea)
    other_track = make_track(framework, "Aller plus loin (test)")
    outside = make_module(other_track, "Module externe", lessons=1, prerequisites=[basics])
    return Journey(framework, track, basics, advanced, closing, other_track, outside)


@pytest.fixture
def eager_tasks():
    """Run tasks in-process, as the embedded mode does, even when CI sets a broker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def submit(eager_tasks, django_capture_on_commit_callbacks):
    """Submit an attempt and run what follows its commit (evidence, completion)."""

    from learners.assessments import submit_attempt

    def submit_and_commit(attempt, answers, uploads=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return submit_attempt(attempt, answers, uploads, **kwargs)

    return submit_and_commit


class DisconnectedMailServer(BaseEmailBackend):
    """A mail server that hangs up on every message, and counts how often it was tried."""

    tries = 0

    def send_messages(self, email_messages):
        DisconnectedMailServer.tries += 1
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


@pytest.fixture
def mail_server_down(settings):
    DisconnectedMailServer.tries = 0
    settings.EMAIL_BACKEND = "tests.learners.conftest.DisconnectedMailServer"
    return DisconnectedMailServer


@pytest.fixture
def mails(eager_tasks, django_capture_on_commit_callbacks, mailoutbox):
    """Run the seat notices enqueued on commit, and return the outbox they fill."""

    class Mails:
        outbox = mailoutbox

        @staticmethod
        def after(operation, *args):
            with django_capture_on_commit_callbacks(execute=True):
                return operation(*args)

        @staticmethod
        def to(user):
            return [mail for mail in mailoutbox if mail.to == [user.email]]

    return Mails
