"""Celery tasks of learners: thin, take primary keys, safe to run twice."""

from smtplib import SMTPException

from celery import shared_task


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    # A mail server hiccup only: a template error would fail every retry.
    autoretry_for=(OSError, SMTPException),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def send_invitations(batch_pk: int) -> int:
    """Send a manager's batch of invitations; a redelivery sends no mail twice."""
    from learners import invitations

    return invitations.send_batch(batch_pk)
