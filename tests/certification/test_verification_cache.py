"""The cached verification page: every lifecycle change shows at once, the rate
limit still counts every lookup, and each visitor keeps their own CSRF token."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certification import services, verification_cache, verification_views
from certification.models import Certificate, new_verification_code
from tests.cache_expiry import seconds_left
from tests.certification.verification_data import make_certificate, pdf_bytes
from tests.config.test_resilient_cache import round_trips

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def fresh_cache(settings, monkeypatch):
    cache.clear()
    settings.SITE_URL = "https://campus.example.org"
    settings.VERIFY_LOOKUPS_PER_MINUTE = 1000  # one frozen window for the whole test
    monkeypatch.setattr(verification_views, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    yield
    cache.clear()


@pytest.fixture
def issued(setting, camille) -> Certificate:
    certificate, _ = services.issue(camille, setting.certification_award, render=False)
    return certificate


def statuses(client, certificate) -> dict[str, str]:
    """What the page, its JSON and the Open Badges status endpoint say, each read
    twice (the second read of the page and the JSON comes from the cache)."""
    seen: dict[str, set] = {"page": set(), "json": set(), "openbadges": set()}
    for _ in range(2):
        page = client.get(reverse("certification:verify", args=[certificate.code]))
        seen["page"].add(re.search(r'data-status="(\w+)"', page.content.decode()).group(1))
        data = client.get(reverse("certification:verify_json", args=[certificate.code])).json()
        seen["json"].add(data["status"])
        badge = client.get(reverse("certification:openbadges_status", args=[certificate.code]))
        seen["openbadges"].add(badge.json()["status"])
    assert all(len(values) == 1 for values in seen.values()), seen
    return {name: values.pop() for name, values in seen.items()}


def same_everywhere(status: str) -> dict[str, str]:
    return {"page": status, "json": status, "openbadges": status}


def test_every_lifecycle_change_shows_at_once_on_the_page_its_json_and_the_badge_status(
    client, issued, staff
):
    assert statuses(client, issued) == same_everywhere("valid")

    assert services.render(issued.pk) is services.RenderOutcome.RENDERED
    issued.refresh_from_db()
    page = client.get(reverse("certification:verify", args=[issued.code])).content.decode()
    assert f'data-field="sha256">{issued.pdf_sha256}<' in page

    services.regenerate_pdf(issued)  # the PDF is forgotten until the next render
    page = client.get(reverse("certification:verify", args=[issued.code])).content.decode()
    assert 'data-field="sha256"' not in page
    services.render(issued.pk)

    issued.learner.full_name = "Camille Martin-Durand"  # a name corrected
    issued.learner.save()
    successor = services.reissue(issued, by=staff)
    assert statuses(client, issued) == same_everywhere("superseded")
    page = client.get(reverse("certification:verify", args=[issued.code])).content.decode()
    assert reverse("certification:verify", args=[successor.code]) in page
    assert statuses(client, successor) == same_everywhere("valid")

    assert services.revoke(successor, "Fraude à l'évaluation constatée.", by=staff)
    assert statuses(client, successor) == same_everywhere("revoked")
    data = client.get(reverse("certification:verify_json", args=[successor.code])).json()
    assert data["reason"] == "Fraude à l'évaluation constatée."


def test_a_certificate_cached_while_valid_reads_expired_once_its_date_has_passed(
    client, camille, monkeypatch
):
    expires_at = timezone.now() + timedelta(days=1)
    certificate = make_certificate(camille, expires_at=expires_at)
    assert statuses(client, certificate) == same_everywhere("valid")

    later = expires_at + timedelta(seconds=1)
    monkeypatch.setattr(timezone, "now", lambda: later)
    assert statuses(client, certificate) == same_everywhere("expired")


def test_an_admin_save_is_seen_at_once(client, camille):
    certificate = make_certificate(camille)
    assert statuses(client, certificate)["page"] == "valid"
    certificate.status = Certificate.Status.REVOKED
    certificate.revocation_reason = "Erreur de saisie."
    certificate.save()
    assert statuses(client, certificate) == same_everywhere("revoked")


def test_an_entry_read_just_before_a_change_is_never_served_after_it(client, issued, staff):
    # A request reads the valid row; the revocation commits; that request then
    # stores what it read. The next visitor must still see the revocation.
    late = verification_cache.lookup(issued.code)
    services.revoke(issued, "Fraude à l'évaluation constatée.", by=staff)
    verification_cache.remember(late)
    assert statuses(client, issued) == same_everywhere("revoked")


def test_a_cached_page_runs_no_query_and_still_counts_against_the_rate_limit(
    client, camille, settings, django_assert_num_queries
):
    settings.VERIFY_LOOKUPS_PER_MINUTE = 3
    certificate = make_certificate(camille)
    url = reverse("certification:verify", args=[certificate.code])
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    assert (
        client.get(reverse("certification:verify_json", args=[certificate.code])).status_code == 200
    )
    assert client.get(url).status_code == 429


def test_on_redis_a_cached_page_costs_one_round_trip_counting_and_reading_at_once(
    client, camille, live_redis_cache, monkeypatch, django_assert_num_queries
):
    certificate = make_certificate(camille)
    url = reverse("certification:verify", args=[certificate.code])
    first = client.get(url)
    sent = round_trips(monkeypatch)

    with django_assert_num_queries(0):
        second = client.get(url)

    assert second.status_code == 200
    assert TOKEN.sub("", second.content.decode()) == TOKEN.sub("", first.content.decode())
    assert len(sent) == 1


def test_an_unknown_code_is_looked_up_every_time_and_never_cached(client, db):
    code = new_verification_code()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("certification:verify", args=[code])).status_code == 404
        lookups = [q for q in queries if '"certification_certificate"' in q["sql"]]
        assert len(lookups) == 1
    assert cache.get(verification_cache.key(code, "fr")) is None


def test_each_visitor_gets_their_own_csrf_token_and_it_checks_their_pdf(camille):
    pdf = pdf_bytes()
    certificate = make_certificate(camille, pdf=pdf)
    url = reverse("certification:verify", args=[certificate.code])
    first, second = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    first_page, second_page = first.get(url), second.get(url)  # the second from the cache
    tokens = [TOKEN.findall(page.content.decode()) for page in (first_page, second_page)]
    # The language switch and the PDF form, each with the visitor's own token.
    assert len(tokens[0]) == len(tokens[1]) == 2
    assert len(set(tokens[0])) == len(set(tokens[1])) == 1
    assert tokens[0][0] != tokens[1][0]
    assert "csrftoken" in second_page.cookies
    response = second.post(
        url,
        {
            "pdf": SimpleUploadedFile("certificat.pdf", pdf, "application/pdf"),
            "csrfmiddlewaretoken": tokens[1][0],
        },
    )
    assert response.status_code == 200
    assert response.context["pdf_check"] == "authentic"


def test_a_signed_in_visitor_gets_their_own_page_not_the_shared_one(client, camille, dominique):
    certificate = make_certificate(camille)
    url = reverse("certification:verify", args=[certificate.code])
    anonymous = client.get(url).content.decode()
    client.force_login(dominique)
    signed_in = client.get(url).content.decode()
    logout = reverse("account_logout")
    assert logout not in anonymous
    assert logout in signed_in
    assert 'data-status="valid"' in signed_in


def test_a_lost_generation_is_reported_and_the_entry_lives_five_minutes_at_most(
    client, issued, monkeypatch, caplog
):
    client.get(reverse("certification:verify", args=[issued.code]))
    assert 0 < seconds_left(verification_cache.key(issued.code, "fr")) <= 300

    # What ResilientRedisCache answers when Redis fails the write (the suite may
    # run on either backend: CACHE_URL).
    def failed(data, *args, **kwargs) -> list:
        return list(data)

    monkeypatch.setattr(cache, "set_many", failed)
    monkeypatch.setattr(cache, "set_many_now", failed, raising=False)
    verification_cache.forget(issued.code)

    assert any(
        record.levelname == "ERROR" and record.name == "config.cache" for record in caplog.records
    )
