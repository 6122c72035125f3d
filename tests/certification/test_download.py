"""Only the holder and staff download a certificate; everyone else learns nothing."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from certification import keys, services
from certification.models import Certificate
from learners.models import User
from tests.conftest import make_user


@pytest.fixture
def certificate(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.module_award, render=False)
    services.render(certificate.pk)
    certificate.refresh_from_db()
    return certificate


def test_the_holder_downloads_the_pdf_as_an_attachment_named_with_the_code(
    client, camille, certificate
):
    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificat-{certificate.code}.pdf"'
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_the_holder_gets_no_fresh_copy_of_a_revoked_certificate_and_staff_still_do(
    client, camille, staff, certificate
):
    services.revoke(certificate, "Délivré par erreur.", by=staff)
    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 410
    assert 'data-testid="pdf-revoked"' in response.text
    assert reverse("certification:verify", args=[certificate.code]) in response.text
    client.force_login(staff)
    assert client.get(certificate.get_pdf_url()).status_code == 200


def test_the_holder_of_a_superseded_certificate_is_led_to_the_new_one(
    client, camille, staff, certificate, django_capture_on_commit_callbacks
):
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    with django_capture_on_commit_callbacks(execute=True):
        new = services.reissue(certificate, by=staff)
    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 410
    assert new.get_pdf_url() in response.text
    assert client.get(new.get_pdf_url()).status_code == 200


def test_staff_download_any_certificate(client, staff, certificate):
    client.force_login(staff)
    assert client.get(certificate.get_pdf_url()).status_code == 200


def test_being_staff_without_the_certificates_permission_downloads_nothing(
    client, certificate, settings, tmp_path
):
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    keys.generate()
    operator = make_user("ops@example.org", "Opérations", is_staff=True)
    credential = reverse("certification:openbadges_credential", kwargs={"pk": certificate.pk})
    client.force_login(operator)
    assert client.get(certificate.get_pdf_url()).status_code == 404
    assert client.get(credential).status_code == 404

    operator.user_permissions.add(Permission.objects.get(codename="change_certificate"))
    operator = User.objects.get(pk=operator.pk)  # permissions are cached on the instance
    client.force_login(operator)
    assert client.get(certificate.get_pdf_url()).status_code == 200
    assert client.get(credential).status_code == 200


def test_another_learner_gets_a_404_not_a_403(client, dominique, certificate):
    client.force_login(dominique)
    assert client.get(certificate.get_pdf_url()).status_code == 404


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, certificate):
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 302
    assert response.url.startswith("/comptes/login/")


def test_a_certificate_still_rendering_is_not_downloadable_yet(client, setting, camille):
    pending, _ = services.issue(camille, setting.block_award, render=False)
    client.force_login(camille)
    assert client.get(pending.get_pdf_url()).status_code == 404


def test_while_its_pdf_is_produced_again_the_holder_downloads_the_copy_it_replaces(
    client, camille, certificate
):
    issued = b"".join(certificate.pdf.open("rb"))
    services.regenerate_pdf(certificate)  # its render is queued on commit, never run here
    certificate.refresh_from_db()
    assert not certificate.is_rendered

    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == issued
    assert response["Content-Disposition"].endswith(f'filename="{certificate.filename}"')
    dashboard = client.get(reverse("learners:dashboard")).text
    assert f'href="{certificate.get_pdf_url()}"' in dashboard
    assert 'data-testid="certificate-rendered-again"' in dashboard
    assert 'data-testid="certificate-pending"' not in dashboard


def test_a_new_render_the_storage_refuses_leaves_the_holder_her_copy(
    client, camille, certificate, monkeypatch
):
    issued = b"".join(certificate.pdf.open("rb"))
    services.regenerate_pdf(certificate)
    real_save, saves = default_storage.save, []

    def refused(name, content, **kwargs):
        saves.append(name)
        if len(saves) == 1:  # the new render; putting the copy back is allowed
            raise OSError("storage unavailable")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", refused)
    with pytest.raises(OSError):
        services.render(certificate.pk)
    assert saves == [certificate.storage_name] * 2

    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == issued


def test_a_new_render_stored_but_not_yet_recorded_is_not_handed_out(client, camille, certificate):
    services.regenerate_pdf(certificate)
    certificate.refresh_from_db()
    # A worker stored its file and has not recorded its hash yet (or died doing so).
    default_storage.delete(certificate.storage_name)
    default_storage.save(certificate.storage_name, ContentFile(b"%PDF-1.7 unrecorded"))
    client.force_login(camille)
    assert client.get(certificate.get_pdf_url()).status_code == 404
    default_storage.delete(certificate.storage_name)
    assert client.get(certificate.get_pdf_url()).status_code == 404


def test_the_dashboard_lists_the_holders_certificates_with_their_download_links(
    client, setting, camille, dominique, certificate
):
    pending, _ = services.issue(camille, setting.block_award, render=False)
    client.force_login(camille)
    html = client.get("/moi/parcours/").content.decode()
    assert f'data-code="{certificate.code}"' in html
    assert f'href="{certificate.get_pdf_url()}"' in html
    assert f'data-code="{pending.code}"' in html
    assert 'data-testid="certificate-pending"' in html

    client.force_login(dominique)
    html = client.get("/moi/parcours/").content.decode()
    assert certificate.code not in html
    assert 'data-testid="certificate-list"' not in html


def test_the_dashboard_offers_each_certificate_as_an_open_badge_to_download(
    client, setting, camille, certificate, settings, tmp_path
):
    settings.OPENBADGES_KEY_PATH = tmp_path / "keys" / "openbadges-issuer.jwk"
    keys.generate()
    pending, _ = services.issue(camille, setting.block_award, render=False)
    client.force_login(camille)
    html = client.get("/moi/parcours/").content.decode()
    for held in (certificate, pending):  # the badge does not wait for the PDF
        credential = reverse("certification:openbadges_credential", kwargs={"pk": held.pk})
        link = re.search(rf'<a href="{re.escape(credential)}"([^>]*)>(.*?)</a>', html)
        assert link is not None, held.award.title
        # No `download`: an error page (410, 503, a login) must show, not be saved.
        assert " download" not in link.group(1)
        assert link.group(2).startswith("Badge numérique (Open Badges)")
        assert held.award.title in link.group(2)  # each link names its certificate
    assert html.count('data-testid="certificate-openbadge"') == 2

    credential = reverse("certification:openbadges_credential", kwargs={"pk": certificate.pk})
    response = client.get(credential)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")


def test_a_superseded_certificate_whose_successor_was_revoked_is_not_called_revoked(
    client, camille, staff, certificate
):
    camille.full_name = "Camille Martin-Durand"
    camille.save()
    new = services.reissue(certificate, by=staff)
    services.revoke(new, "Erreur.", by=staff)
    client.force_login(camille)
    response = client.get(certificate.get_pdf_url())
    assert response.status_code == 410
    assert 'data-testid="pdf-superseded"' in response.text
    assert 'data-testid="pdf-revoked"' not in response.text
    assert "plus valide non plus" in response.text


def test_the_holder_finds_the_verification_page_to_share_on_her_dashboard(
    client, camille, certificate
):
    client.force_login(camille)
    page = client.get(reverse("learners:dashboard")).text
    assert f'href="{reverse("certification:verify", args=[certificate.code])}"' in page
    assert "date de délivrance" in page
