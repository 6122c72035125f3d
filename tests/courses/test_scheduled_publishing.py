"""Pages scheduled to go live or to expire change at their time, one page at a time."""

import datetime

import pytest
from django.conf import settings
from django.utils import timezone
from wagtail.models import PageLogEntry, Revision

from courses import scheduled_publishing
from courses.models import ModulePage
from courses.tasks import publish_scheduled_pages
from tests.courses.factories import make_catalogue_page, make_framework, make_module, make_track

MINUTE = datetime.timedelta(minutes=1)


@pytest.fixture
def track(db):
    return make_track(make_catalogue_page(), make_framework())


def scheduled(module: ModulePage, at: datetime.datetime, **changes):
    """A revision of `module` approved to go live at `at`, as the review leaves it."""
    for name, value in changes.items():
        setattr(module, name, value)
    # Unchecked: the checks run when it goes live, as Wagtail's scheduled publishing does.
    revision = module.save_revision(clean=False)
    revision.approved_go_live_at = at
    revision.save(update_fields=["approved_go_live_at"])
    return revision


def test_a_revision_due_goes_live_and_one_not_due_waits(track):
    due = make_module(track, "Accueillir")
    due.unpublish()
    later = make_module(track, "Animer")
    later.unpublish()
    scheduled(due, timezone.now() - MINUTE, summary="Publié à l'heure.")
    scheduled(later, timezone.now() + datetime.timedelta(hours=1))

    counts = scheduled_publishing.publish_due()

    assert counts == {"expired": 0, "published": 1, "refused": 0, "failed": 0}
    assert ModulePage.objects.get(pk=due.pk).live
    assert ModulePage.objects.get(pk=due.pk).summary == "Publié à l'heure."
    assert not ModulePage.objects.get(pk=later.pk).live


def test_a_revision_its_checks_refuse_says_why_and_the_next_ones_still_go_live(track):
    refused = make_module(track, "Accueillir")
    after = make_module(track, "Animer")
    after.unpublish()
    scheduled(refused, timezone.now() - 2 * MINUTE, quiz_max_attempts=0)
    scheduled(after, timezone.now() - MINUTE)

    counts = scheduled_publishing.publish_due()

    assert counts == {"expired": 0, "published": 1, "refused": 1, "failed": 0}
    assert ModulePage.objects.get(pk=after.pk).live
    assert ModulePage.objects.get(pk=refused.pk).quiz_max_attempts != 0
    # It waits no more, and its history says why.
    assert not refused.revisions.filter(approved_go_live_at__isnull=False).exists()
    entry = PageLogEntry.objects.get(page=refused, action=scheduled_publishing.REFUSED_ACTION)
    assert "Au moins 1" in entry.data["reasons"]
    assert "Publication programmée refusée" in str(entry.message)
    assert scheduled_publishing.publish_due() == {
        "expired": 0,
        "published": 0,
        "refused": 0,
        "failed": 0,
    }
    assert PageLogEntry.objects.filter(action=scheduled_publishing.REFUSED_ACTION).count() == 1


def test_a_page_past_its_expiry_is_unpublished(track):
    module = make_module(track, "Accueillir")
    ModulePage.objects.filter(pk=module.pk).update(expire_at=timezone.now() - MINUTE)

    assert scheduled_publishing.publish_due()["expired"] == 1

    module.refresh_from_db()
    assert not module.live
    assert module.expired


def test_the_beat_publishes_due_pages_every_five_minutes(track):
    entry = settings.CELERY_BEAT_SCHEDULE["courses-publish-scheduled-pages"]
    assert entry == {"task": "courses.tasks.publish_scheduled_pages", "schedule": 300.0}
    module = make_module(track, "Accueillir")
    module.unpublish()
    scheduled(module, timezone.now() - MINUTE)

    assert publish_scheduled_pages.apply().get()["published"] == 1
    assert ModulePage.objects.get(pk=module.pk).live


def test_a_revision_whose_expiry_passed_before_it_went_live_is_refused(track):
    module = make_module(track, "Accueillir")
    module.unpublish()
    scheduled(module, timezone.now() - MINUTE, expire_at=timezone.now() - 2 * MINUTE)

    assert scheduled_publishing.publish_due()["refused"] == 1

    assert not ModulePage.objects.get(pk=module.pk).live
    entry = PageLogEntry.objects.get(page=module, action=scheduled_publishing.REFUSED_ACTION)
    assert "date d'expiration" in entry.data["reasons"]


def test_a_page_that_fails_otherwise_waits_for_the_next_pass_and_the_others_go_live(
    track, monkeypatch, caplog
):
    broken = make_module(track, "Accueillir")
    broken.unpublish()
    after = make_module(track, "Animer")
    after.unpublish()
    stuck = scheduled(broken, timezone.now() - 2 * MINUTE)
    scheduled(after, timezone.now() - MINUTE)
    real_publish = Revision.publish

    def publish(revision, **kwargs):
        if revision.pk == stuck.pk:
            raise OSError("search index unreachable")
        return real_publish(revision, **kwargs)

    monkeypatch.setattr(Revision, "publish", publish)

    counts = scheduled_publishing.publish_due()

    assert (counts["failed"], counts["published"]) == (1, 1)
    assert ModulePage.objects.get(pk=after.pk).live
    stuck.refresh_from_db()
    assert stuck.approved_go_live_at is not None  # tried again at the next pass
    assert f"Scheduled revision {stuck.pk} could not be published" in caplog.text
