"""Pages scheduled to go live, or to expire, change at their time.

The editor's « Publishing schedule » stores the dates; Wagtail leaves running its
`publish_scheduled` command to the site. The beat runs `publish_due` every five
minutes instead (courses/tasks.py), one page at a time: the command stops at the
first page whose checks refuse it, and leaves every later one waiting. A refused
revision stops waiting (it would be refused again every five minutes) and says
why in the page's history, where its authors and reviewers look.
"""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from wagtail.log_actions import log
from wagtail.models import Page, Revision

logger = logging.getLogger(__name__)

REFUSED_ACTION = "courses.publish.refused"


def publish_due(now=None) -> dict[str, int]:
    """Unpublish the pages past their expiry, publish the revisions due; returns counts."""
    now = now or timezone.now()
    counts = {"expired": 0, "published": 0, "refused": 0}
    for page in Page.objects.filter(live=True, expire_at__lt=now).specific():
        page.unpublish(set_expired=True, log_action="wagtail.unpublish.scheduled")
        counts["expired"] += 1
    due = (
        Revision.objects.page_revisions()
        .filter(approved_go_live_at__lt=now)
        .order_by("approved_go_live_at", "pk")
    )
    for revision in due:
        try:
            with transaction.atomic():
                revision.publish(log_action="wagtail.publish.scheduled")
        except ValidationError as error:
            _refuse(revision, error)
            counts["refused"] += 1
        else:
            counts["published"] += 1
    return counts


def _refuse(revision: Revision, error: ValidationError) -> None:
    page = revision.content_object
    reasons = " ".join(error.messages)
    Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
    log(instance=page, action=REFUSED_ACTION, revision=revision, data={"reasons": reasons})
    logger.warning("Scheduled publication of page %s refused: %s", page.pk, reasons)
