"""Revocation, re-issue after a name correction, expiry."""

import datetime as dt
from datetime import datetime

import pytest
from django.utils import timezone

from certification import eligibility, services
from certification.models import Certificate
from learners.dates import add_months
from tests.certification.conftest import reach


@pytest.fixture
def certificate(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.certification_award, render=False)
    return certificate


def test_revoking_needs_a_reason(certificate, staff):
    with pytest.raises(ValueError):
        services.revoke(certificate, "  ", by=staff)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_a_revoked_certificate_says_why_and_by_whom(certificate, staff):
    assert services.revoke(certificate, "Fraude à l'évaluation", by=staff)
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.public_status == "revoked"
    assert certificate.revocation_reason == "Fraude à l'évaluation"
    assert certificate.revoked_by == staff and certificate.revoked_at is not None
    # A second revocation changes nothing.
    assert not services.revoke(certificate, "Autre raison", by=staff)
    certificate.refresh_from_db()
    assert certificate.revocation_reason == "Fraude à l'évaluation"


def test_after_a_revocation_only_a_deliberate_issue_gives_the_award_again(
    certificate, camille, setting, staff
):
    services.revoke(certificate, "Erreur d'attribution", by=staff)
    assert services.issue(camille, setting.certification_award, render=False) == (
        certificate,
        False,
    )
    again, created = services.issue(
        camille, setting.certification_award, render=False, by=staff, despite_revocation=True
    )
    assert created and again.pk != certificate.pk


def test_reissuing_after_a_name_correction_supersedes_the_old_certificate(
    certificate, camille, staff, django_capture_on_commit_callbacks
):
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.reissue(certificate, by=staff)

    certificate.refresh_from_db()
    new.refresh_from_db()
    assert certificate.status == Certificate.Status.SUPERSEDED
    assert certificate.superseded_by == new
    assert certificate.holder_name == "Camille Martin"  # history kept as it was
    assert new.holder_name == "Camille Martin-Durand"
    assert new.status == Certificate.Status.VALID and new.issued_by == staff
    assert new.code != certificate.code
    assert new.expires_at == certificate.expires_at  # a correction is not a renewal
    assert new.pdf  # rendered after commit
    assert Certificate.objects.valid().filter(learner=camille).count() == 1


def test_a_name_correction_changes_the_name_and_nothing_the_certificate_attested(
    setting, camille, staff
):
    reach(camille, setting.framework, "B1.1", 2)
    reach(camille, setting.framework, "B1.2", 2)
    old, _ = services.issue(camille, setting.block_award, render=False)
    reach(camille, setting.framework, "B1.2", 3)  # a level raised since
    setting.block_award.criteria = "Des critères réécrits depuis."
    setting.block_award.save()
    camille.full_name = "Camille Martin-Durand"
    camille.save()

    new = services.reissue(old, by=staff)

    assert new.context["holder"]["name"] == "Camille Martin-Durand"
    assert {**new.context["holder"], "name": None} == {**old.context["holder"], "name": None}
    assert new.context["competences"] == old.context["competences"]
    assert new.context["award"] == old.context["award"]
    assert new.context["issued_on"] == eligibility.iso_date(new.issued_at)


def test_a_certificate_already_naming_its_holder_as_the_profile_does_is_not_reissued(
    client, certificate, staff
):
    with pytest.raises(services.ReissueRefused, match="corrigez d'abord le nom"):
        services.reissue(certificate, by=staff)
    assert Certificate.objects.get(pk=certificate.pk).status == Certificate.Status.VALID
    assert Certificate.objects.filter(learner=certificate.learner).count() == 1

    client.force_login(staff)
    page = client.get(f"/cms-admin/certificates/{certificate.pk}/reissue/").text
    assert 'data-testid="confirm-blocked"' in page
    assert "« Camille Martin »" in page
    assert 'type="submit"' not in page.split('data-testid="confirm-blocked"')[1]


