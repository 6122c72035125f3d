"""Background work of the catalogue."""

from celery import shared_task

from courses import scheduled_publishing


@shared_task(acks_late=True, reject_on_worker_lost=True)
def publish_scheduled_pages() -> dict[str, int]:
    """Every five minutes: pages due to go live or to expire (courses/scheduled_publishing.py)."""
    return scheduled_publishing.publish_due()
