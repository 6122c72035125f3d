"""Certificates in the holder's data export: learners builds it, certification fills it in."""

import io
import json
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from certification import services
from tests.conftest import signed_in_just_now
from tests.learners.test_personal_data import read_csv


def export(client, user) -> zipfile.ZipFile:
    signed_in_just_now(client, user)
    response = client.get("/moi/donnees/export.zip")
    assert response.status_code == 200
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_export_lists_the_holders_certificates_and_where_to_verify_them(
    client, camille, setting
):
    certificate, _ = services.issue(camille, setting.module_award, render=False)

    archive = export(client, camille)

    (row,) = read_csv(archive, "certificates.csv")
    assert row["code"] == certificate.code
    assert row["award"] == "Attestation — Les bases"
    assert row["holder_name"] == "Camille Martin"
    assert row["issued_at"] == certificate.issued_at.isoformat()
    assert row["status"] == "valid"
    assert row["verification_url"] == settings.SITE_URL + reverse(
        "certification:verify", kwargs={"code": certificate.code}
    )
    assert json.loads(archive.read("data.json"))["certificates"][0]["code"] == certificate.code
    assert "certificates.csv" in archive.read("README.txt").decode()


def test_the_export_gives_the_employer_a_certificate_froze(client, camille, setting, organisation):
    from learners.models import User

    User.objects.filter(pk=camille.pk).update(organisation=organisation)
    camille.refresh_from_db()
    services.issue(camille, setting.completion_award, render=False)

    (row,) = read_csv(export(client, camille), "certificates.csv")

    assert row["holder_organisation"] == organisation.name


def test_a_revoked_certificate_says_so_and_another_holders_is_absent(
    client, camille, dominique, staff, setting
):
    revoked, _ = services.issue(camille, setting.module_award, render=False)
    services.revoke(revoked, reason="Erreur de saisie.", by=staff)
    services.issue(dominique, setting.block_award, render=False)

    (row,) = read_csv(export(client, camille), "certificates.csv")

    assert (row["code"], row["status"], row["revocation_reason"]) == (
        revoked.code,
        "revoked",
        "Erreur de saisie.",
    )


def test_an_account_without_certificates_gets_an_empty_table(client, camille, setting):
    assert read_csv(export(client, camille), "certificates.csv") == []


@pytest.mark.parametrize("awards", [1, 4])
def test_certificates_cost_one_query_whatever_their_number(
    client, camille, setting, awards, django_assert_max_num_queries
):
    for award in [
        setting.module_award,
        setting.block_award,
        setting.certification_award,
        setting.completion_award,
    ][:awards]:
        services.issue(camille, award, render=False)
    signed_in_just_now(client, camille)

    with django_assert_max_num_queries(28):
        response = client.get("/moi/donnees/export.zip")

    rows = json.loads(
        zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).read("data.json")
    )
    assert len(rows["certificates"]) == awards