def test_a_copy_reissued_for_a_name_says_when_the_award_was_earned(
    client, certificate, camille, staff
):
    from django.urls import reverse

    a_year_ago = timezone.now() - dt.timedelta(days=365)
    Certificate.objects.filter(pk=certificate.pk).update(issued_at=a_year_ago, awarded_at=None)
    certificate.refresh_from_db()
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    new = services.reissue(certificate, by=staff)

    response = client.get(reverse("certification:verify", kwargs={"code": new.code}))

    earned = timezone.localdate(a_year_ago)
    assert response.context["dates"]["awarded_at"].date() == earned
    assert "Obtenu le" in response.text
    assert (
        client.get(reverse("certification:verify_json", kwargs={"code": new.code}))
        .json()["awarded_at"]
        .startswith(earned.isoformat()[:7])
    )


def test_an_expired_certificate_is_not_reissued_already_expired(
    client, certificate, camille, staff
):
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=3)
    )
    certificate.refresh_from_db()
    camille.full_name = "Camille Martin-Durand"
    camille.save()

    with pytest.raises(services.ReissueRefused, match="ne le renouvelle pas"):
        services.reissue(certificate, by=staff)
    assert Certificate.objects.filter(learner=camille).count() == 1

    client.force_login(staff)
    page = client.get(f"/cms-admin/certificates/{certificate.pk}/reissue/").text
    assert 'data-testid="confirm-blocked"' in page and "a expiré le" in page


def test_only_a_valid_certificate_can_be_reissued(certificate, staff):
    services.revoke(certificate, "Erreur", by=staff)
    with pytest.raises(services.ReissueRefused):
        services.reissue(certificate, by=staff)


def test_expiry_adds_calendar_months_and_clamps_to_the_months_end():
    tz = timezone.get_current_timezone()
    assert add_months(datetime(2025, 1, 31, 10, tzinfo=tz), 1) == datetime(
        2025, 2, 28, 10, tzinfo=tz
    )
    assert add_months(datetime(2024, 2, 29, tzinfo=tz), 12) == datetime(2025, 2, 28, tzinfo=tz)
    assert add_months(datetime(2025, 11, 15, tzinfo=tz), 14) == datetime(2027, 1, 15, tzinfo=tz)


@pytest.mark.parametrize(
    ("issued_utc", "months", "expires_in_paris"),
    [
        # 00:30 on 1 March in Paris is 23:30 on 28 February in UTC. Valid through the
        # whole of the last day, as « valable jusqu'au 1 avril » reads.
        (datetime(2025, 2, 28, 23, 30, tzinfo=dt.UTC), 1, datetime(2025, 4, 1, 23, 59, 59)),
        (datetime(2025, 3, 30, 22, 30, tzinfo=dt.UTC), 1, datetime(2025, 4, 30, 23, 59, 59)),
        # Summer time: 01:00 on 1 May in Paris is 23:00 on 30 April in UTC.
        (datetime(2025, 4, 30, 23, 0, tzinfo=dt.UTC), 1, datetime(2025, 6, 1, 23, 59, 59)),
        # Issued in the afternoon: still valid that evening a year later.
        (datetime(2025, 3, 1, 14, 0, tzinfo=dt.UTC), 12, datetime(2026, 3, 1, 23, 59, 59)),
    ],
)
def test_validity_counts_the_holders_calendar_months_not_utcs(
    setting, issued_utc, months, expires_in_paris
):
    setting.certification_award.validity_months = months

    expires = eligibility.expiry_for(setting.certification_award, issued_utc)

    assert timezone.localtime(expires).replace(tzinfo=None) == expires_in_paris


def test_a_certificate_past_its_expiry_is_reported_expired(certificate):
    assert certificate.expires_at is not None and not certificate.is_expired
    Certificate.objects.filter(pk=certificate.pk).update(
        expires_at=timezone.now() - dt.timedelta(days=1)
    )
    certificate.refresh_from_db()
    assert certificate.is_expired and certificate.public_status == "expired"


def test_an_award_without_validity_never_expires(setting, camille):
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    assert certificate.expires_at is None and certificate.context["expires_on"] is None


def test_a_name_correction_keeps_the_employer_the_certificat_de_realisation_named(
    setting, sophie, staff, other_organisation
):
    old, _ = services.issue(sophie, setting.completion_award, render=False)
    assert old.context["holder"]["organisation"] == sophie.organisation.name
    sophie.full_name, sophie.organisation = "Sophie Lefèvre-Martin", other_organisation
    sophie.save()

    new = services.reissue(old, by=staff)

    assert new.context["holder"] == {
        "name": "Sophie Lefèvre-Martin",
        "organisation": old.context["holder"]["organisation"],
    }
