"""Staff manage awards and certificates in the Wagtail admin; trainers do not."""

from datetime import UTC, datetime, timedelta

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse
from django.utils import timezone

from certification import services
from certification.eligibility import iso_date
from certification.models import Award, BulkIssue, Certificate
from learners import services as learners
from tests.certification.conftest import reach


@pytest.fixture
def certificate(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    return certificate


def test_staff_list_awards_and_certificates(client, staff, certificate):
    client.force_login(staff)
    awards = client.get(reverse("certification_award:index"))
    assert awards.status_code == 200
    assert "Bloc B1 validé" in awards.content.decode()
    listing = client.get(reverse("certification_certificate:index"))
    assert listing.status_code == 200
    assert certificate.code in listing.content.decode()
    # Column headings in French, as the rest of the admin.
    headings = [
        th.get_text(" ", strip=True)
        for page in (awards, listing)
        for th in BeautifulSoup(page.content, "html.parser").select("thead th")
    ]
    assert "Délivrée pour" in headings and "Titulaire" in headings
    assert not {"Target", "Holder name"} & set(headings)


@pytest.mark.parametrize("query", ["Camille", "camille@example", "{code}"])
def test_staff_find_a_certificate_by_holder_or_code(
    client, staff, certificate, dominique, setting, query
):
    other, _ = services.issue(dominique, setting.module_award, render=False)
    client.force_login(staff)
    html = client.get(
        reverse("certification_certificate:index"), {"q": query.format(code=certificate.code[:9])}
    )
    content = html.content.decode()
    assert certificate.code in content and other.code not in content


def test_staff_filter_certificates_by_status_and_award(
    client, staff, certificate, setting, dominique
):
    other, _ = services.issue(dominique, setting.block_award, render=False)
    services.revoke(other, "Erreur", by=staff)
    client.force_login(staff)
    content = client.get(
        reverse("certification_certificate:index"), {"status": "revoked"}
    ).content.decode()
    assert other.code in content and certificate.code not in content
    content = client.get(
        reverse("certification_certificate:index"), {"award": setting.module_award.pk}
    ).content.decode()
    assert certificate.code in content and other.code not in content


def test_an_expired_certificate_is_filtered_and_inspected_as_expired_not_valid(
    client, staff, certificate, setting, dominique
):
    from datetime import timedelta

    from django.utils import timezone

    ended, _ = services.issue(dominique, setting.block_award, render=False)
    Certificate.objects.filter(pk=ended.pk).update(expires_at=timezone.now() - timedelta(days=1))
    client.force_login(staff)
    index = reverse("certification_certificate:index")

    valid = client.get(index, {"status": "valid"}).content.decode()
    expired = client.get(index, {"status": "expired"}).content.decode()
    inspected = client.get(reverse("certification_certificate:inspect", args=[ended.pk]))

    assert certificate.code in valid and ended.code not in valid
    assert ended.code in expired and certificate.code not in expired
    fields = BeautifulSoup(inspected.content, "html.parser").get_text(" ", strip=True)
    assert "Expiré" in fields and "Valide" not in fields


def test_staff_find_the_certificates_issued_before_evidence_of_their_holder_was_withdrawn(
    client, staff, karim, certificate, setting, dominique
):
    entry = reach(camille := certificate.learner, setting.framework, "B1.1", 2)
    untouched, _ = services.issue(dominique, setting.block_award, render=False)
    reach(dominique, setting.framework, "B1.1", 2)
    assert not Certificate.objects.evidence_withdrawn_since_issued().exists()

    learners.retract_evidence(entry, karim, "Notation corrigée.")

    assert list(Certificate.objects.evidence_withdrawn_since_issued()) == [certificate]
    later, _ = services.issue(camille, setting.awareness_award, render=False)
    assert list(Certificate.objects.evidence_withdrawn_since_issued()) == [certificate]
    client.force_login(staff)
    index = reverse("certification_certificate:index")
    content = client.get(index, {"evidence_withdrawn": "true"}).content.decode()
    assert certificate.code in content
    assert untouched.code not in content and later.code not in content
    content = client.get(index, {"evidence_withdrawn": "false"}).content.decode()
    assert certificate.code not in content and untouched.code in content


def test_a_certificate_re_issued_after_a_withdrawal_is_still_found_with_what_it_froze(
    karim, certificate, setting
):
    camille = certificate.learner
    entry = reach(camille, setting.framework, "B1.1", 2)
    learners.retract_evidence(entry, karim, "Notation corrigée.")
    camille.full_name = "Camille Martin-Durand"
    camille.save()

    # The copy states the levels frozen at the first issue, before the withdrawal.
    copy = services.reissue(certificate, by=None)

    assert copy.issued_at > entry.recorded_at and copy.awarded_at == certificate.issued_at
    assert list(Certificate.objects.evidence_withdrawn_since_issued()) == [copy]


def test_the_list_says_expired_as_the_verification_page_does_and_offers_only_what_applies(
    client, staff, certificate, setting, dominique
):
    from django.utils import timezone

    Certificate.objects.filter(pk=certificate.pk).update(expires_at=timezone.now())
    revoked, _ = services.issue(dominique, setting.block_award, render=False)
    services.revoke(revoked, "Erreur", by=staff)
    client.force_login(staff)
    page = client.get(reverse("certification_certificate:index")).text
    row = page[page.index(certificate.code) :].split("</tr>")[0]
    assert "Expiré" in row and "Valide" not in row
    revoked_row = page[page.index(revoked.code) :].split("</tr>")[0]
    assert f"/certificates/{revoked.pk}/regenerate/" not in revoked_row
    assert f"/certificates/{revoked.pk}/reissue/" not in revoked_row


def test_a_trainer_with_admin_access_sees_neither_awards_nor_certificates(
    client, karim, certificate
):
    from django.contrib.auth.models import Permission

    karim.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client.force_login(karim)
    assert client.get("/cms-admin/").status_code == 200
    for url in (
        reverse("certification_award:index"),
        reverse("certification_certificate:index"),
        f"/cms-admin/certificates/{certificate.pk}/revoke/",
        f"/cms-admin/awards/{certificate.award_id}/bulk/issue/",
    ):
        assert client.get(url).status_code in (302, 403), url
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_an_award_whose_target_does_not_match_its_kind_is_refused_with_a_message(
    client, staff, setting
):
    client.force_login(staff)
    response = client.post(
        reverse("certification_award:add"),
        {
            "kind": "block",
            "title": "Incohérente",
            "criteria": "—",
            "track": setting.track.pk,
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # the form again, with errors
    assert not Award.objects.filter(title="Incohérente").exists()


def test_staff_create_an_award_with_a_validity_period(client, staff, setting):
    client.force_login(staff)
    response = client.post(
        reverse("certification_award:add"),
        {
            "kind": "module",
            "title": "Attestation — Approfondir",
            "criteria": "Toutes les leçons achevées.",
            "module": setting.advanced.pk,
            "validity_months": "24",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    assert Award.objects.get(title="Attestation — Approfondir").validity_months == 24


def test_a_validity_of_zero_months_is_refused_rather_than_read_as_no_limit(client, staff, setting):
    client.force_login(staff)
    response = client.post(
        reverse("certification_award:add"),
        {
            "kind": "module",
            "title": "Zéro mois",
            "criteria": "—",
            "module": setting.advanced.pk,
            "validity_months": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "supérieure ou égale à 1" in response.text
    assert not Award.objects.filter(title="Zéro mois").exists()


def test_an_unknown_bulk_mode_is_no_page(client, staff, setting):
    client.force_login(staff)
    url = reverse("certification_award_bulk", args=[setting.module_award.pk, "nimporte"])
    assert client.get(url).status_code == 404


def test_staff_cannot_add_or_delete_certificates_by_hand(client, staff, certificate):
    client.force_login(staff)
    assert client.get(reverse("certification_certificate:add")).status_code in (302, 403)
    assert client.post(
        reverse("certification_certificate:delete", args=[certificate.pk])
    ).status_code in (
        302,
        403,
        404,
    )
    assert Certificate.objects.filter(pk=certificate.pk).exists()


def test_staff_revoke_from_the_admin_and_must_give_a_reason(client, staff, certificate):
    client.force_login(staff)
    url = f"/cms-admin/certificates/{certificate.pk}/revoke/"
    assert client.post(url, {"reason": ""}).status_code == 200
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID

    assert client.post(url, {"reason": "Doublon"}).status_code == 302
    certificate.refresh_from_db()
    assert (certificate.status, certificate.revocation_reason) == ("revoked", "Doublon")


def test_staff_reissue_after_a_name_correction_from_the_admin(
    client, staff, camille, certificate, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = f"/cms-admin/certificates/{certificate.pk}/reissue/"
    listing = reverse("certification_certificate:index")
    assert url not in client.get(listing).text  # the printed name is the profile's
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    assert url in client.get(listing).text
    assert "Camille Martin-Durand" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "superseded"
    assert certificate.superseded_by.holder_name == "Camille Martin-Durand"
    assert certificate.superseded_by.pdf


def test_a_revocation_that_lost_a_race_with_a_reissue_says_so(client, staff, certificate):
    client.force_login(staff)
    page = client.get(f"/cms-admin/certificates/{certificate.pk}/revoke/")  # opened first
    assert page.status_code == 200
    certificate.learner.full_name = "Camille Martin-Durand"
    certificate.learner.save()
    services.reissue(certificate, by=staff)  # by a colleague, meanwhile

    response = client.post(
        f"/cms-admin/certificates/{certificate.pk}/revoke/", {"reason": "Doublon"}, follow=True
    )

    assert response.status_code == 200
    said = " ".join(str(m) for m in response.context["messages"])
    assert "n'a pas été révoqué" in said.replace("&#x27;", "'") and "Remplacé" in said
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.SUPERSEDED
    assert not certificate.revocation_reason


@pytest.mark.parametrize("action", ["reissue", "regenerate"])
def test_a_reissue_or_regeneration_sent_after_a_revocation_says_so_and_changes_nothing(
    client, staff, certificate, action
):
    client.force_login(staff)
    services.revoke(certificate, "Erreur", by=staff)  # by a colleague, meanwhile
    kept = certificate.pdf_sha256

    response = client.post(f"/cms-admin/certificates/{certificate.pk}/{action}/", follow=True)

    assert response.status_code == 200
    said = " ".join(str(m) for m in response.context["messages"])
    assert "plus valide" in said
    certificate.refresh_from_db()
    assert (certificate.status, certificate.pdf_sha256) == ("revoked", kept)
    assert certificate.superseded_by is None
    assert client.get(f"/cms-admin/certificates/{certificate.pk}/{action}/").status_code == 404


def test_revoking_what_was_revoked_meanwhile_is_reported_not_claimed(
    client, staff, certificate, monkeypatch
):
    # The row changed between the page's read and the update (the compare-and-swap lost).
    monkeypatch.setattr(services, "revoke", lambda *args, **kwargs: False)
    client.force_login(staff)
    response = client.post(
        f"/cms-admin/certificates/{certificate.pk}/revoke/", {"reason": "Doublon"}, follow=True
    )
    assert "pas été révoqué" in response.text
    assert f"Certificat {certificate.code} révoqué." not in response.text


def test_reissuing_for_an_erased_account_is_refused_with_a_message_not_an_error(
    client, staff, camille, certificate
):
    from learners.services import erase_account

    erase_account(camille)
    client.force_login(staff)
    response = client.post(f"/cms-admin/certificates/{certificate.pk}/reissue/", follow=True)
    assert response.status_code == 200
    assert "ne peut pas être délivré à nouveau" in response.text
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID


def test_a_revoked_certificate_keeps_the_pdf_its_hash_was_published_for(client, staff, certificate):
    services.render(certificate.pk)
    services.revoke(certificate, "Erreur", by=staff)
    certificate.refresh_from_db()
    published = certificate.pdf_sha256
    client.force_login(staff)
    assert client.post(f"/cms-admin/certificates/{certificate.pk}/regenerate/").status_code == 302
    certificate.refresh_from_db()
    assert certificate.pdf_sha256 == published


def test_staff_regenerate_a_pdf_from_the_admin(
    client, staff, certificate, django_capture_on_commit_callbacks
):
    services.render(certificate.pk)
    client.force_login(staff)
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            client.post(f"/cms-admin/certificates/{certificate.pk}/regenerate/").status_code == 302
        )
    certificate.refresh_from_db()
    assert certificate.pdf and certificate.rendered_at is not None


def test_staff_start_a_bulk_issue_from_the_award_and_land_on_its_progress(
    client, staff, setting, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    url = f"/cms-admin/awards/{setting.module_award.pk}/bulk/issue/"
    assert client.get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    job = BulkIssue.objects.get()
    assert response.status_code == 302
    assert response.url == f"/certificats/lots/{job.pk}/"
    assert job.requested_by == staff


def test_staff_give_back_an_award_revoked_in_error_from_the_admin(client, staff, setting, camille):
    from learners.models import ModuleCompletion

    ModuleCompletion.objects.create(learner=camille, module=setting.basics)
    revoked, _ = services.issue(camille, setting.module_award, render=False)
    services.revoke(revoked, "Erreur de manipulation", by=staff)
    client.force_login(staff)
    listing = client.get(reverse("certification_certificate:index")).text
    assert f"/certificates/{revoked.pk}/restore/" in listing

    response = client.post(f"/cms-admin/certificates/{revoked.pk}/restore/", follow=True)

    assert response.status_code == 200
    new = Certificate.objects.valid().get(learner=camille, award=setting.module_award)
    assert new.pk != revoked.pk and new.issued_by == staff
    revoked.refresh_from_db()
    assert revoked.status == Certificate.Status.REVOKED


def test_a_revocation_withdrawn_leads_the_revoked_copy_to_the_new_certificate(
    client, staff, setting, camille
):
    from learners.models import ModuleCompletion

    ModuleCompletion.objects.create(learner=camille, module=setting.basics)
    revoked, _ = services.issue(camille, setting.module_award, render=False)
    services.render(revoked.pk)  # a PDF the holder downloaded before
    services.revoke(revoked, "Erreur de manipulation", by=staff)

    new = services.restore(revoked, by=staff)

    revoked.refresh_from_db()
    assert revoked.status == Certificate.Status.REVOKED  # its reason was true when given
    assert revoked.superseded_by == new and revoked.current_successor() == new
    page = client.get(reverse("certification:verify", kwargs={"code": revoked.code})).text
    assert "Cette révocation a été levée" in page
    assert reverse("certification:verify", kwargs={"code": new.code}) in page
    # The holder following an old link to the revoked PDF or badge is led to the new one.
    client.force_login(camille)
    gone = client.get(reverse("certification:certificate_pdf", args=[revoked.pk]))
    assert gone.status_code == 410 and 'data-testid="pdf-restored"' in gone.text
    badge = client.get(reverse("certification:openbadges_credential", args=[revoked.pk]))
    assert reverse("certification:openbadges_credential", args=[new.pk]) in badge.text


def test_an_award_given_back_ends_when_the_revoked_certificate_would_have(
    client, staff, setting, camille
):
    from learners.models import ModuleCompletion

    ModuleCompletion.objects.create(learner=camille, module=setting.basics)
    setting.module_award.validity_months = 24
    setting.module_award.save()
    revoked, _ = services.issue(camille, setting.module_award, render=False)
    # Issued a year ago, revoked in error, given back today: a correction, not a renewal.
    a_year_ago = timezone.now() - timedelta(days=365)
    Certificate.objects.filter(pk=revoked.pk).update(
        issued_at=a_year_ago, expires_at=a_year_ago + timedelta(days=730)
    )
    services.revoke(revoked, "Erreur de manipulation", by=staff)
    new = services.restore(revoked, by=staff)
    assert new.expires_at == revoked.expires_at
    assert new.context["expires_on"] == iso_date(revoked.expires_at)
    assert not new.is_expired

    # Its end has passed by the time it is given back again: said, not extended.
    Certificate.objects.filter(pk=new.pk).update(expires_at=timezone.now() - timedelta(days=3))
    services.revoke(new, "Erreur de manipulation", by=staff)
    new.refresh_from_db()
    client.force_login(staff)
    confirmation = client.get(f"/cms-admin/certificates/{new.pk}/restore/").text
    assert 'data-testid="confirm-warning"' in confirmation  # said before the click
    response = client.post(f"/cms-admin/certificates/{new.pk}/restore/", follow=True)
    restored = Certificate.objects.get(learner=camille, award=setting.module_award, pk__gt=new.pk)
    assert restored.expires_at == new.expires_at
    assert restored.is_expired
    assert f"{restored.code} garde la fin de validité de {new.code}" in response.text


def test_an_award_is_not_given_back_to_a_holder_who_no_longer_meets_it(client, staff, certificate):
    services.revoke(certificate, "Fraude", by=staff)  # Camille never completed the module
    client.force_login(staff)
    response = client.post(f"/cms-admin/certificates/{certificate.pk}/restore/", follow=True)
    assert "ne remplit plus les conditions" in response.text
    assert not Certificate.objects.valid().filter(award=certificate.award).exists()


def test_an_older_revocation_is_not_undone_over_a_later_one(client, staff, setting, camille):
    from learners.models import ModuleCompletion

    ModuleCompletion.objects.create(learner=camille, module=setting.basics)
    first, _ = services.issue(camille, setting.module_award, render=False)
    services.revoke(first, "Erreur de manipulation", by=staff)
    second = services.restore(first, by=staff)
    services.revoke(second, "Fraude constatée", by=staff)
    client.force_login(staff)

    listing = client.get(reverse("certification_certificate:index")).text
    response = client.post(f"/cms-admin/certificates/{first.pk}/restore/", follow=True)

    assert f"/certificates/{first.pk}/restore/" not in listing
    assert f"/certificates/{second.pk}/restore/" in listing
    assert "plus récent" in response.text
    assert not Certificate.objects.valid().filter(learner=camille).exists()


def _choose_time_zone(client, zone: str) -> None:
    """Post the account page as a staff member would, choosing `zone` if she can."""
    page = BeautifulSoup(client.get(reverse("wagtailadmin_account")).content, "html.parser")
    form = page.select_one("form[method=post]")
    data = {}
    for field in form.select("input[name], select[name], textarea[name]"):
        if field.name == "select":
            chosen = field.select_one("option[selected]") or field.select_one("option")
            data[field["name"]] = chosen["value"] if chosen else ""
        elif field.get("type") not in ("checkbox", "radio") or field.has_attr("checked"):
            data[field["name"]] = field.get("value", field.get_text())
    data.update({"name_email-first_name": "Sam", "name_email-last_name": "Équipe"})
    data["locale-current_time_zone"] = zone
    assert client.post(reverse("wagtailadmin_account"), data).status_code == 302


def test_a_reissue_from_far_away_is_dated_by_the_platform_calendar(
    client, staff, camille, certificate, monkeypatch, django_capture_on_commit_callbacks
):
    client.force_login(staff)
    _choose_time_zone(client, "Pacific/Tahiti")
    # 07:00 UTC: the 25th in Paris, still the 24th in Papeete.
    moment = datetime(2026, 11, 25, 7, tzinfo=UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    camille.full_name = "Camille Martin-Durand"
    camille.save()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/cms-admin/certificates/{certificate.pk}/reissue/")

    certificate.refresh_from_db()
    assert certificate.superseded_by.context["issued_on"] == "2026-11-25"


def test_staff_are_offered_no_time_zone_of_their_own(client, staff):
    client.force_login(staff)
    page = client.get(reverse("wagtailadmin_account"))
    assert page.status_code == 200
    assert 'name="locale-current_time_zone"' not in page.content.decode()


def test_a_time_zone_chosen_before_is_forgotten(staff):
    from importlib import import_module

    from django.apps import apps
    from wagtail.users.models import UserProfile

    profile = UserProfile.get_for_user(staff)
    profile.current_time_zone = "Pacific/Tahiti"
    profile.save()
    migration = import_module("learners.migrations.0024_staff_share_the_platform_time_zone")

    migration.forget_time_zones(apps, None)

    assert UserProfile.get_for_user(staff).get_current_time_zone() == "Europe/Paris"
