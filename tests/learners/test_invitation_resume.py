"""Invitation batches whose sending task was lost are sent by the periodic pass, once."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from config.celery import app
from learners import invitations, tasks
from learners.models import Invitation, InvitationBatch

LATER = datetime.timedelta(minutes=11)


@pytest.fixture(autouse=True)
def eager(eager_tasks):
    """The periodic pass enqueues the sending task: run it in-process to read the outbox."""


def uploaded_while_the_broker_was_down(helene, *emails: str) -> InvitationBatch:
    # No commit in a test: the sending task is never enqueued, as with a dead broker.
    return invitations.invite(helene, invitations.rows_from_text("\n".join(emails)))


def test_a_batch_left_pending_is_sent_ten_minutes_later_and_only_once(helene):
    batch = uploaded_while_the_broker_was_down(helene, "anne@example.org", "bruno@example.org")

    assert invitations.resume_stale_batches() == 0  # its task may still be on its way
    assert mail.outbox == []

    later = timezone.now() + LATER
    assert invitations.resume_stale_batches(now=later) == 1
    batch.refresh_from_db()
    assert (batch.status, batch.sent) == (InvitationBatch.Status.DONE, 2)
    assert sorted(m.to[0] for m in mail.outbox) == ["anne@example.org", "bruno@example.org"]

    assert invitations.resume_stale_batches(now=later + LATER) == 0
    assert len(mail.outbox) == 2


def test_a_batch_whose_worker_died_mid_way_sends_only_the_rest(helene):
    batch = uploaded_while_the_broker_was_down(helene, "anne@example.org", "bruno@example.org")
    InvitationBatch.objects.filter(pk=batch.pk).update(status=InvitationBatch.Status.SENDING)
    Invitation.objects.filter(email="anne@example.org").update(sent_at=timezone.now())

    assert invitations.resume_stale_batches(now=timezone.now() + LATER) == 1
    assert [m.to[0] for m in mail.outbox] == ["bruno@example.org"]
    batch.refresh_from_db()
    assert (batch.status, batch.sent) == (InvitationBatch.Status.DONE, 2)


def test_a_batch_still_mailing_is_left_to_its_task(helene):
    batch = uploaded_while_the_broker_was_down(helene, "anne@example.org", "bruno@example.org")
    later = timezone.now() + LATER
    InvitationBatch.objects.filter(pk=batch.pk).update(status=InvitationBatch.Status.SENDING)
    Invitation.objects.filter(email="anne@example.org").update(sent_at=later)

    assert invitations.resume_stale_batches(now=later) == 0
    assert mail.outbox == []


def test_the_beat_task_resumes_a_batch_uploaded_more_than_ten_minutes_ago(helene):
    batch = uploaded_while_the_broker_was_down(helene, "anne@example.org")
    InvitationBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - LATER)

    assert tasks.resume_stale_invitations() == 1
    assert tasks.resume_stale_invitations() == 0
    assert [m.to[0] for m in mail.outbox] == ["anne@example.org"]


def test_the_periodic_pass_stops_at_the_first_refusal_of_a_dead_broker(helene, monkeypatch):
    for email in ("anne@example.org", "bruno@example.org"):
        uploaded_while_the_broker_was_down(helene, email)
    refused = []
    monkeypatch.setattr(invitations, "enqueue_sending", lambda pk: refused.append(pk) or False)

    assert invitations.resume_stale_batches(now=timezone.now() + LATER) == 0
    assert len(refused) == 1
    assert InvitationBatch.objects.filter(status=InvitationBatch.Status.PENDING).count() == 2


def test_the_periodic_pass_runs_on_the_beat_schedule(settings):
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "learners.tasks.resume_stale_invitations"
    ]
    assert len(entries) == 1 and entries[0]["schedule"] <= 900
    assert "learners.tasks.resume_stale_invitations" in app.tasks
