"""Security headers on public pages, and django-axes' login throttling through allauth.

`manage.py check --deploy` is tested in tests/config/test_settings.py.
"""

import re

import pytest
from django.urls import reverse

from learners.models import User

PASSWORD = "campus-test-password"  # tests/conftest.py's make_user


@pytest.fixture
def public_urls(world) -> list[str]:
    return [
        world.home.url,
        reverse("courses:catalogue"),
        world.track.url,
        world.module.url,
        world.lesson.url,
        reverse("courses:framework", args=[world.framework.code]),
        reverse("certification:verify_form"),
        reverse("certification:verify", args=[world.certificate.code]),
        reverse("account_login"),
        reverse("account_signup"),
        reverse("organisations:agent_signup"),
        reverse("accessibility"),
        reverse("legal_notice"),
        reverse("privacy"),
        "/page-qui-n-existe-pas/",
    ]


def directives(header: str) -> dict[str, list[str]]:
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


def test_every_public_page_sends_the_security_headers(client, public_urls):
    for url in public_urls:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        policy = directives(response["Content-Security-Policy"])
        assert policy["default-src"] == ["'self'"], url
        assert policy["object-src"] == ["'none'"], url
        assert policy["base-uri"] == ["'self'"], url
        assert policy["form-action"] == ["'self'"], url
        assert "'unsafe-inline'" not in policy["script-src"], url
        assert "'unsafe-eval'" not in policy["script-src"], url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["X-Frame-Options"] == "DENY", url


def test_no_public_page_carries_an_inline_script_or_event_handler(client, public_urls):
    # With script-src 'self' (and a nonce only when a template asks for one), an
    # inline script or an onclick= would silently stop working: keep them out.
    for url in public_urls:
        response = client.get(url)
        html = response.content.decode()
        nonces = {
            source[7:-1]
            for source in directives(response["Content-Security-Policy"])["script-src"]
            if source.startswith("'nonce-")
        }
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or any(f'nonce="{n}"' in tag for n in nonces), (url, tag)
        assert re.findall(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", html) == [], url


def test_the_progress_pages_poll_with_a_script_file_the_policy_allows(client, world, helene, staff):
    for person, url in (
        (helene, reverse("organisations:batch_progress", args=[world.batch.pk])),
        (staff, reverse("certification:bulk_progress", args=[world.bulk.pk])),
    ):
        client.force_login(person)
        response = client.get(url)
        html = response.content.decode()
        assert "task-progress.js" in html
        assert "<script>" not in html
        assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_the_wagtail_admin_keeps_the_inline_scripts_it_still_needs(client, world, staff):
    client.force_login(staff)
    response = client.get(reverse("wagtailadmin_pages:edit", args=[world.lesson.pk]))
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" in policy["script-src"]
    assert policy["object-src"] == ["'none'"]


# --- Login throttling ----------------------------------------------------------------------


def login(client, email: str, password: str):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def test_after_too_many_failures_even_the_right_password_is_refused(client, camille, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        assert login(client, camille.email, "wrong-password").status_code in (200, 429)
    response = login(client, camille.email, PASSWORD)
    assert response.status_code == 429  # axes' AXES_HTTP_RESPONSE_CODE
    assert "account/lockout.html" in [t.name for t in response.templates]
    assert "_auth_user_id" not in client.session


def test_a_locked_account_does_not_lock_the_site(client, camille, dominique, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, camille.email, "wrong-password")
    # Same address, another account: axes locks the (username, IP) pair only.
    response = login(client, dominique.email, PASSWORD)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == dominique.pk
    client.logout()
    assert client.get(reverse("courses:catalogue")).status_code in (200, 404)
    assert client.get(reverse("account_login")).status_code == 200


def test_failures_below_the_limit_still_let_the_right_password_in(client, camille, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        login(client, camille.email, "wrong-password")
    assert login(client, camille.email, PASSWORD).status_code == 302
    assert User.objects.get(pk=client.session["_auth_user_id"]) == camille


def test_changing_the_case_of_the_address_earns_no_fresh_attempts(client, camille, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        variant = camille.email.upper() if n % 2 else camille.email.capitalize()
        login(client, variant, "wrong-password")
    assert login(client, camille.email, PASSWORD).status_code == 429
