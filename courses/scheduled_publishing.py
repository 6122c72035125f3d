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
from django.utils import dateparse, timezone
from django.utils.translation import gettext as _
from wagtail.log_actions import log
from wagtail.models import Page, Revision

logger = logging.getLogger(__name__)

REFUSED_ACTION = "courses.publish.refused"


def publish_due(now=None) -> dict[str, int]:
    """Unpublish the pages past their expiry, publish the revisions due; returns counts.

    Each page in its own transaction: one that fails is logged and tried again at the
    next pass, and the others go ahead.
    """
    now = now or timezone.now()
    counts = {"expired": 0, "published": 0, "refused": 0, "failed": 0}
    for page in Page.objects.filter(live=True, expire_at__lt=now).specific():
        try:
            with transaction.atomic():
                page.unpublish(set_expired=True, log_action="wagtail.unpublish.scheduled")
        except Exception:
            logger.exception("Page %s past its expiry could not be unpublished", page.pk)
            counts["failed"] += 1
        else:
            counts["expired"] += 1
    due = Revision.objects.page_revisions().filter(approved_go_live_at__lt=now)
    for pk in list(due.order_by("approved_go_live_at", "pk").values_list("pk", flat=True)):
        try:
            outcome = _publish(pk, now)
        except Exception:
            logger.exception("Scheduled revision %s could not be published", pk)
            counts["failed"] += 1
        else:
            if outcome:
                counts[outcome] += 1
    return counts


def _publish(revision_pk: int, now) -> str | None:
    with transaction.atomic():
        # Read again under its lock: a pass running alongside (a redelivered task)
        # or an editor publishing by hand meanwhile leaves nothing to do.
        revision = (
            Revision.objects.select_for_update()
            .filter(pk=revision_pk, approved_go_live_at__lt=now)
            .first()
        )
        if revision is None:
            return None
        expire_at = revision.content.get("expire_at")
        if expire_at and dateparse.parse_datetime(expire_at) < now:
            # Published, it would stay live until the next pass unpublished it.
            _refuse(revision, ValidationError(_("Its expiry date passed before it went live.")))
            return "refused"
        try:
            with transaction.atomic():
                revision.publish(log_action="wagtail.publish.scheduled")
        except ValidationError as error:
            _refuse(revision, error)
            return "refused"
    return "published"


def _refuse(revision: Revision, error: ValidationError) -> None:
    page = revision.content_object
    reasons = " ".join(error.messages)
    Revision.objects.filter(pk=revision.pk).update(approved_go_live_at=None)
    log(instance=page, action=REFUSED_ACTION, revision=revision, data={"reasons": reasons})
    logger.warning("Scheduled publication of page %s refused: %s", page.pk, reasons)
