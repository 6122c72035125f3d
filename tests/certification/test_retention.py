"""Certificates of erased accounts stop naming anyone 3 years after issue."""

import datetime
import hashlib

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.cache import cache
from django.core.files.storage import FileSystemStorage, default_storage
from django.urls import reverse
from django.utils import timezone

from certification import retention, services
from certification.models import Certificate
from certification.tasks import remove_expired_holders
from learners.services import erase_account
from tests.certification.conftest import pdf_text

NOW = datetime.datetime(2030, 6, 1, 4, 10, tzinfo=datetime.UTC)
THREE_YEARS_BEFORE = datetime.datetime(2027, 6, 1, 4, 10, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def issued(learner, award, on: datetime.datetime) -> Certificate:
    certificate, _ = services.issue(learner, award)
    Certificate.objects.filter(pk=certificate.pk).update(issued_at=on)
    services.render(certificate.pk)  # as the worker does once the issue is committed
    certificate.refresh_from_db()
    assert certificate.is_rendered
    return certificate


def test_three_years_after_issue_an_erased_holder_is_no_longer_named(setting, camille):
    certificate = issued(camille, setting.module_award, THREE_YEARS_BEFORE - DAY)
    with certificate.pdf.open("rb") as stored:
        kept_copy = stored.read()
    assert "Camille Martin" in pdf_text(certificate)
    erase_account(camille)

    assert retention.remove_expired_holders(NOW) == 1

    certificate.refresh_from_db()
    assert certificate.holder_name == ""
    assert certificate.context["holder"] == {}
    assert certificate.holder_removed_at == NOW
    # The PDF printed the name: it is gone, from the row and from the storage.
    assert not certificate.pdf
    assert not default_storage.exists(certificate.storage_name)
    # What was issued, and its status, still answer the code.
    assert certificate.status == Certificate.Status.VALID
    assert certificate.context["award"]["title"] == "Attestation — Les bases"
    # The copy the holder kept still checks as the one issued.
    assert certificate.pdf_sha256 == hashlib.sha256(kept_copy).hexdigest()


def test_the_verification_page_and_its_json_say_the_name_was_removed(client, setting, camille):
    certificate = issued(camille, setting.module_award, NOW - datetime.timedelta(days=1200))
    url = reverse("certification:verify", kwargs={"code": certificate.code})
    assert "Camille Martin" in client.get(url).text  # kept in the cache meanwhile
    erase_account(camille)
    retention.remove_expired_holders(NOW)

    page = client.get(url).text
    assert "Camille Martin" not in page
    assert "Nom retiré le 1 juin 2030" in page
    assert "Attestation — Les bases" in page
    record = client.get(reverse("certification:verify_json", kwargs={"code": certificate.code}))
    assert record.json()["holder"] == ""
    assert record.json()["holder_removed_at"] == NOW.isoformat()
    assert record.json()["status"] == "valid"


def test_nothing_renders_the_pdf_of_a_certificate_that_names_nobody(setting, camille, settings):
    certificate = issued(camille, setting.module_award, NOW - datetime.timedelta(days=1200))
    erase_account(camille)
    retention.remove_expired_holders(NOW)

    assert services.render(certificate.pk) is services.RenderOutcome.HOLDER_REMOVED
    assert not Certificate.objects.stale_renders(timezone.now()).filter(pk=certificate.pk).exists()
    services.regenerate_pdf(certificate)
    certificate.refresh_from_db()
    assert not certificate.pdf
    assert certificate.pdf_sha256  # the published hash is not forgotten either


def test_staff_are_told_why_such_a_certificate_is_not_regenerated(client, staff, setting, camille):
    certificate = issued(camille, setting.module_award, NOW - datetime.timedelta(days=1200))
    erase_account(camille)
    retention.remove_expired_holders(NOW)
    client.force_login(staff)

    response = client.post(reverse("certification_regenerate", args=[certificate.pk]), follow=True)

    assert "ne nomme plus son ou sa titulaire" in response.text
    listing = client.get(reverse("certification_certificate:index")).text
    assert reverse("certification_regenerate", args=[certificate.pk]) not in listing


def test_within_three_years_or_with_an_account_the_name_stays(setting, camille, dominique):
    recent = issued(camille, setting.module_award, THREE_YEARS_BEFORE + DAY)
    erase_account(camille)
    kept_account = issued(dominique, setting.module_award, NOW - datetime.timedelta(days=2000))

    assert retention.remove_expired_holders(NOW) == 0

    for certificate in (recent, kept_account):
        certificate.refresh_from_db()
        assert certificate.holder_name
        assert certificate.is_rendered
        assert certificate.holder_removed_at is None


def test_a_second_run_changes_nothing(setting, camille):
    issued(camille, setting.module_award, NOW - datetime.timedelta(days=1200))
    erase_account(camille)

    assert retention.remove_expired_holders(NOW) == 1
    assert retention.remove_expired_holders(NOW + datetime.timedelta(days=1)) == 0


def test_a_pdf_that_cannot_be_deleted_leaves_its_certificate_for_the_next_run(
    setting, camille, dominique, monkeypatch, caplog
):
    first = issued(camille, setting.module_award, NOW - datetime.timedelta(days=1200))
    second = issued(dominique, setting.module_award, NOW - datetime.timedelta(days=1300))
    erase_account(camille)
    erase_account(dominique)
    stuck = first.pdf.name
    real_delete = FileSystemStorage.delete

    def delete(storage, name):
        if name == stuck:
            raise OSError("storage unreachable")
        real_delete(storage, name)

    monkeypatch.setattr(FileSystemStorage, "delete", delete)

    assert retention.remove_expired_holders(NOW) == 1

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.holder_name == "Camille Martin" and first.pdf.name == stuck
    assert first.holder_removed_at is None
    assert second.holder_removed_at == NOW
    assert f"Certificate {first.pk} past its retention still names its holder" in caplog.text

    monkeypatch.setattr(FileSystemStorage, "delete", real_delete)
    assert retention.remove_expired_holders(NOW) == 1
    assert not default_storage.exists(stuck)


def test_three_years_before_a_29_february_is_the_28th():
    leap = datetime.datetime(2032, 2, 29, 12, tzinfo=datetime.UTC)
    assert retention.years_before(leap, 3) == datetime.datetime(
        2029, 2, 28, 12, tzinfo=datetime.UTC
    )


def test_the_beat_removes_expired_holders_every_night(setting, camille):
    entry = settings.CELERY_BEAT_SCHEDULE["certification-remove-expired-holders"]
    assert entry["task"] == "certification.tasks.remove_expired_holders"
    assert entry["schedule"] == crontab(hour=4, minute=10)

    issued(camille, setting.module_award, timezone.now() - datetime.timedelta(days=1200))
    erase_account(camille)
    assert remove_expired_holders.delay().get() == 1


def test_a_copy_waiting_for_its_regeneration_goes_too_and_is_no_longer_offered(
    client, staff, setting, camille
):
    certificate = issued(camille, setting.module_award, THREE_YEARS_BEFORE - DAY)
    services.regenerate_pdf(certificate)  # its render is never run here
    certificate.refresh_from_db()
    assert certificate.is_rendered_again
    assert default_storage.exists(certificate.storage_name)
    erase_account(camille)

    retention.remove_expired_holders(NOW)

    certificate.refresh_from_db()
    assert not default_storage.exists(certificate.storage_name)
    assert not certificate.is_downloadable
    client.force_login(staff)
    assert client.get(certificate.get_pdf_url()).status_code == 404


def test_a_render_under_way_when_the_name_goes_deletes_its_file(setting, camille, monkeypatch):
    certificate, _ = services.issue(camille, setting.module_award)
    Certificate.objects.filter(pk=certificate.pk).update(issued_at=THREE_YEARS_BEFORE - DAY)
    erase_account(camille)
    real_render = services.rendering.render_pdf

    def render_while_the_name_goes(certificate):
        data = real_render(certificate)
        retention.remove_holder(certificate.pk, NOW)
        return data

    monkeypatch.setattr(services.rendering, "render_pdf", render_while_the_name_goes)

    assert services.render(certificate.pk) is services.RenderOutcome.HOLDER_REMOVED
    certificate.refresh_from_db()
    assert not certificate.pdf
    assert not default_storage.exists(certificate.storage_name)


def test_no_open_badge_is_signed_for_a_certificate_that_names_nobody(
    client, staff, setting, camille
):
    certificate = issued(camille, setting.module_award, THREE_YEARS_BEFORE - DAY)
    erase_account(camille)
    retention.remove_expired_holders(NOW)
    client.force_login(staff)

    response = client.get(reverse("certification:openbadges_credential", args=[certificate.pk]))

    assert response.status_code == 410
    assert 'data-testid="openbadge-holder-removed"' in response.text
