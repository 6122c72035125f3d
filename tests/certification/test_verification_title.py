"""Each verification page's title names the award verified and its status, and nothing more."""

import html
import re
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.urls import reverse

from certification import verification_views
from certification.models import new_verification_code
from tests.certification.verification_data import make_award, make_certificate, revoke

SUFFIX = " · Campus Tiers-Lieux"


@pytest.fixture(autouse=True)
def fresh_cache(settings, monkeypatch):
    cache.clear()
    settings.VERIFY_LOOKUPS_PER_MINUTE = 1000
    monkeypatch.setattr(verification_views, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    yield
    cache.clear()


def title_of(client, path: str) -> str:
    page = client.get(path).content.decode()
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1))


def verify_url(certificate) -> str:
    return reverse("certification:verify", kwargs={"code": certificate.code})


def test_each_certificate_page_is_titled_with_its_award_and_status(client, camille):
    certification = make_certificate(camille)
    module = make_certificate(camille, make_award(title="Attestation « Les bases »"))
    assert title_of(client, verify_url(certification)) == (
        "Facilitateur·rice de tiers-lieux — certificat valide — Vérification d'un certificat"
        + SUFFIX
    )
    assert title_of(client, verify_url(module)).startswith(
        "Attestation « Les bases » — certificat valide — "
    )
    assert "Camille" not in title_of(client, verify_url(module))  # as in the page's heading


def test_the_cached_page_changes_its_title_when_the_certificate_is_revoked(
    client, camille, settings
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    certificate = make_certificate(camille)
    valid = "Facilitateur·rice de tiers-lieux — valid certificate — Certificate verification"
    assert title_of(client, verify_url(certificate)) == valid + SUFFIX
    assert title_of(client, verify_url(certificate)) == valid + SUFFIX  # from the cache
    revoke(certificate)
    assert title_of(client, verify_url(certificate)) == (
        "Facilitateur·rice de tiers-lieux — revoked certificate — Certificate verification" + SUFFIX
    )


def test_an_award_title_with_markup_is_escaped_in_the_page_title(client, camille):
    certificate = make_certificate(camille, make_award(title="<script>x</script> & co"))
    page = client.get(verify_url(certificate)).content.decode()
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "<script>" not in title
    assert title.startswith("&lt;script&gt;x&lt;/script&gt; &amp; co — ")


def test_an_unknown_code_keeps_the_ordinary_404_title(client, camille):
    make_certificate(camille)
    unknown = reverse("certification:verify", kwargs={"code": new_verification_code()})
    response = client.get(unknown)
    assert response.status_code == 404
    assert title_of(client, unknown) == title_of(client, "/cette-page-n-existe-pas/")
