"""Celery tasks: thin, take primary keys, safe to run twice.

Every task re-fetches what it needs and calls a service; the services' claims
and constraints make a redelivered task (acks_late, worker lost) a no-op.
"""

import logging

from celery import shared_task
from celery.exceptions import Retry
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import RedisError

from certification import retention, services
from config import broker

logger = logging.getLogger(__name__)

# What a publish raises when the broker is down or unreachable.
ENQUEUE_ERRORS = (BrokerError, RedisError, ConnectionError, OSError, TimeoutError)

RETRYING = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    # Storage and network hiccups only: a template error would fail every retry.
    "autoretry_for": (OSError,),
    "retry_backoff": True,
    "retry_backoff_max": 300,
    "max_retries": 5,
}


def enqueue(task, *args, countdown: int | None = None) -> bool:
    """Publish `task`, or log and return False when the broker cannot be reached.

    Callers leave their rows pending; the periodic tasks enqueue them again.
    Settings keep the broker's connect and publish timeouts short, so a dead
    Redis costs a request about a second, never more than two: after a failure
    the process leaves the broker alone a few seconds (config/broker.py).
    """
    try:
        broker.publish(
            task, lambda: task.apply_async(args=args, countdown=countdown), ENQUEUE_ERRORS
        )
    except Retry:
        raise
    except ENQUEUE_ERRORS:
        logger.exception("Could not enqueue %s%r: left pending", task.name, args)
        return False
    return True


@shared_task(bind=True, **RETRYING)
def render_certificate(self, certificate_pk: int) -> str:
    outcome = services.render(certificate_pk)
    if outcome is services.RenderOutcome.BUSY and not self.request.is_eager:
        # Another worker holds a fresh claim: look again once it has had time to finish.
        raise self.retry(countdown=services.render_lease().total_seconds() + 1)
    return outcome.value


@shared_task(acks_late=True, reject_on_worker_lost=True)
def remove_expired_holders() -> int:
    """Daily: certificates of erased accounts stop naming them once kept 3 years."""
    return retention.remove_expired_holders()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def issue_after_attendance_closes() -> int:
    """Daily: the documents of the sessions whose attendance closed (services say why)."""
    from certification import services

    return services.issue_after_attendance_closes()


@shared_task(**RETRYING)
def rerender_stale() -> int:
    return services.rerender_stale() + services.resume_stale_bulk()


@shared_task(**RETRYING)
def dispatch_bulk_issue(job_pk: int) -> int:
    return services.dispatch_bulk(job_pk)


@shared_task(**RETRYING)
def process_bulk_chunk(chunk_pk: int) -> bool:
    return services.process_bulk_chunk(chunk_pk)


# Each retry builds the whole ZIP again (in the request, when embedded): fewer of them.
@shared_task(**{**RETRYING, "max_retries": 3})
def build_evidence_pack(pack_pk: int) -> str:
    from certification import evidence  # evidence enqueues through this module

    return evidence.build_pack(pack_pk).value


@shared_task(**RETRYING)
def resume_evidence_packs() -> int:
    from certification import evidence

    return evidence.resume_stale()
